"""The demo's closing table: projected Attend counts beside counts computed directly."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, case, func, select

from projector.tables import children, schools

from ..domain.codes import ABSENT, ATTENDED
from ..domain.events import Session
from ..domain.rules import RuleConfig
from ..generator import County


@dataclass(frozen=True, slots=True)
class ZoneCounts:
    """Children with marks and children flagged Attend, in one zone."""

    children: int
    attend: int


def projected_by_zone(engine: Engine) -> dict[str, ZoneCounts]:
    """Read from the projected tables, as a dashboard would."""
    query = (
        select(
            schools.c.zone,
            func.count(children.c.child_key),
            func.sum(case((children.c.attend, 1), else_=0)),
        )
        .join(schools, schools.c.urn == children.c.urn)
        .group_by(schools.c.zone)
    )
    with engine.connect() as conn:
        return {zone: ZoneCounts(int(n), int(a or 0)) for zone, n, a in conn.execute(query)}


def direct_by_zone(
    county: County, final: Mapping[tuple[str, date, Session], str], rules: RuleConfig
) -> dict[str, ZoneCounts]:
    """Straight from the generated marks: last mark per session wins, then the DfE sums."""
    possible: dict[str, int] = defaultdict(int)
    absent: dict[str, int] = defaultdict(int)
    for (upn, _day, _session), code in final.items():
        if code in ABSENT:
            absent[upn] += 1
            possible[upn] += 1
        elif code in ATTENDED:
            possible[upn] += 1
    zone_of = {s.urn: s.zone for s in county.schools}
    seen: dict[str, int] = defaultdict(int)
    flagged: dict[str, int] = defaultdict(int)
    marked = {upn for upn, _d, _s in final}
    for pupil in county.pupils:
        if pupil.upn not in marked:
            continue
        zone = zone_of[pupil.urn]
        seen[zone] += 1
        n = possible[pupil.upn]
        if n >= rules.min_possible_sessions and 100 * absent[pupil.upn] >= (
            rules.persistent_absence_pct * n
        ):
            flagged[zone] += 1
    return {zone: ZoneCounts(seen[zone], flagged[zone]) for zone in seen}


def render(projected: Mapping[str, ZoneCounts], direct: Mapping[str, ZoneCounts]) -> str:
    """A fixed-width table with a total row and a match column."""
    zones = sorted(set(projected) | set(direct))
    none = ZoneCounts(0, 0)
    header = (
        f"{'zone':<22} {'children':>9} {'Attend (projected)':>19} {'Attend (direct)':>16}  match"
    )
    lines = [header, "-" * len(header)]
    for zone in [*zones, "TOTAL"]:
        if zone == "TOTAL":
            p = ZoneCounts(
                sum(c.children for c in projected.values()),
                sum(c.attend for c in projected.values()),
            )
            d = ZoneCounts(
                sum(c.children for c in direct.values()), sum(c.attend for c in direct.values())
            )
            lines.append("-" * len(header))
        else:
            p, d = projected.get(zone, none), direct.get(zone, none)
        ok = "yes" if p == d else "NO"
        lines.append(f"{zone:<22} {p.children:>9,} {p.attend:>19,} {d.attend:>16,}  {ok}")
    return "\n".join(lines)
