"""Alembic environment of the dashboard's audit database."""

from __future__ import annotations

from dashboard.audit_database import DATABASE
from flagstream.alembic_env import run_migrations

run_migrations(DATABASE.metadata())
