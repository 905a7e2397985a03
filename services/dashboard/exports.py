"""Huddle list (printable page and CSV export) and the admin's audit log page."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import APIRouter, Request, Response

from . import audit, huddle_groups, huddle_record, leavers, people, queries, staleness
from .authz import Principal
from .context import Context, flag_label, forbid
from .page_deps import Ctx, Who, _school_or_403
from .security import neutralise

router = APIRouter()


def csv_columns() -> tuple[str, ...]:
    """The huddle CSV's header: a column per open flag of the catalogue."""
    return (
        "Group",
        "Flags in group",
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


def _huddle_list(
    ctx: Context, who: Principal, urn: str
) -> tuple[huddle_groups.Window, list[tuple[str, list[dict[str, Any]]]]]:
    """The list's window (since the last huddle or the half term's start) and its groups,
    each a list of child rows carrying `group_flags` (the flags that put them there)."""
    rows = _huddle_rows(ctx, who, urn)
    flags = queries.flag_columns()
    with ctx.read_as(who) as conn:
        win = huddle_groups.window(
            ctx.term_calendar, ctx.clock().date(), huddle_groups.last_huddle(conn, urn)
        )
        intervals = huddle_groups.school_intervals(conn, urn, win.after)
        now = {r["child_key"]: [f for f in flags if r[f]] for r in rows}
        groups = huddle_groups.group(now, intervals, win.after)
        by_key = {r["child_key"]: r for r in rows}
        missing = {k for g in groups for k in g.flags} - set(by_key)
        extra = queries.school_children(conn, urn, keys=missing) if missing else []
    shown = people.labels(ctx, who, [r["child_key"] for r in extra])
    for row in extra:
        row["label"] = shown[row["child_key"]].label
        row["upn"] = shown[row["child_key"]].upn
        row["reasons"] = ""
        by_key[row["child_key"]] = row
    out = []
    for g in groups:
        # The list's order (most indicators first); a key with no row here is not the
        # viewer's to see (row-level security) and is left out, not counted.
        members = [k for k in by_key if k in g.flags]
        shown_rows = [
            {**by_key[k], "group_flags": [flag_label(f) for f in g.flags[k]]} for k in members
        ]
        out.append((g.name, shown_rows))
    return win, out


def _children_in(groups: list[tuple[str, list[dict[str, Any]]]]) -> int:
    """Children shown (audited), each once however many groups list them."""
    return len({r["child_key"] for _, rows in groups for r in rows})


@router.get("/schools/{urn}/huddle")
def huddle(urn: str, request: Request, ctx: Ctx, who: Who) -> Response:
    found = _school_or_403(ctx, who, urn)
    win, groups = _huddle_list(ctx, who, urn)
    rows = groups[0][1]
    last_reviews: dict[str, dict[str, Any]] = {}
    if win.last_huddle is not None:
        with ctx.read_as(who) as conn:
            last_reviews = huddle_groups.reviews_at(conn, win.last_huddle["event_id"])
    listed = list({r["child_key"]: r for _, members in groups for r in members}.values())
    ctx.record(who, request, "huddle", urn=urn, rows=_children_in(groups))
    return ctx.render(  # type: ignore[no-any-return]
        request,
        "huddle.html",
        who,
        school=found,
        rows=rows,
        groups=groups,
        window=win,
        flags=queries.flag_columns(),
        last_reviews=last_reviews,
        listed=listed,
        sent=request.query_params.get("sent") == "1",
        **huddle_record.form_fields(ctx, who, urn, found.zone),
    )


def huddle_csv(groups: list[tuple[str, list[dict[str, Any]]]], warning: str | None = None) -> str:
    """The huddle list as CSV, a row per child and group (the group is the first column),
    every cell neutralised against formula injection. A warning (the pages' staleness
    banner) goes first, in a row of its own, so whoever opens the file reads it before the
    flags it qualifies."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if warning:
        writer.writerow([neutralise(f"WARNING: {warning}")])
    writer.writerow(csv_columns())
    flags = queries.flag_columns()
    for name, r in ((name, r) for name, rows in groups for r in rows):
        values = [
            name,
            "; ".join(r["group_flags"]),
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
    _, groups = _huddle_list(ctx, who, urn)
    with ctx.read() as conn:
        warning = staleness.banner(conn, ctx.clock())
    ctx.record(who, request, "export_csv", urn=urn, rows=_children_in(groups))
    headers = {"Content-Disposition": f'attachment; filename="huddle-{urn}.csv"'}
    if warning:
        headers["X-Flagstream-Data-Warning"] = "stale"  # for a program reading the file
    return Response(
        huddle_csv(groups, warning), media_type="text/csv; charset=utf-8", headers=headers
    )


@router.get("/audit")
def audit_page(request: Request, ctx: Ctx, who: Who) -> Response:
    forbid(who.can_read_audit())
    with ctx.audit_db.connect() as conn:
        entries = audit.recent(conn)
    ctx.record(who, request, "view_audit", rows=len(entries))
    return ctx.render(request, "audit.html", who, entries=entries)  # type: ignore[no-any-return]
