"""Children not yet in school, by zone and early-years setting (docs/families.md): the children
an early-years stream flags before any school enrols them (a `children` row with no school and
a `child_places` row), for county roles and, of their own zone, zone users: such a child has
no school, so the zone it is placed in scopes it - here, and in row-level security behind it
(deploy/postgres/read_model.sql, `flagstream_viewer_sees_zone`)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from fastapi import APIRouter, Request, Response
from sqlalchemy import Connection, select

from readmodel.tables import child_places, children

from .context import forbid
from .page_deps import Ctx, Who
from .people import labels

router = APIRouter()


def not_in_school(conn: Connection) -> list[dict[str, Any]]:
    """Children with no school, where they are seen, by zone, setting and key."""
    p = child_places.c
    query = (
        select(children.c.child_key, children.c.flags, p.zone, p.setting, p.checked_on)
        .join(child_places, p.child_key == children.c.child_key)
        .where(children.c.urn == "")
        .order_by(p.zone, p.setting, children.c.child_key)
    )
    return [dict(r._mapping) for r in conn.execute(query)]


def by_zone(rows: list[dict[str, Any]]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """zone -> setting -> its children, each with its flags as a list."""
    out: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        flags = [f for f in (r["flags"] or "").split(",") if f]
        out[r["zone"]][r["setting"]].append({**r, "flags": flags})
    return out


@router.get("/early_years")
def early_years(request: Request, ctx: Ctx, who: Who) -> Response:
    """Children not yet in school, flagged or not, grouped by zone and setting."""
    forbid(who.can_see_county() or who.role == "zone")
    with ctx.read_as(who) as conn:
        rows = [r for r in not_in_school(conn) if who.can_see_zone(r["zone"])]
    ctx.record(who, request, "view_early_years", rows=len(rows))
    shown = labels(ctx, who, [r["child_key"] for r in rows])
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "early_years.html",
        who,
        zones=by_zone(rows),
        shown={k: s.label for k, s in shown.items()},
        total=len(rows),
        flagged=sum(1 for r in rows if r["flags"]),
    )
