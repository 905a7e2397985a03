"""The read model's household table: which children share a household (its pseudonymous key
only), so a child's page can list the siblings the viewer may see (docs/families.md)."""

from __future__ import annotations

from sqlalchemy import Column, String, Table

from .meta import metadata

# A child_key table: row-level security shows a row only when its child is in the viewer's
# scope (deploy/postgres/read_model.sql), so a sibling at another school is not even counted.
child_households = Table(
    "child_households",
    metadata,
    Column("household_key", String(64), primary_key=True, comment="Keyed hash, never the ref"),
    Column("child_key", String(64), primary_key=True, index=True, comment="Pseudonymous child id"),
    comment="A child named in a household by an enrolment or a family case (never removed)",
)
