"""The child page's "Case work" section: shown, and audited, only to those allowed.

For everyone else the child page is built exactly as if no case work existed (no section, no
link, no count), so case work cannot be inferred from the page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from fastapi import Request
from sqlalchemy import select

from readmodel.tables import outcomes

from . import casework
from .authz import Principal
from .context import Context
from .queries import School


@dataclass(frozen=True, slots=True)
class Section:
    work: casework.CaseWork | None
    progress: casework.Progress
    today: date


def allowed(who: Principal, child: dict[str, Any], school: School) -> bool:
    """The DSL of the child's current school, or its zone's users; a child who has left has
    no current school, so nobody (docs/dashboard.md "Case work")."""
    return child.get("left_on") is None and who.can_see_casework(school.urn, school.zone)


def statuses(ctx: Context, who: Principal, child_key: str) -> list[str]:
    """The child's recorded statuses, oldest first (the read model's outcomes)."""
    o = outcomes.c
    stmt = select(o.status).where(o.child_key == child_key).order_by(o.recorded_on, o.recorded_at)
    with ctx.read_as(who) as conn:
        return list(conn.scalars(stmt))


def section(
    ctx: Context, request: Request, who: Principal, child: dict[str, Any], school: School
) -> Section | None:
    """The section's data, its view audited first; None (nothing shown) when not allowed."""
    if not allowed(who, child, school):
        return None
    key = child["child_key"]
    ctx.record(who, request, "view_casework", child_key=key, urn=school.urn)
    with ctx.audit_db.connect() as conn:
        work = casework.load(conn, key)
    return Section(work, casework.progress_of(statuses(ctx, who, key)), ctx.clock().date())
