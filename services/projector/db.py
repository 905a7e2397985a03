"""Engine creation for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, make_url

from .migrate import upgrade
from .tables import metadata


def make_engine(url: str) -> Engine:
    """An engine for the read model; creates the SQLite file's folder if needed."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        engine = create_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _wal(dbapi_conn: Any, _record: Any) -> None:
            # WAL lets dashboards read while the projector writes.
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA synchronous=NORMAL")

        return engine
    return create_engine(url, pool_pre_ping=True)


def create_schema(engine: Engine) -> None:
    """Bring the schema up to date: Alembic on PostgreSQL, metadata on SQLite (idempotent)."""
    upgrade(engine)
    if engine.dialect.name == "sqlite":
        found = inspect(engine)
        for table in metadata.sorted_tables:
            have = {c["name"] for c in found.get_columns(table.name)}
            missing = sorted({c.name for c in table.columns} - have)
            if missing:
                raise RuntimeError(
                    f"{engine.url.database}: table {table.name} lacks {', '.join(missing)} "
                    "(an older read model). Delete the file and restart the projector: it "
                    "rebuilds every table from the topics."
                )
