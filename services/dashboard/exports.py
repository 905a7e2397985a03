"""Huddle list (printable page and CSV export) and the admin's audit log page."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request, Response

from . import audit, leavers, people, queries
from .authz import Principal
from .context import Context, flag_label, forbid
from .pages import Ctx, Who, _school_or_403
from .security import neutralise

router = APIRouter()


def csv_columns() -> tuple[str, ...]:
    """The huddle CSV's header: a column per open flag of the catalogue."""
    return (
        "Child",
        "Year Group",
        "Gender",
        "Indicators",
        *(flag_label(f) for f in queries.flag_columns()),
        "Reasons",
        "Response",
        "Status",
        "Current Progress",
        "Overall Progress",
    )


def _huddle_rows(ctx: Context, who: Principal, urn: str) -> list[dict[str, Any]]:
    """Flagged children, most indicators first, labelled as this viewer may see them.
    Sensitive flags are never on it, not even for the DSL: the list is printed and shared
    at a meeting whose attendees are not all the DSL (docs/security.md)."""
    with ctx.read_as(who) as conn:
        rows = queries.school_children(conn, urn, "indicators", True, flagged_only=True)
        rows = leavers.list_as_shown(conn, rows, urn, ctx.leaver_school_days, flagged_only=True)
    shown = leavers.label(people.labels(ctx, who, [r["child_key"] for r in rows]), rows)
    for row in rows:
        row["label"] = shown[row["child_key"]].label
        row["upn"] = shown[row["child_key"]].upn
        row["reasons"] = "; ".join(
            f"{flag_label(f)}: {row[f'{f}_reason']}" for f in queries.flag_columns() if row[f]
        )
    return rows


@router.get("/schools/{urn}/huddle")
def huddle(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    found = _school_or_403(ctx, who, urn)
    rows = _huddle_rows(ctx, who, urn)
    ctx.record(who, request, "huddle", urn=urn, rows=len(rows))
    return ctx.render(  # type: ignore[no-any-return]
        request, "huddle.html", who, school=found, rows=rows, flags=queries.flag_columns()
    )


def huddle_csv(rows: list[dict[str, Any]]) -> str:
    """The huddle list as CSV, every cell neutralised against formula injection."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(csv_columns())
    flags = queries.flag_columns()
    for r in rows:
        values = [
            r["label"],
            r["nc_year"],
            r["sex"],
            r["indicators"],
            *("Yes" if r[f] else "No" for f in flags),
            r["reasons"],
            r.get("response"),
            r.get("status"),
            r.get("current_progress"),
            r.get("overall_progress"),
        ]
        writer.writerow([neutralise(v) for v in values])
    return out.getvalue()


@router.get("/schools/{urn}/huddle.csv")
def huddle_export(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    _school_or_403(ctx, who, urn)
    rows = _huddle_rows(ctx, who, urn)
    ctx.record(who, request, "export_csv", urn=urn, rows=len(rows))
    return Response(
        huddle_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="huddle-{urn}.csv"'},
    )


@router.get("/audit")
def audit_page(request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.can_read_audit())
    with ctx.audit_db.connect() as conn:
        entries = audit.recent(conn)
    ctx.record(who, request, "view_audit", rows=len(entries))
    return ctx.render(request, "audit.html", who, entries=entries)  # type: ignore[no-any-return]
