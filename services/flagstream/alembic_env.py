"""The body of every Alembic env.py but the read model's: migrate the connection it is given
(or its URL), recording the revision in that database's own version table."""

from __future__ import annotations

from alembic import context
from sqlalchemy import MetaData

from .engine import make_engine


def run_migrations(metadata: MetaData) -> None:
    """Run the migrations of the script directory that called this, online."""
    config = context.config
    version_table = config.get_main_option("version_table") or "alembic_version"
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=metadata, version_table=version_table
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=metadata, version_table=version_table)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
