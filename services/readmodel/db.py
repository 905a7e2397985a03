"""Engine creation for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import Engine, inspect

from flagstream.engine import make_engine as _make_engine
from readmodel.migrate import upgrade
from readmodel.tables import metadata


def make_engine(url: str) -> Engine:
    """An engine for the read model (rebuilt from the log, so SQLite fsyncs less)."""
    return _make_engine(url, durable=False)


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
