"""The identity store: identities (UPNs and names).

Revision ID: 0001
Revises:
Create Date: 2026-12-07 03:00:00

Before this revision the services created the table themselves: one already there is kept
as it is (adopted), and this revision is recorded.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("identities"):
        return
    op.create_table(
        "identities",
        sa.Column(
            "child_key", sa.String(length=64), nullable=False, comment="Pseudonymous child id"
        ),
        sa.Column("urn", sa.String(length=6), nullable=False, comment="School last enrolled at"),
        sa.Column("upn", sa.String(length=13), nullable=False, comment="Unique Pupil Number"),
        sa.Column(
            "forename",
            sa.Text(),
            nullable=True,
            comment="Legal or preferred forename, if the MIS sent it",
        ),
        sa.Column("surname", sa.Text(), nullable=True, comment="Surname, if the MIS sent it"),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("child_key"),
        comment="Sensitive: the only table holding UPNs and names",
    )
    op.create_index(op.f("ix_identities_urn"), "identities", ["urn"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_identities_urn"), table_name="identities")
    op.drop_table("identities")
