"""Case work tables: lead practitioner, actions and reviews for a child with complex needs.

They live in the dashboard's own (audit) database, never on a Kafka topic: case work is
free text about a child's circumstances, and the topics carry no incident detail. Keyed by
child_key (the pseudonymous key of the read model), never by UPN or name. Migration 0003.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    String,
    Table,
    Text,
)

from .audit import metadata

NOTES_MAX = 1000
TEXT_MAX = 200  # lead name and role, action text and owner: short free text

casework_cases = Table(
    "casework_cases",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("lead_name", String(TEXT_MAX), comment="Lead practitioner's name"),
    Column("lead_role", String(TEXT_MAX), comment="Lead practitioner's role"),
    Column("next_review_on", Date, index=True, comment="Next review due"),
    Column("notes", Text, comment="Short notes, at most 1,000 characters"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(128), nullable=False),
    comment="Case work for a child with complex needs (not on any topic)",
)

casework_actions = Table(
    "casework_actions",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("text", String(TEXT_MAX), nullable=False),
    Column("owner", String(TEXT_MAX), nullable=False, comment="Who does it (free text)"),
    Column("due_on", Date),
    Column("done", Boolean, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(128), nullable=False),
    comment="Actions agreed for a child's case work",
)

casework_reviews = Table(
    "casework_reviews",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("held_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    comment="Reviews held of a child's case work",
)
