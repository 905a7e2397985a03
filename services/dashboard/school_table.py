"""A school's child table as the viewer may see it: the rows, their labels, the sensitive
flags for the school's DSL only, and the sort and filter it was asked for (the school page,
its table fragment and the live views share it)."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any
from urllib.parse import urlencode

from . import leavers, people, queries
from .authz import Principal
from .context import Context


def _table_data(
    ctx: Context,
    who: Principal,
    urn: str,
    sort: str,
    desc: bool,
    flag: str | None,
    year: int | None,
    keys: Collection[str] | None = None,
) -> dict[str, Any]:
    sealed = who.sees_sensitive_at(urn)
    sensitive = queries.SENSITIVE_COLUMNS if sealed else ()
    flags = queries.flag_columns()
    if flag not in (*flags, *sensitive):
        flag = None
    listed = flag if flag in flags else None
    with ctx.read_as(who) as conn:
        rows = queries.school_children(conn, urn, sort, desc, listed, year, keys=keys)
        rows = leavers.list_as_shown(
            conn, rows, urn, ctx.leaver_school_days, listed, False, sort, desc
        )
        # Sensitive flags only for the DSL of this school; for everyone else the rows are
        # exactly what they would be had no sensitive record arrived (docs/security.md).
        restricted = queries.restricted_at_school(conn, urn) if sealed else {}
    for row in rows:
        # A child who has left has no current school: no DSL sees their sensitive flags.
        left = row.get("left_on") is not None
        row["sensitive"] = {} if left else restricted.get(row["child_key"], {})
    if flag in sensitive:
        rows = [r for r in rows if flag in r["sensitive"]]
    shown = leavers.label(people.labels(ctx, who, [r["child_key"] for r in rows]), rows)
    params = {
        "sort": sort,
        "dir": "desc" if desc else "asc",
        "flag": flag or "",
        "year": year or "",
    }
    return {
        "rows": rows,
        "shown": shown,
        "sort": sort,
        "desc": desc,
        "flag": flag or "",
        "year": year,
        "query": urlencode({k: v for k, v in params.items() if v != ""}),
        "flags": flags,
        "sensitive_flags": sensitive,
        "urn": urn,
    }
