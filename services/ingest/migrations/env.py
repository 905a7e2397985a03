"""Alembic environment of ingest's database (the durable record, keys, ledger)."""

from __future__ import annotations

from flagstream.alembic_env import run_migrations
from ingest.database import DATABASE

run_migrations(DATABASE.metadata())
