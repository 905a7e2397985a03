"""Bringing a database made by an earlier ingest up to date, in place."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, Table, inspect, text

from .tables import outbox, raw_outbox, seen_events, uploads
from .transaction import legacy_scope


def add_columns(engine: Engine, table: Table, names: Sequence[str]) -> None:
    """Add columns made after the table (typed from its declaration) to an existing table."""
    found = inspect(engine)
    if not found.has_table(table.name):
        return
    have = {c["name"] for c in found.get_columns(table.name)}
    missing = [c for c in names if c not in have]
    with engine.begin() as conn:
        for name in missing:
            column = table.c[name]
            kind = column.type.compile(dialect=engine.dialect)
            extra = "" if column.nullable else " NOT NULL DEFAULT FALSE"  # only `sent`
            conn.execute(text(f"ALTER TABLE {table.name} ADD COLUMN {name} {kind}{extra}"))


def upgrade(engine: Engine) -> None:
    """Bring a database made by an earlier ingest up to date: the durable-record columns and
    the sender's key id on the outboxes and partner event ids, and Idempotency-Key answers
    kept per key rather than per partner name."""
    for table in (outbox, raw_outbox):
        add_columns(engine, table, ("sent", "created_at", "sent_at", "parked", "key_id"))
    add_columns(engine, seen_events, ("key_id",))
    found = inspect(engine)
    if found.has_table(uploads.name) and "key_id" not in {
        c["name"] for c in found.get_columns(uploads.name)
    }:
        _rekey_uploads(engine)


def _rekey_uploads(engine: Engine) -> None:
    """The answers table keyed by (partner, Idempotency-Key) becomes keyed by (key id, ...):
    copied into the new table, each old answer under its partner's legacy scope."""
    old = f"{uploads.name}_by_partner"
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {uploads.name} RENAME TO {old}"))
        if conn.dialect.name == "postgresql":  # the key's index keeps its name otherwise
            conn.execute(
                text(f"ALTER TABLE {old} RENAME CONSTRAINT {uploads.name}_pkey TO {old}_pkey")
            )
        uploads.create(conn)
        names = "partner, idempotency_key, request_hash, status, receipt, created_at"
        for partner in list(conn.scalars(text(f"SELECT DISTINCT partner FROM {old}"))):
            conn.execute(
                text(
                    f"INSERT INTO {uploads.name} (key_id, {names}) "
                    f"SELECT :scope, {names} FROM {old} WHERE partner = :partner"
                ),
                {"scope": legacy_scope(partner), "partner": partner},
            )
        conn.execute(text(f"DROP TABLE {old}"))
