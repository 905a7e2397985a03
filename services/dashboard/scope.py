"""The viewer's scope as PostgreSQL sees it: set per transaction on every read-model
connection the dashboard opens for a viewer, so row-level security (deploy/postgres/
read_model.sql) shows the dashboard's role only the rows that viewer may see - a second wall
behind each page's own checks. SQLite has no row-level security: nothing is set there."""

from __future__ import annotations

from sqlalchemy import Connection, text

from .authz import Principal

# set_config(..., true): local to the transaction, so a pooled connection never keeps it.
_SET_SCOPE = text(
    "SELECT set_config('flagstream.viewer_role', :role, true), "
    "set_config('flagstream.viewer_urn', :urn, true), "
    "set_config('flagstream.viewer_zone', :zone, true)"
)


def viewer_scope(who: Principal) -> dict[str, str]:
    """flagstream.viewer_role / _urn / _zone for this viewer ('' where it has none)."""
    return {
        "role": who.role,
        "urn": (who.scope or "") if who.school_role else "",
        "zone": (who.scope or "") if who.role == "zone" else "",
    }


def set_scope(conn: Connection, who: Principal) -> None:
    """Begin `conn`'s transaction carrying `who`'s scope (PostgreSQL only)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_SET_SCOPE, viewer_scope(who))
