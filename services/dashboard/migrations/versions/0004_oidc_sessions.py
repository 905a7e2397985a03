"""Sessions signed in through the council's identity provider (issue 17, part 5).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 12:00:00

An OpenID Connect user is in no users file, so the role and scope their groups granted at
sign-in are kept beside the session (dashboard/sessions.py). Adopts a table a dashboard made
itself before this revision (create_audit_schema).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if sa.inspect(op.get_bind()).has_table("oidc_sessions"):
        return
    op.create_table(
        "oidc_sessions",
        sa.Column(
            "id_hash", sa.String(length=64), nullable=False, comment="dashboard_sessions.id_hash"
        ),
        sa.Column(
            "role",
            sa.String(length=16),
            nullable=False,
            comment="Granted by the group mapping at sign-in",
        ),
        sa.Column(
            "scope",
            sa.String(length=64),
            nullable=True,
            comment="School URN or zone, NULL for county-wide roles",
        ),
        sa.PrimaryKeyConstraint("id_hash"),
        comment="Sessions signed in with OpenID Connect: role and scope from the group mapping",
    )


def downgrade() -> None:
    # Council sign-in sessions end (their users sign in again); local ones are untouched.
    op.drop_table("oidc_sessions")
