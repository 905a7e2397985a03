"""The ledger's counts, added in the caller's transaction: records received, accepted,
rejected and published per source, day and kind, and requests refused whole."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite

from .tables import COUNTS, ledger, refusals


def dialect_insert(conn: Connection, table: Table) -> Any:
    inserts = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
    return inserts[conn.dialect.name](table)


def add_counts(conn: Connection, source: str, day: date, kind: str, **counts: int) -> None:
    """Add to one ledger row, creating it if needed."""
    row = {"source": source, "day": day, "kind": kind, **dict.fromkeys(COUNTS, 0), **counts}
    stmt = dialect_insert(conn, ledger)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "day", "kind"],
        set_={name: ledger.c[name] + stmt.excluded[name] for name in counts},
    )
    conn.execute(stmt, [row])


def add_refusal(conn: Connection, source: str, day: date, kind: str, reason: str) -> None:
    """Count one refused request."""
    stmt = dialect_insert(conn, refusals)
    stmt = stmt.on_conflict_do_update(
        index_elements=["source", "day", "kind", "reason"],
        set_={"requests": refusals.c.requests + 1},
    )
    conn.execute(
        stmt, [{"source": source, "day": day, "kind": kind, "reason": reason, "requests": 1}]
    )
