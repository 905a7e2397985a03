"""Ingest's database: the durable record (outbox), keys, roll, transfers and ledger."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import MetaData

from flagstream.databases import Database

from . import keys, store


def _metadata() -> MetaData:
    assert keys.api_keys.metadata is store.metadata  # the API keys live beside the outbox
    return store.metadata  # and the roll, known schools, transfers (store/tables.py)


DATABASE = Database(
    "ingest",
    "ingest_database_url",
    Path(__file__).parent / "migrations",
    "alembic_version_ingest",
    "owner",
    _metadata,
)
