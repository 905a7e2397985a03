"""Alembic environment of the identity store (UPNs and names)."""

from __future__ import annotations

from flagstream.alembic_env import run_migrations
from flagstream.identity_database import DATABASE

run_migrations(DATABASE.metadata())
