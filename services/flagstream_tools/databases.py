"""Flagstream's four databases, each declared by its owner, in the order they are migrated."""

from __future__ import annotations

from dashboard.audit_database import DATABASE as AUDIT
from flagstream.databases import Database
from flagstream.identity_database import DATABASE as IDENTITY
from ingest.database import DATABASE as INGEST
from readmodel.migrate import DATABASE as READ_MODEL

DATABASES: tuple[Database, ...] = (READ_MODEL, INGEST, IDENTITY, AUDIT)
BY_NAME: dict[str, Database] = {d.name: d for d in DATABASES}
