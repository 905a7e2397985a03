"""The ingest database: its tables and all access to them, by role. Callers hold a Store
(the database) and, inside `Store.begin()`, a Transaction (one upload's writes)."""

from .counts import dialect_insert
from .households import HOUSEHOLD_TABLES
from .nhs_links import NHS_TABLES
from .offsets import Offsets, stored_offsets
from .outbox import Store
from .school_roll import ensure, know_schools, upsert_roll
from .tables import (
    COUNTS,
    ROLL_TABLES,
    ledger,
    metadata,
    outbox,
    raw_offsets,
    raw_outbox,
    refusals,
    roll,
    schools,
    seen_events,
    transfers,
    uploads,
)
from .transaction import Prior, Transaction, legacy_scope
from .upgrade import add_columns

__all__ = [
    "COUNTS",
    "HOUSEHOLD_TABLES",
    "NHS_TABLES",
    "ROLL_TABLES",
    "Offsets",
    "Prior",
    "Store",
    "Transaction",
    "add_columns",
    "dialect_insert",
    "ensure",
    "know_schools",
    "ledger",
    "legacy_scope",
    "metadata",
    "outbox",
    "raw_offsets",
    "raw_outbox",
    "refusals",
    "roll",
    "schools",
    "seen_events",
    "stored_offsets",
    "transfers",
    "uploads",
    "upsert_roll",
]
