"""What every evidence query shares: the sensitive-flag filter, the scope, the rates.

The figures' own docstring (readmodel/evidence.py) says why sensitive flags are left out and
how zone and school narrow the rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Select

from flagstream.domain.rules import SENSITIVE

from .tables import schools


def _sensitive() -> list[str]:
    """The flags no aggregate may count (SAFEGUARD): the DSL of the school only."""
    return sorted(SENSITIVE)


def _rows(conn: Connection, query: Select[Any]) -> list[Any]:
    """The query's rows, typed loosely so they unpack (SQLite and PostgreSQL alike)."""
    return list(conn.execute(query))


def _rate(part: int, whole: int) -> float | None:
    """Per 100, one decimal; None when there is nothing to divide by."""
    return round(100 * part / whole, 1) if whole else None


def _scoped(query: Select[Any], zone: str | None, urn: str | None, col: Any) -> Select[Any]:
    """Narrow a query joined to schools to one zone or one school."""
    if urn is not None:
        query = query.where(col == urn)
    if zone is not None:
        query = query.where(schools.c.zone == zone)
    return query
