"""Alembic environment of the alerts database (ledger, inbox, preferences, visits)."""

from __future__ import annotations

from flagstream.alembic_env import run_migrations
from flagstream.alerts_database import DATABASE

run_migrations(DATABASE.metadata())
