"""NHS-keyed partners (docs/families.md): each NHS number's keyed hash seen, its link to a
child's key once an enrolment brought both numbers, and the records held until then.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:00:00

Tables an ingest already made for itself are adopted as they are.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _has(table: str) -> bool:
    return sa.inspect(op.get_bind()).has_table(table)


def upgrade() -> None:
    if not _has("ingest_nhs_keys"):
        op.create_table(
            "ingest_nhs_keys",
            sa.Column(
                "nhs_key",
                sa.String(length=64),
                nullable=False,
                comment="Keyed hash of the NHS number",
            ),
            sa.Column(
                "child_key",
                sa.String(length=64),
                nullable=True,
                comment="The child it is linked to, if any",
            ),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
            sa.Column("linked_at", sa.DateTime(timezone=True), nullable=True),
            sa.PrimaryKeyConstraint("nhs_key"),
            comment="One row per NHS number seen (locked by an upload naming it): its link to a "
            "child's key once an enrolment brought both numbers",
        )
    if not _has("ingest_nhs_records"):
        op.create_table(
            "ingest_nhs_records",
            sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
            sa.Column("nhs_key", sa.String(length=64), nullable=False),
            sa.Column(
                "value",
                sa.LargeBinary(),
                nullable=False,
                comment="The event, single-object encoded",
            ),
            sa.PrimaryKeyConstraint("id"),
            comment="NHS-keyed records of a number not yet linked, published again under the "
            "child's key when an enrolment links it (then deleted)",
        )
        op.create_index(
            op.f("ix_ingest_nhs_records_nhs_key"), "ingest_nhs_records", ["nhs_key"], unique=False
        )


def downgrade() -> None:
    op.drop_index(op.f("ix_ingest_nhs_records_nhs_key"), table_name="ingest_nhs_records")
    op.drop_table("ingest_nhs_records")
    op.drop_table("ingest_nhs_keys")
