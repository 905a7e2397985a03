"""Set-based writes for the projector's big tables, without per-row work in SQLAlchemy.

PostgreSQL: one `INSERT ... SELECT FROM unnest(<one array per column>) ON CONFLICT` per
table per batch, a single round trip whatever the row count. SQLite: one executemany of
plain tuples (in-process, so no round trips to save). The SQL text is built once per table,
columns and mode; values go through the column types' own bind processors, so the stored
values are exactly those SQLAlchemy would store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal

from sqlalchemy import Connection, Table
from sqlalchemy.engine import Dialect

Mode = Literal["nothing", "replace", "max"]
Row = dict[str, Any]


def _set(q: Callable[[str], str], table: str, mode: Mode, col: str) -> str:
    c = q(col)
    if mode == "max":  # keep the larger value: replays and reordering change nothing
        return f"{c} = CASE WHEN excluded.{c} > {table}.{c} THEN excluded.{c} ELSE {table}.{c} END"
    return f"{c} = excluded.{c}"


@lru_cache(maxsize=64)
def _sql(dialect: Dialect, table: Table, columns: tuple[str, ...], mode: Mode) -> str:
    q = dialect.identifier_preparer.quote
    name = q(table.name)
    keys = [c.name for c in table.primary_key.columns]
    cols = ", ".join(q(c) for c in columns)
    if dialect.name == "postgresql":
        arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect=dialect)}[]" for c in columns)
        source = f"SELECT * FROM unnest({arrays})"
    else:
        source = f"VALUES ({', '.join('?' for _ in columns)})"
    sql = f"INSERT INTO {name} ({cols}) {source} ON CONFLICT ({', '.join(q(k) for k in keys)}) "
    updates = [c for c in columns if c not in keys]
    if mode == "nothing" or not updates:
        return sql + "DO NOTHING"
    return sql + "DO UPDATE SET " + ", ".join(_set(q, name, mode, c) for c in updates)


@lru_cache(maxsize=64)
def _processors(
    dialect: Dialect, table: Table, columns: tuple[str, ...]
) -> tuple[Callable[[Any], Any] | None, ...]:
    return tuple(table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns)


def write(conn: Connection, table: Table, rows: Sequence[Row], mode: Mode) -> None:
    """Insert rows (all with the same keys); on a primary-key conflict do nothing, replace
    the columns the rows carry, or keep the larger value of each. Keys must be unique
    within `rows` (PostgreSQL cannot update one row twice in a statement)."""
    if not rows:
        return
    dialect = conn.dialect
    columns = tuple(rows[0])
    sql = _sql(dialect, table, columns, mode)
    processors = _processors(dialect, table, columns)
    values = [[row[c] for row in rows] for c in columns]
    for i, process in enumerate(processors):
        if process is not None:
            values[i] = [None if v is None else process(v) for v in values[i]]
    if dialect.name == "postgresql":
        conn.exec_driver_sql(sql, tuple(values))
    else:
        conn.exec_driver_sql(sql, list(zip(*values, strict=True)))


@lru_cache(maxsize=64)
def _max_sql(dialect: Dialect, table: Table, key: str, column: str) -> str:
    q = dialect.identifier_preparer.quote
    t, k, c = q(table.name), q(key), q(column)
    if dialect.name == "postgresql":
        types = (
            table.c[key].type.compile(dialect=dialect),
            table.c[column].type.compile(dialect=dialect),
        )
        return (
            f"UPDATE {t} SET {c} = GREATEST({t}.{c}, v.x) "
            f"FROM unnest(%s::{types[0]}[], %s::{types[1]}[]) AS v(k, x) WHERE {t}.{k} = v.k"
        )
    return (
        f"UPDATE {t} SET {c} = CASE WHEN {c} IS NULL OR ? > {c} THEN ? ELSE {c} END WHERE {k} = ?"
    )


def raise_to(conn: Connection, table: Table, key: str, column: str, values: dict[Any, Any]) -> None:
    """Set column to the larger of its value and values[key] (NULL counts as smallest), in
    the rows whose key is in values; rows that do not exist are left alone."""
    if not values:
        return
    dialect = conn.dialect
    sql = _max_sql(dialect, table, key, column)
    process = _processors(dialect, table, (column,))[0] or (lambda v: v)
    if dialect.name == "postgresql":
        conn.exec_driver_sql(sql, (list(values), [process(v) for v in values.values()]))
    else:
        conn.exec_driver_sql(sql, [(process(v), process(v), k) for k, v in values.items()])
