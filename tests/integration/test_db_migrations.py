"""Alembic covers every database: ingest's, the identity store, the audit log and the alerts
database each build exactly what their metadata describes, the first three adopt tables the
services made before, and each keeps its revisions in its own version table (so databases
may share a server, or even a database)."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DBAPIError

from flagstream.databases import Database, upgrade
from flagstream.engine import make_engine
from flagstream_tools.databases import BY_NAME, DATABASES

MIGRATED = [d for d in DATABASES if d.name != "read_model"]  # its own test: read_model_schema
# Databases whose services made their tables before Alembic did (the alerts database was born
# with its migrations, on PostgreSQL never made from the metadata: nothing to adopt).
ADOPTING = [d for d in MIGRATED if d.name != "alerts"]


def db_head(db: Database) -> str | None:
    """The latest revision of db's migrations."""
    return ScriptDirectory(str(db.migrations)).get_current_head()


def differences(db: Database, engine: Engine) -> list[object]:
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"version_table": db.version_table})
        return list(compare_metadata(context, db.metadata()))


@pytest.mark.parametrize("db", MIGRATED, ids=lambda d: d.name)
def test_migrations_build_the_metadata(db: Database, postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(db, engine)
    upgrade(db, engine)  # idempotent
    found = differences(db, engine)
    assert found == [], (
        f"the {db.name} migrations ({db.migrations}) do not build its metadata: write an Alembic "
        f"revision for {found}"
    )
    with engine.connect() as conn:
        assert conn.scalar(text(f"SELECT count(*) FROM {db.version_table}")) == 1
    engine.dispose()


@pytest.mark.parametrize("db", ADOPTING, ids=lambda d: d.name)
def test_tables_the_services_made_are_adopted(db: Database, postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    db.metadata().create_all(engine)  # as the services did before Alembic
    upgrade(db, engine)
    with engine.connect() as conn:
        assert conn.scalar(text(f"SELECT version_num FROM {db.version_table}")) == db_head(db)
    engine.dispose()


def test_every_database_can_share_one(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    for db in DATABASES:
        upgrade(db, engine)
    tables = set(inspect(engine).get_table_names())
    assert {d.version_table for d in DATABASES} <= tables
    engine.dispose()


def test_the_migrated_audit_log_refuses_update_delete_and_truncate(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    upgrade(BY_NAME["audit"], engine)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_log (at, username, role, action, page) "
                "VALUES (now(), 'u', 'admin', 'view_child', '/')"
            )
        )
    for statement in ("UPDATE audit_log SET username = 'x'", "DELETE FROM audit_log",
                      "TRUNCATE audit_log"):  # fmt: skip
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    engine.dispose()
