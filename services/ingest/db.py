"""Ingest's databases: the identity store (UPNs and names) and, later, the outbox."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url

from flagstream import identity
from flagstream.schema import create_tables


def make_engine(url: str) -> Engine:
    """An engine for SQLite (folder created, WAL) or PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(str(parsed.database)).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.execute("PRAGMA journal_mode=WAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


def identity_writer(engine: Engine) -> Callable[[list[identity.Identity]], None]:
    """Creates the identity table if missing; returns a function that records identities."""
    create_tables(identity.metadata, engine)

    def write(people: list[identity.Identity]) -> None:
        # One row per child per statement (PostgreSQL refuses to upsert a key twice at once).
        latest = {p.child_key: p for p in people}
        with engine.begin() as conn:
            identity.record(conn, latest.values())

    return write
