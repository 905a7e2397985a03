"""A child's siblings on the child page: the children sharing a household with it, only those
at a school in the viewer's scope (docs/families.md). A sibling the viewer may not see is not
listed, counted or hinted at, so the page is the same as if that sibling were not there: the
page's own check here, and row-level security on PostgreSQL behind it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, select

from readmodel.tables import child_households, children, schools

from .authz import Principal
from .context import Context
from .people import labels

_mine = child_households.alias("mine")
_theirs = child_households.alias("theirs")


def sibling_rows(conn: Connection, child_key: str) -> list[dict[str, Any]]:
    """Children sharing a household with `child_key` that have a row (and, on PostgreSQL,
    that row-level security lets this connection's viewer see), by school then key."""
    query = (
        select(
            children.c.child_key,
            children.c.urn,
            children.c.nc_year,
            children.c.flags,
            schools.c.name.label("school"),
            schools.c.zone,
        )
        .select_from(_mine)
        .join(
            _theirs,
            and_(
                _theirs.c.household_key == _mine.c.household_key,
                _theirs.c.child_key != _mine.c.child_key,
            ),
        )
        .join(children, children.c.child_key == _theirs.c.child_key)
        .join(schools, schools.c.urn == children.c.urn)
        .where(_mine.c.child_key == child_key)
        .distinct()
        .order_by(schools.c.name, children.c.child_key)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def section(ctx: Context, who: Principal, child_key: str) -> list[dict[str, Any]]:
    """The siblings the viewer may see, each with its label (a name only for roles that see
    names) and its open flags; [] when none - the same for none known and none visible."""
    with ctx.read_as(who) as conn:
        found = [
            r for r in sibling_rows(conn, child_key) if who.can_see_school(r["urn"], r["zone"])
        ]
    shown = labels(ctx, who, [r["child_key"] for r in found])
    return [
        {
            **r,
            "label": shown[r["child_key"]].label,
            "flags": [f for f in r["flags"].split(",") if f],
        }
        for r in found
    ]
