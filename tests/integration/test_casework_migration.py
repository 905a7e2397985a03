"""Revision 0003 builds the case work tables on PostgreSQL exactly as casework_tables says."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from dashboard import casework_tables
from flagstream.databases import upgrade
from flagstream.engine import make_engine
from flagstream_tools.databases import BY_NAME

TABLES = {"casework_cases", "casework_actions", "casework_reviews"}


def test_revision_0003_builds_the_casework_tables(postgres_url: str) -> None:
    db = BY_NAME["audit"]
    engine = make_engine(postgres_url)
    upgrade(db, engine)
    upgrade(db, engine)  # idempotent
    assert set(inspect(engine).get_table_names()) >= TABLES
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": db.version_table})
        found = [
            d for d in compare_metadata(context, db.metadata()) if any(t in repr(d) for t in TABLES)
        ]
    assert found == [], f"revision 0003 does not build {casework_tables.__name__}: {found}"
    engine.dispose()
