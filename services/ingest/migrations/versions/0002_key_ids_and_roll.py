"""Partner writes bound to the roll, and the sending key kept: the roll, known schools and
pending transfers (ingest/roll.py); key_id on both outboxes and on partner event ids; answers
to Idempotency-Keys kept per key (key_id, idempotency_key) instead of per partner name; key
expiry (ingest_api_keys.expires_at).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 06:00:00

Answers kept before it are moved under their partner's legacy scope ('-' + the first 31 hex
digits of SHA-256 of the partner's name), where ingest still finds them for that partner's
keys. Event ids kept before it have no key_id: a resend of one under any key is still a
duplicate. A database ingest already brought up to date itself is adopted as it is.
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_OUTBOX_KEY = "API key (fsk_<id>) that sent it; none for control events and raw topics"
_SEEN_KEY = (
    "Scope it was sent under (API key id, or 'raw'); none: kept before scoping, the partner's "
    "own id"
)
_UPLOADS_KEY = (
    "API key that sent it (Idempotency-Keys are per key); '-<hash of the partner>' for answers "
    "kept before keys were recorded"
)


def _legacy_scope(partner: str) -> str:
    """ingest.store.legacy_scope, frozen here as this revision wrote it."""
    return "-" + hashlib.sha256(partner.encode()).hexdigest()[:31]


def _columns(table: str) -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns(table)}


def _add(table: str, column: sa.Column) -> None:  # type: ignore[type-arg]
    if column.name not in _columns(table):
        op.add_column(table, column)


def _rekey_uploads() -> None:
    if "key_id" in _columns("ingest_uploads"):
        return
    op.add_column(
        "ingest_uploads",
        sa.Column("key_id", sa.String(length=32), nullable=True, comment=_UPLOADS_KEY),
    )
    bind = op.get_bind()
    for partner in list(bind.scalars(sa.text("SELECT DISTINCT partner FROM ingest_uploads"))):
        bind.execute(
            sa.text("UPDATE ingest_uploads SET key_id = :scope WHERE partner = :partner"),
            {"scope": _legacy_scope(partner), "partner": partner},
        )
    op.alter_column("ingest_uploads", "key_id", nullable=False)
    op.drop_constraint("ingest_uploads_pkey", "ingest_uploads", type_="primary")
    op.create_primary_key("ingest_uploads_pkey", "ingest_uploads", ["key_id", "idempotency_key"])


def _roll() -> None:
    op.create_table(
        "ingest_roll",
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True, comment="None: still on this school's roll"),
        sa.Column(
            "key_id", sa.String(length=32), nullable=True, comment="API key that sent the enrolment"
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_key", "urn", "joined_on"),
        comment="Each child's enrolments as accepted: who is on which school's roll, when",
    )


def _schools() -> None:
    op.create_table(
        "ingest_schools",
        sa.Column("urn", sa.String(length=6), nullable=False),
        sa.Column(
            "key_id", sa.String(length=32), nullable=True, comment="API key that first sent it"
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("urn"),
        comment="URNs a school record was accepted for: records naming others are refused",
    )


def _transfers() -> None:
    op.create_table(
        "ingest_transfers",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("child_key", sa.String(length=64), nullable=False),
        sa.Column(
            "from_urn",
            sa.String(length=6),
            nullable=False,
            comment="School whose roll the child is on",
        ),
        sa.Column(
            "to_urn", sa.String(length=6), nullable=False, comment="School that enrolled the child"
        ),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.Column("left_on", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False, comment="pending or confirmed"),
        sa.Column(
            "source",
            sa.String(length=200),
            nullable=False,
            comment="Ledger source, day and kind of the",
        ),
        sa.Column(
            "day", sa.Date(), nullable=False, comment="held record, counted accepted on receipt"
        ),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column(
            "topic",
            sa.String(length=255),
            nullable=False,
            comment="The held message, as the outbox",
        ),
        sa.Column("partition", sa.Integer(), nullable=False, comment="would have kept it"),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "value", sa.LargeBinary(), nullable=False, comment="EnrolmentRecorded (no names)"
        ),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.String(length=32), nullable=True, comment="API key that sent it"),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "confirmed_by", sa.String(length=64), nullable=True, comment="Key id, 'raw' or 'admin'"
        ),
        sa.PrimaryKeyConstraint("id"),
        comment="Enrolments held because the child is on another school's roll",
    )
    op.create_index(
        op.f("ix_ingest_transfers_child_key"), "ingest_transfers", ["child_key"], unique=False
    )


def upgrade() -> None:
    for outbox in ("ingest_outbox", "ingest_raw_outbox"):
        _add(outbox, sa.Column("key_id", sa.String(length=32), nullable=True, comment=_OUTBOX_KEY))
    _add("ingest_seen_events", sa.Column("key_id", sa.String(length=32), comment=_SEEN_KEY))
    op.alter_column(
        "ingest_seen_events",
        "event_id",
        existing_type=sa.String(length=36),
        existing_nullable=False,
        comment="As published (scoped per key)",
    )
    _add(
        "ingest_api_keys",
        sa.Column(
            "expires_at",
            sa.DateTime(timezone=True),
            nullable=True,
            comment="Refused from then on; none: never",
        ),
    )
    _rekey_uploads()
    found = sa.inspect(op.get_bind())
    for name, create in (
        ("ingest_roll", _roll),
        ("ingest_schools", _schools),
        ("ingest_transfers", _transfers),
    ):
        if not found.has_table(name):
            create()


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_transfers_child_key"), table_name="ingest_transfers")
    for name in ("ingest_transfers", "ingest_schools", "ingest_roll"):
        op.drop_table(name)
    op.drop_constraint("ingest_uploads_pkey", "ingest_uploads", type_="primary")
    op.create_primary_key("ingest_uploads_pkey", "ingest_uploads", ["partner", "idempotency_key"])
    op.drop_column("ingest_uploads", "key_id")
    op.drop_column("ingest_api_keys", "expires_at")
    op.drop_column("ingest_seen_events", "key_id")
    for outbox in ("ingest_outbox", "ingest_raw_outbox"):
        op.drop_column(outbox, "key_id")
