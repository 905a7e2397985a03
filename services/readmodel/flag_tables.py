"""The read model's flag tables: current flags as rows, their changes and their history."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Date, DateTime, Integer, String, Table, Text

from .meta import metadata

# A child's open flags raised now, one row per flag: a flag the catalogue gains is a row here
# with no schema change. The council's one-column-per-flag shape is the view
# child_flag_columns, made from the catalogue (readmodel/flag_views.py).
child_flags = Table(
    "child_flags",
    metadata,
    Column("child_key", String(64), primary_key=True, comment="Pseudonymous child id"),
    Column("flag", String(16), primary_key=True, comment="A flag raised now (never sensitive)"),
    Column("urn", String(6), nullable=False, index=True, comment="The child's current school"),
    Column("reason", Text, nullable=False, comment="Evidence the rule gave when raised"),
    Column("tier", String(32), nullable=False, comment="Tier within the flag, '' if none"),
    Column("since", Date, nullable=False, comment="Date the current flag was raised"),
    comment="Flags raised now, one row per child and flag (no row: not raised)",
)

school_flag_counts = Table(
    "school_flag_counts",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("flag", String(16), primary_key=True),
    Column("flagged", Integer, nullable=False, comment="Children with the flag raised now"),
    comment="Per school and flag raised there: children flagged now (no row: none)",
)


def _change_columns() -> list[Column[object]]:
    """A flag change's columns (flag_changes and restricted_flag_changes alike)."""
    return [
        Column("event_id", String(36), primary_key=True),
        Column("child_key", String(64), nullable=False, index=True),
        Column("urn", String(6), nullable=False),
        Column("flag", String(16), nullable=False),
        Column("change", String(8), nullable=False, comment="RAISED or CLEARED"),
        Column("reason", Text, nullable=False),
        Column("rule_version", String(64), nullable=False),
        Column("as_of", Date, nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("kafka_partition", Integer, nullable=False, comment="Partition it was read from"),
        Column("kafka_offset", BigInteger, nullable=False, comment="Offset: order within a child"),
    ]


flag_changes = Table(
    "flag_changes",
    metadata,
    *_change_columns(),
    comment="Every flag raised or cleared, in order",
)

# Sensitive flags (Rule.sensitive: SAFEGUARD) live only in these two tables, never in
# children, child_flags, flag_changes, flag_history, daily counts or summaries: every screen
# but the DSL's reads the same rows whether or not a sensitive record arrived. The dashboard
# reads them for the DSL of the child's current school; PostgreSQL row-level security keeps
# them from every other viewer's transaction too (deploy/postgres).
restricted_flags = Table(
    "restricted_flags",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("flag", String(16), primary_key=True),
    Column("urn", String(6), nullable=False, index=True, comment="The child's current school"),
    Column("reason", Text, nullable=False),
    Column("tier", String(32), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("as_of", Date, nullable=False, comment="Event-time date of the snapshot"),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="Sensitive flags raised now (DSL of the child's school only)",
)

restricted_flag_changes = Table(
    "restricted_flag_changes",
    metadata,
    *_change_columns(),
    comment="Every sensitive flag raised or cleared (DSL of the child's school only)",
)

flag_history = Table(
    "flag_history",
    metadata,
    Column("raised_event_id", String(36), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("urn", String(6), nullable=False, index=True, comment="School when raised"),
    Column("flag", String(16), nullable=False),
    Column("raised_on", Date, nullable=False),
    Column("raised_reason", Text, nullable=False),
    Column("rule_version", String(64), nullable=False, comment="Rules version that raised it"),
    Column("cleared_on", Date, comment="NULL while the flag is still raised"),
    Column("cleared_reason", Text),
    Column("cleared_rule_version", String(64)),
    Column("days_raised", Integer, comment="cleared_on - raised_on, NULL while open"),
    Column("previous_cleared_on", Date, comment="End of this flag's previous interval"),
    Column(
        "reflagged_within_12m",
        Boolean,
        nullable=False,
        comment="Raised again within 365 days of the same flag clearing (re-referral)",
    ),
    comment="One row per raised -> cleared interval of a flag on a child",
)
