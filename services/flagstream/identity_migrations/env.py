"""Alembic environment of the identity store (UPNs and names)."""

from __future__ import annotations

from flagstream.alembic_env import run_migrations
from flagstream.databases import BY_NAME

run_migrations(BY_NAME["identity"].metadata())
