"""The "new since your last visit" marker: children (and the schools and zones holding them)
whose flag was raised after the user's previous visit to the same list.

A visit is a full page load of a list (school, zone, county, huddle); the live table's own
refreshes read the marker without counting as one. Loads within one sitting (`SITTING`) keep
the same "previous visit", so a reload does not wipe the badges. Raised flags come from
`flag_changes`, which never holds a sensitive flag: the marker is the same whether or not a
safeguarding notification arrived (the DSL has the inbox for that).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from fastapi import Request
from sqlalchemy import and_, select

from flagstream import alerts
from readmodel.tables import children, flag_changes, schools

if TYPE_CHECKING:
    from .authz import Principal
    from .context import Context

SITTING = timedelta(minutes=10)
# A list page and the fragment refreshing it share one key: the page's own path.
_LISTS = re.compile(r"^(/|/zones/[^/]+|/schools/[^/]+)(/table|/huddle)?$")


def page_key(path: str) -> tuple[str, bool] | None:
    """(the list's key, whether this request is a visit) or None for a page without one."""
    found = _LISTS.match(path)
    if found is None:
        return None
    base, tail = found.group(1), found.group(2)
    if tail == "/huddle":
        return path, True
    return base, tail is None


def marks(ctx: Context, request: Request, who: Principal) -> dict[str, Any]:
    """`new_children`, `new_schools`, `new_zones` and `new_since` for the page's template."""
    empty: dict[str, Any] = {"new_children": (), "new_schools": (), "new_zones": ()}
    keyed = page_key(request.url.path) if request.method == "GET" else None
    if ctx.alerts_db is None or keyed is None:
        return empty
    key, is_visit = keyed
    now = ctx.clock()
    with ctx.alerts_db.begin() as conn:
        if is_visit:
            since = alerts.visit(conn, who.username, key, now, SITTING)
        else:
            since = alerts.previous_visit(conn, who.username, key)
    if since is None:
        return empty
    urn = key.split("/")[2] if key.startswith("/schools/") else None
    with ctx.read_as(who) as conn:
        raised = raised_since(conn, since, urn)
    return {
        "new_children": {k for k, _u, _z in raised},
        "new_schools": {u for _k, u, _z in raised},
        "new_zones": {z for _k, _u, z in raised},
        "new_since": since,
    }


def raised_since(
    conn: Any, since: datetime, urn: str | None = None
) -> Collection[tuple[str, str, str]]:
    """(child_key, urn, zone) of every flag raised after `since` (never a sensitive flag),
    at one school's children (through the indexes on children.urn and flag_changes.child_key:
    the live table asks on every refresh) or, with no school, anywhere."""
    f, c, s = flag_changes, children, schools
    query = (
        select(f.c.child_key, c.c.urn, s.c.zone)
        .select_from(c.join(f, f.c.child_key == c.c.child_key).join(s, s.c.urn == c.c.urn))
        .where(and_(f.c.change == "RAISED", f.c.recorded_at > since))
    )
    if urn is not None:
        query = query.where(c.c.urn == urn)
    return {(k, u, z) for k, u, z in conn.execute(query)}
