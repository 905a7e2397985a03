"""The Alembic migration builds exactly the schema metadata.create_all builds."""

from __future__ import annotations

import importlib.util
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text

from flagstream.databases import alembic_config
from readmodel import flag_views
from readmodel.db import create_schema, make_engine
from readmodel.migrate import DATABASE
from readmodel.tables import VIEWS, metadata


def describe(engine: Engine) -> dict[str, Any]:
    """Tables, columns (type, nullability, comment), keys, indexes and views."""
    found = inspect(engine)
    tables = sorted(set(found.get_table_names()) - {"alembic_version"})
    return {
        "views": sorted(found.get_view_names()),
        "tables": {
            t: (
                [(c["name"], str(c["type"]), c["nullable"], c.get("comment"))
                 for c in found.get_columns(t)],
                found.get_pk_constraint(t)["constrained_columns"],
                sorted((i["name"], tuple(i["column_names"])) for i in found.get_indexes(t)),
            )
            for t in tables
        },
    }  # fmt: skip


def test_schema_matches_metadata_on_both_databases(database_url: str) -> None:
    engine = make_engine(database_url)
    create_schema(engine)
    create_schema(engine)  # idempotent
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
        for view in VIEWS:
            assert conn.execute(text(f"SELECT * FROM {view}")).all() == []
    flag_column_views = list(flag_views.expected_columns(()))  # made from the flag catalogue
    assert sorted(inspect(engine).get_view_names()) == sorted([*VIEWS, *flag_column_views])
    engine.dispose()


def test_migration_equals_create_all_on_postgresql(postgres_url: str) -> None:
    engine = make_engine(postgres_url)
    create_schema(engine)  # Alembic on PostgreSQL
    migrated = describe(engine)
    assert len(migrated["tables"]) == len(metadata.tables)
    command.downgrade(alembic_config(DATABASE, engine), "base")
    assert describe(engine) == {"views": [], "tables": {}}
    metadata.create_all(engine)
    assert describe(engine) == migrated
    engine.dispose()


def test_migration_freezes_the_current_view_sql() -> None:
    path = next((DATABASE.migrations / "versions").glob("0001_*.py"))
    spec = importlib.util.spec_from_file_location("m0001", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.VIEWS == VIEWS
