"""The read model's database: Alembic migrations on PostgreSQL, create_all on SQLite."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData

from flagstream.databases import Database
from flagstream.databases import upgrade as upgrade_database

from . import flag_views
from .tables import metadata


def _metadata() -> MetaData:
    return metadata


DATABASE = Database(
    "read_model",
    "database_url",
    Path(__file__).parent / "migrations",
    "alembic_version",
    "owner",
    _metadata,
    flag_views.refresh,
)


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent); SQLite, the embedded default
    rebuilt from the topics when the schema changes, is created from the metadata; the flag
    column views are made again when the flag catalogue changed (no migration)."""
    upgrade_database(DATABASE, engine)
    flag_views.ensure(engine)
