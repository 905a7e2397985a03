"""Alembic environment of the dashboard's audit database."""

from __future__ import annotations

from flagstream.alembic_env import run_migrations
from flagstream.databases import BY_NAME

run_migrations(BY_NAME["audit"].metadata())
