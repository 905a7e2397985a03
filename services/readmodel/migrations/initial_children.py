"""Revision 0001's first two tables, child_sources and children (one column set per flag of
the time), kept apart only so no module is over 300 lines. Frozen with 0001: never edited;
a later change to these tables is a new revision."""

import sqlalchemy as sa
from alembic import op


def create() -> None:
    """child_sources, children and its URN index, as revision 0001 made them."""
    op.create_table(
        "child_sources",
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "data_as_of",
            sa.Date(),
            nullable=False,
            comment="Latest date the source's data is about",
        ),
        sa.PrimaryKeyConstraint("child_key", "source"),
        comment="Latest event per child and source (MAX, so replays change nothing)",
    )
    op.create_table(
        "children",
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column(
            "nc_year",
            sa.Integer(),
            nullable=True,
            comment="National Curriculum year, 0 = Reception",
        ),
        sa.Column("sex", sa.String(length=1), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False, comment="Event-time date of the flags"),
        sa.Column("possible_sessions", sa.Integer(), nullable=False),
        sa.Column("absent_sessions", sa.Integer(), nullable=False),
        sa.Column(
            "attendance_pct",
            sa.Float(),
            nullable=True,
            comment="Attended / possible, school year to date",
        ),
        sa.Column("attain", sa.Boolean(), nullable=False, comment="ATTAIN flag raised"),
        sa.Column(
            "attain_reason",
            sa.Text(),
            nullable=True,
            comment="Evidence for the ATTAIN flag when raised",
        ),
        sa.Column(
            "attain_tier",
            sa.String(length=32),
            nullable=True,
            comment="ATTAIN tier (e.g. severe), '' if none",
        ),
        sa.Column(
            "attain_since",
            sa.Date(),
            nullable=True,
            comment="Date the current ATTAIN flag was raised",
        ),
        sa.Column("attend", sa.Boolean(), nullable=False, comment="ATTEND flag raised"),
        sa.Column(
            "attend_reason",
            sa.Text(),
            nullable=True,
            comment="Evidence for the ATTEND flag when raised",
        ),
        sa.Column(
            "attend_tier",
            sa.String(length=32),
            nullable=True,
            comment="ATTEND tier (e.g. severe), '' if none",
        ),
        sa.Column(
            "attend_since",
            sa.Date(),
            nullable=True,
            comment="Date the current ATTEND flag was raised",
        ),
        sa.Column("family", sa.Boolean(), nullable=False, comment="FAMILY flag raised"),
        sa.Column(
            "family_reason",
            sa.Text(),
            nullable=True,
            comment="Evidence for the FAMILY flag when raised",
        ),
        sa.Column(
            "family_tier",
            sa.String(length=32),
            nullable=True,
            comment="FAMILY tier (e.g. severe), '' if none",
        ),
        sa.Column(
            "family_since",
            sa.Date(),
            nullable=True,
            comment="Date the current FAMILY flag was raised",
        ),
        sa.Column("fsm", sa.Boolean(), nullable=False, comment="FSM flag raised"),
        sa.Column(
            "fsm_reason", sa.Text(), nullable=True, comment="Evidence for the FSM flag when raised"
        ),
        sa.Column(
            "fsm_tier",
            sa.String(length=32),
            nullable=True,
            comment="FSM tier (e.g. severe), '' if none",
        ),
        sa.Column(
            "fsm_since", sa.Date(), nullable=True, comment="Date the current FSM flag was raised"
        ),
        sa.Column("sen", sa.Boolean(), nullable=False, comment="SEN flag raised"),
        sa.Column(
            "sen_reason", sa.Text(), nullable=True, comment="Evidence for the SEN flag when raised"
        ),
        sa.Column(
            "sen_tier",
            sa.String(length=32),
            nullable=True,
            comment="SEN tier (e.g. severe), '' if none",
        ),
        sa.Column(
            "sen_since", sa.Date(), nullable=True, comment="Date the current SEN flag was raised"
        ),
        sa.Column("indicators", sa.Integer(), nullable=False, comment="Number of active flags"),
        sa.Column("flags", sa.Text(), nullable=False, comment="Active flags, comma-separated"),
        sa.Column("rule_version", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "last_assessment_on",
            sa.Date(),
            nullable=True,
            comment="Date of the latest assessment result",
        ),
        sa.Column(
            "response",
            sa.Text(),
            nullable=True,
            comment="Latest response agreed (outcome recording)",
        ),
        sa.Column("status", sa.Text(), nullable=True, comment="Latest status recorded"),
        sa.Column(
            "current_progress",
            sa.String(length=16),
            nullable=True,
            comment="Latest status against the one before",
        ),
        sa.Column(
            "overall_progress",
            sa.String(length=16),
            nullable=True,
            comment="Latest status against the first",
        ),
        sa.Column(
            "outcome_on", sa.Date(), nullable=True, comment="Date of the latest outcome record"
        ),
        sa.Column(
            "last_enrolment_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest enrolment event received",
        ),
        sa.Column(
            "last_register_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest register event received",
        ),
        sa.Column(
            "last_sen_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest sen event received",
        ),
        sa.Column(
            "last_fsm_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest fsm event received",
        ),
        sa.Column(
            "last_assessment_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest assessment event received",
        ),
        sa.Column(
            "last_family_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest family event received",
        ),
        sa.Column(
            "last_police_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest police event received",
        ),
        sa.Column(
            "last_outcome_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Latest outcome event received",
        ),
        sa.PrimaryKeyConstraint("child_key"),
        comment="One current row per child",
    )
    op.create_index(op.f("ix_children_urn"), "children", ["urn"], unique=False)
