"""The dashboard's audit database: the append-only log of who saw and changed what."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

from flagstream.databases import Database

from . import audit


def _metadata() -> MetaData:
    from . import casework_tables  # noqa: F401  (adds the case work tables to the metadata)

    return audit.metadata


DATABASE = Database(
    "audit",
    "dashboard_audit_database_url",
    Path(__file__).parent / "migrations",
    "alembic_version_audit",
    "audit_owner",
    _metadata,
)
