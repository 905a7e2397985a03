"""The identity database: pseudonym identities and the restricted safeguarding store."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

from . import identity, restricted
from .databases import Database


def _metadata() -> MetaData:
    assert restricted.notifications.metadata is identity.metadata  # beside the identities
    return identity.metadata


DATABASE = Database(
    "identity",
    "identity_database_url",
    Path(__file__).parent / "identity_migrations",
    "alembic_version_identity",
    "owner",
    _metadata,
)
