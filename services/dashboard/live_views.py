"""What a live page is sent: its view class (what its viewer may see) and the rows of that
class that changed, rendered with the same templates and scoped queries as the page itself."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass

from . import queries
from .authz import Principal
from .context import Context
from .school_table import _table_data

# One children-table row as _children_table.html renders it (no nested tables inside).
_ROW = re.compile(r'<tr data-child="([^"]+)"[^>]*>.*?</tr>', re.S)


@dataclass(frozen=True, slots=True)
class SchoolView:
    """A school page as a class of viewers sees it: viewers of one class get the same rows,
    so each change is computed once per class, never once per viewer."""

    urn: str
    names: bool
    upn: bool
    sensitive: bool
    flag: str = ""
    year: int | None = None

    @classmethod
    def of(cls, who: Principal, urn: str, flag: str = "", year: int | None = None) -> SchoolView:
        sensitive = who.sees_sensitive_at(urn)
        allowed = (*queries.flag_columns(), *(queries.SENSITIVE_COLUMNS if sensitive else ()))
        return cls(
            urn, who.sees_names(), who.sees_upn(), sensitive, flag if flag in allowed else "", year
        )

    @property
    def page(self) -> str:
        return f"/live/schools/{self.urn}"


@dataclass(frozen=True, slots=True)
class ZoneView:
    """A zone page: counts per school, the same for every role that may open it."""

    zone: str

    @property
    def page(self) -> str:
        return f"/live/zones/{self.zone}"


View = SchoolView | ZoneView


def school_rows(
    ctx: Context, who: Principal, view: SchoolView, keys: Collection[str]
) -> tuple[dict[str, str], list[str]]:
    """The rendered rows of these children as `who` (one of the class) sees them on the
    page, and the keys no longer on it (moved, left past the window, filtered out)."""
    if not keys:
        return {}, []
    table = _table_data(
        ctx, who, view.urn, "indicators", True, view.flag or None, view.year, keys=keys
    )
    html = ctx.templates.env.get_template("_children_table.html").render(
        who=who, fragment=False, **table
    )
    rows = {m.group(1): m.group(0) for m in _ROW.finditer(html)}
    return rows, sorted(set(keys) - rows.keys())


def zone_rows(ctx: Context, who: Principal, view: ZoneView) -> dict[str, str]:
    """Every school row of the zone page, rendered as the page renders it."""
    with ctx.read_as(who) as conn:
        counts = queries.school_counts(conn, view.zone)
    template = ctx.templates.env.get_template("_zone_row.html")
    flags = queries.flag_columns()
    return {s.key: template.render(s=s, flags=flags).strip() for s in counts}
