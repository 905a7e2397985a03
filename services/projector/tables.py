"""The read model: SQLAlchemy 2.0 table metadata, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# The flags with their own columns (the council's screen). A flag the flagger adds later is
# still counted in `indicators` and listed in `child_flags` before it gets columns here.
FLAGS: tuple[str, ...] = ("ATTAIN", "ATTEND", "FAMILY", "FSM", "SEN")


def _flag_columns() -> list[Column[object]]:
    cols: list[Column[object]] = []
    for flag in FLAGS:
        name = flag.lower()
        cols += [
            Column(name, Boolean, nullable=False, default=False, comment=f"{flag} flag raised"),
            Column(f"{name}_reason", Text, comment=f"Evidence for the {flag} flag when raised"),
            Column(f"{name}_tier", String(32), comment=f"{flag} tier (e.g. severe), '' if none"),
            Column(f"{name}_since", Date, comment=f"Date the current {flag} flag was raised"),
        ]
    return cols


def _count_columns() -> list[Column[object]]:
    return [
        Column(f"{flag.lower()}_flagged", Integer, nullable=False, default=0, comment=flag)
        for flag in FLAGS
    ]


schools = Table(
    "schools",
    metadata,
    Column("urn", String(6), primary_key=True, comment="GIAS Unique Reference Number"),
    Column("name", Text, nullable=False),
    Column("phase", String(16), nullable=False),
    Column("pyramid", Text, nullable=False, index=True),
    Column("zone", Text, nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="School reference data: county > zone > pyramid > school",
)

children = Table(
    "children",
    metadata,
    Column("child_key", String(64), primary_key=True, comment="Pseudonymous child id"),
    Column("urn", String(6), nullable=False, index=True),
    Column("nc_year", Integer, comment="National Curriculum year, 0 = Reception"),
    Column("sex", String(1)),
    Column("as_of", Date, nullable=False, comment="Event-time date of the flags"),
    Column("possible_sessions", Integer, nullable=False),
    Column("absent_sessions", Integer, nullable=False),
    Column("attendance_pct", Float, comment="Attended / possible, school year to date"),
    *_flag_columns(),
    Column("indicators", Integer, nullable=False, comment="Number of active flags"),
    Column("rule_version", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="One current row per child",
)

flag_changes = Table(
    "flag_changes",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("urn", String(6), nullable=False),
    Column("flag", String(16), nullable=False),
    Column("change", String(8), nullable=False, comment="RAISED or CLEARED"),
    Column("reason", Text, nullable=False),
    Column("rule_version", String(64), nullable=False),
    Column("as_of", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    comment="Every flag raised or cleared, in order",
)

school_summary = Table(
    "school_summary",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("children", Integer, nullable=False, comment="Children with a current row"),
    *_count_columns(),
    Column("any_flagged", Integer, nullable=False, comment="Children with 1+ indicators"),
    Column("as_of", Date, comment="Latest event-time date among the school's children"),
    comment="Per-school counts, recomputed in the transaction that changes its children",
)

projector_offsets = Table(
    "projector_offsets",
    metadata,
    Column("topic", String(255), primary_key=True),
    Column("partition", Integer, primary_key=True, autoincrement=False),
    Column("next_offset", BigInteger, nullable=False),
    comment="Next Kafka offset to read, committed with the rows it produced",
)
