"""Where the read model last changed, per commit, school and child: written by the projector
in each batch's transaction, so a dashboard can find what changed since the version its pages
show with one cheap query instead of re-reading every open school's table."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, Index, Integer, String, Table

from .meta import metadata

read_model_changes = Table(
    "read_model_changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="Always 1"),
    Column("seq", BigInteger, nullable=False, comment="Projector commits that changed rows"),
    Column("committed_at", DateTime(timezone=True), nullable=False, comment="That commit's time"),
    comment="The read model's version: one row, its seq raised by every commit that changed it",
)

# No child_key here, so row-level security leaves it readable without a viewer: it says only
# that something at a school changed, never what or for whom.
school_changes = Table(
    "school_changes",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("seq", BigInteger, nullable=False, index=True, comment="Latest commit changing it"),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    comment="Per school, the latest commit that changed one of its children or counts",
)

# A child who moved has a row for the old school and one for the new, so both lists hear of it.
child_changes = Table(
    "child_changes",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("urn", String(6), primary_key=True, comment="A school whose list the change touches"),
    Column("seq", BigInteger, nullable=False, comment="Latest commit changing the row"),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Index("ix_child_changes_urn_seq", "urn", "seq"),
    comment="Per child and school, the latest commit that changed the child's row there",
)

# Delivery bookkeeping, not projected content: how many commits a run took and when differs
# between two runs over the same events (batch sizes, replays, a kill and resume), so a
# comparison of two read models leaves these out, as it does projector_offsets.
CHANGE_TABLES = frozenset(t.name for t in (read_model_changes, school_changes, child_changes))
