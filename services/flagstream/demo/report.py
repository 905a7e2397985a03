"""The demo's closing table: projected Attend counts beside the batch oracle's."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, case, func, select

from projector.tables import children, schools

from ..domain.events import AttendanceMarkRecorded
from ..domain.rules import RuleConfig
from ..generator import County, Register
from ..oracle import raised, recompute

_NIL = uuid.UUID(int=0)  # The oracle needs no event ids.


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
    county: County, regs: Sequence[Register], rules: RuleConfig, as_of: date
) -> dict[str, ZoneCounts]:
    """From the generated registers through the batch oracle (no broker, no flagger)."""
    stamp = datetime(as_of.year, as_of.month, as_of.day, tzinfo=UTC)
    log = (
        AttendanceMarkRecorded(
            event_id=_NIL, source="demo", occurred_at=stamp, recorded_at=stamp,
            child_key=m.upn, urn=r.urn, date=m.date, session=m.session, code=m.code,
        )
        for r in regs
        for m in r.marks
    )  # fmt: skip
    outcomes = recompute(log, as_of, rules)
    zone_of = {s.urn: s.zone for s in county.schools}
    seen: dict[str, int] = defaultdict(int)
    flagged: dict[str, int] = defaultdict(int)
    for pupil in county.pupils:
        if pupil.upn not in outcomes:
            continue
        zone = zone_of[pupil.urn]
        seen[zone] += 1
        flagged[zone] += "ATTEND" in raised(outcomes[pupil.upn])
    return {zone: ZoneCounts(seen[zone], flagged[zone]) for zone in seen}


def render(projected: Mapping[str, ZoneCounts], direct: Mapping[str, ZoneCounts]) -> str:
    """A fixed-width table with a total row and a match column."""
    zones = sorted(set(projected) | set(direct))
    none = ZoneCounts(0, 0)
    header = (
        f"{'zone':<22} {'children':>9} {'Attend (projected)':>19} {'Attend (oracle)':>16}  match"
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
