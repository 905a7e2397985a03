"""Schema management: Alembic migrations on PostgreSQL, create_all from metadata on SQLite."""

from __future__ import annotations

from pathlib import Path

from alembic.config import Config
from sqlalchemy import Engine

from flagstream.databases import BY_NAME
from flagstream.databases import upgrade as upgrade_database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config for this engine (no alembic.ini needed)."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    return config


def upgrade(engine: Engine) -> None:
    """Bring the schema to the latest revision (idempotent); SQLite, the embedded default
    rebuilt from the topics when the schema changes, is created from the metadata."""
    upgrade_database(BY_NAME["read_model"], engine)
