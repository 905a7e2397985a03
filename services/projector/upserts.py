"""Upserts the projector needs beyond flagstream.upsert: partial columns and MAX merge."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Table, case
from sqlalchemy.dialects import postgresql, sqlite

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def _insert(conn: Connection, table: Table) -> Any:
    return _INSERTS[conn.dialect.name](table)


def upsert_columns(conn: Connection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows; on a key conflict update only the columns the rows carry."""
    if not rows:
        return
    stmt = _insert(conn, table)
    keys = {c.name for c in table.primary_key.columns}
    stmt = stmt.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={name: stmt.excluded[name] for name in rows[0] if name not in keys},
    )
    conn.execute(stmt, list(rows))


def upsert_max(
    conn: Connection, table: Table, rows: Sequence[dict[str, Any]], columns: Sequence[str]
) -> None:
    """Insert rows; on a key conflict keep the larger value of each column (idempotent)."""
    if not rows:
        return
    stmt = _insert(conn, table)
    keys = [c.name for c in table.primary_key.columns]
    stmt = stmt.on_conflict_do_update(
        index_elements=keys,
        set_={
            name: case(
                (stmt.excluded[name] > table.c[name], stmt.excluded[name]), else_=table.c[name]
            )
            for name in columns
        },
    )
    conn.execute(stmt, list(rows))
