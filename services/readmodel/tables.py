"""The read model: SQLAlchemy 2.0 table metadata, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import (
    DDL,
    BigInteger,
    Column,
    Date,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    event,
)

from flagstream import catalogue

from . import change_tables  # noqa: F401  (its tables join the metadata here)
from .flag_tables import (
    child_flags,
    flag_changes,
    flag_history,
    restricted_flag_changes,
    restricted_flags,
    school_flag_counts,
)
from .household_tables import child_households, child_links, child_places
from .huddle_tables import huddle_reviews, huddles
from .meta import metadata

__all__ = [
    "child_flags",
    "child_households",
    "child_links",
    "child_places",
    "child_sources",
    "children",
    "daily_counts",
    "flag_changes",
    "flag_history",
    "freshness",
    "huddle_reviews",
    "huddles",
    "metadata",
    "outcomes",
    "projector_offsets",
    "pyramids",
    "read_model_status",
    "restricted_flag_changes",
    "restricted_flags",
    "rolls",
    "school_days",
    "school_flag_counts",
    "school_summary",
    "schools",
    "zones",
]

# Partner sources whose latest event time each child row carries (`last_<source>_at`): the
# built-in kinds' sources in the catalogue. Police notifications are not among them, nor in
# child_sources or freshness: that one arrived would show to everyone (their flag is in
# restricted_flags; docs/security.md). An extension's source is in those two tables only.
SOURCES: tuple[str, ...] = catalogue.CORE_SOURCES


def _source_columns() -> list[Column[object]]:
    return [
        Column(f"last_{src}_at", DateTime(timezone=True), comment=f"Latest {src} event received")
        for src in SOURCES
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
    Column(
        "indicators", Integer, nullable=False, comment="Number of active flags"
    ),  # child_flags rows
    Column("flags", Text, nullable=False, default="", comment="Active flags, comma-separated"),
    Column("rule_version", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_assessment_on", Date, comment="Date of the latest assessment result"),
    Column("response", Text, comment="Latest response agreed (outcome recording)"),
    Column("status", Text, comment="Latest status recorded"),
    Column("current_progress", String(16), comment="Latest status against the one before"),
    Column("overall_progress", String(16), comment="Latest status against the first"),
    Column("outcome_on", Date, comment="Date of the latest outcome record"),
    *_source_columns(),
    # Last, as migration 0010 added them (columns keep their order on both databases).
    Column("term_start", Date, comment="First day of the term of as_of (term calendar)"),
    Column(
        "term_possible_sessions",
        Integer,
        nullable=False,
        server_default="0",
        comment="Possible sessions, term to date",
    ),
    Column(
        "term_absent_sessions",
        Integer,
        nullable=False,
        server_default="0",
        comment="Absent sessions, term to date",
    ),
    comment="One current row per child",
)


outcomes = Table(
    "outcomes",
    metadata,
    Column("event_id", String(36), primary_key=True),
    Column("child_key", String(64), nullable=False, index=True),
    Column("urn", String(6), nullable=False),
    Column("response", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("recorded_by", Text, nullable=False, comment="Professional's role or staff id"),
    Column("recorded_on", Date, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    comment="Responses and statuses recorded by professionals",
)

rolls = Table(
    "rolls",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("urn", String(6), primary_key=True),
    Column("joined_on", Date, primary_key=True),
    Column("left_on", Date, comment="NULL while on roll"),
    comment="Enrolment spells, for children on roll per day",
)

school_days = Table(
    "school_days",
    metadata,
    Column("day", Date, primary_key=True),
    comment="Days with a day-end tick or register marks: the days trends have rows for",
)

daily_counts = Table(
    "daily_counts",
    metadata,
    Column("day", Date, primary_key=True),
    Column("urn", String(6), primary_key=True),
    Column("flag", String(16), primary_key=True, comment="A flag, or ANY for any flag"),
    Column("on_roll", Integer, nullable=False, comment="Children on the school's roll that day"),
    Column("flagged", Integer, nullable=False, comment="Children with the flag raised that day"),
    comment="Per school, flag and school day: from flag_history and rolls",
)

child_sources = Table(
    "child_sources",
    metadata,
    Column("child_key", String(64), primary_key=True),
    Column("source", String(16), primary_key=True),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    Column("data_as_of", Date, nullable=False, comment="Latest date the source's data is about"),
    comment="Latest event per child and source (MAX, so replays change nothing)",
)

freshness = Table(
    "freshness",
    metadata,
    Column("urn", String(6), primary_key=True, comment="'' for council-wide sources"),
    Column("source", String(16), primary_key=True),
    Column("last_received_at", DateTime(timezone=True), nullable=False),
    Column("data_as_of", Date, nullable=False, comment="Latest date the source's data is about"),
    comment="Data as of, per school and source",
)

zones = Table(
    "zones",
    metadata,
    Column("zone", Text, primary_key=True),
    Column("pyramids", Integer, nullable=False),
    Column("schools", Integer, nullable=False),
    comment="Family Partnership Zones, derived from schools",
)

pyramids = Table(
    "pyramids",
    metadata,
    Column("pyramid", Text, primary_key=True),
    Column("zone", Text, nullable=False, index=True),
    Column("schools", Integer, nullable=False),
    comment="School pyramids and their zone, derived from schools",
)

school_summary = Table(
    "school_summary",
    metadata,
    Column("urn", String(6), primary_key=True),
    Column("children", Integer, nullable=False, comment="Children with a current row"),
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

read_model_status = Table(
    "read_model_status",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False, comment="Always 1"),
    Column(
        "state",
        String(16),
        nullable=False,
        comment="current, rebuilding (being built again from the log) or stale (refused)",
    ),
    Column("since", DateTime(timezone=True), nullable=False, comment="When the state began"),
    Column("detail", Text, nullable=False, comment="Why, in words"),
    Column("log_topics", Text, nullable=False, comment="JSON: topic -> topic id read from"),
    Column("flagger_lag", BigInteger, comment="Canonical records the flagger has not consumed"),
    Column("projector_lag", BigInteger, comment="Records the projector has not stored"),
    Column("late_registers", Integer, comment="Schools without a register for the last day"),
    Column("checked_at", DateTime(timezone=True), comment="When the projector last checked"),
    comment="Whether the read model is complete, as the projector last found it",
)

# Trend views over daily_counts; the migration creates the same SQL.
VIEWS: dict[str, str] = {
    "zone_daily_counts": (
        "SELECT d.day, s.zone, d.flag, SUM(d.on_roll) AS on_roll, SUM(d.flagged) AS flagged "
        "FROM daily_counts d JOIN schools s ON s.urn = d.urn "
        "GROUP BY d.day, s.zone, d.flag"
    ),
    "county_daily_counts": (
        "SELECT day, flag, SUM(on_roll) AS on_roll, SUM(flagged) AS flagged "
        "FROM daily_counts GROUP BY day, flag"
    ),
}

for _name, _select in VIEWS.items():
    event.listen(
        metadata,
        "after_create",
        DDL(f"CREATE OR REPLACE VIEW {_name} AS {_select}").execute_if(dialect="postgresql"),  # type: ignore[no-untyped-call]
    )
    event.listen(
        metadata,
        "after_create",
        DDL(f"CREATE VIEW IF NOT EXISTS {_name} AS {_select}").execute_if(dialect="sqlite"),  # type: ignore[no-untyped-call]
    )
    event.listen(metadata, "before_drop", DDL(f"DROP VIEW IF EXISTS {_name}"))  # type: ignore[no-untyped-call]

# The per-flag column views are made with the tables (and dropped before them).
from . import flag_views  # noqa: E402, F401
