"""The alerts database: the notifier's sent ledger and inbox, users' preferences and visits."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, MetaData

from . import alerts
from .databases import Database, upgrade
from .schema import create_tables


def _metadata() -> MetaData:
    return alerts.metadata


DATABASE = Database(
    "alerts",
    "alerts_database_url",
    Path(__file__).parent / "alerts_migrations",
    "alembic_version_alerts",
    "owner",
    _metadata,
)


def prepare(engine: Engine) -> None:
    """Bring the alerts database up to date; the notifier and the dashboard both call it
    at start, so on SQLite a table created by the other meanwhile is tolerated."""
    if engine.dialect.name == "sqlite":
        create_tables(alerts.metadata, engine)
    else:
        upgrade(DATABASE, engine)
