"""Flag churn: the flag intervals and re-flags a rules file makes over a generated county.

The county's timeline is streamed through the flagger's own step (flagging.step), one
register or record per message and a day-end tick for every child each day, as the flagger
evaluates; the flag changes are paired into intervals by the projector's own
history.intervals. Nothing is written: only counts come out (no child key, no school).

    .venv/bin/python -m flagstream_tools.flag_churn --preset demo --days 35 \\
        --rules deploy/rules.toml [--clear-at-raise --reflag-after-days 0] [--check-oracle]
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from flagstream.domain import events as ev
from flagstream.domain.flagging import step
from flagstream.domain.rules import RuleConfig
from flagstream.domain.rules.attend import AttendSettings
from flagstream.domain.state import ChildState
from flagstream.rules_file import load_rules
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.generator.county import make_county
from flagstream_tools.generator.sources import timeline
from flagstream_tools.oracle import raised, recompute_children
from projector.history import REFERRAL_WINDOW_DAYS, intervals

_AT = datetime(2026, 1, 1)


@dataclass(frozen=True, slots=True)
class Churn:
    """Per flag: intervals, re-flags counted with the gap, raises after any clear in 12 months."""

    intervals: Counter[str]
    reflags: Counter[str]
    raised_again: Counter[str]
    evaluations: int
    seconds: float


def stream_changes(
    events: Iterable[Any], config: RuleConfig, states: dict[str, ChildState] | None = None
) -> tuple[list[Any], int]:
    """Every flag change the flagger would emit, and how many child evaluations it made;
    each child's final state is left in `states`."""
    states = {} if states is None else states
    changes: list[Any] = []
    evaluations = 0

    def apply(key: str, batch: list[Any]) -> None:
        nonlocal evaluations
        result = step(states.get(key) or ChildState(key), batch, config, "churn", _AT)
        states[key] = result.state
        changes.extend(result.changes)
        evaluations += result.evaluated

    for event in events:
        if isinstance(event, ev.DayEnded):
            for key in list(states):
                apply(key, [event])
        elif isinstance(event, ev.AttendanceMarksRecorded):
            by_child: dict[str, list[Any]] = defaultdict(list)
            for mark in event.marks:
                by_child[mark.child_key].append(mark)
            for key, marks in by_child.items():
                apply(key, marks)
        elif hasattr(event, "child_key"):
            apply(event.child_key, [event])
    return changes, evaluations


def churn(
    events: Iterable[Any],
    config: RuleConfig,
    reflag_after_days: int,
    states: dict[str, ChildState] | None = None,
) -> Churn:
    """Count the intervals and re-flags of a streamed timeline."""
    started = time.perf_counter()
    changes, evaluations = stream_changes(events, config, states)
    seconds = time.perf_counter() - started
    rows = intervals(changes, reflag_after_days)
    again = Counter(
        r["flag"] for r in rows
        if r["previous_cleared_on"] is not None
        and (r["raised_on"] - r["previous_cleared_on"]).days <= REFERRAL_WINDOW_DAYS
    )  # fmt: skip
    return Churn(
        Counter(r["flag"] for r in rows),
        Counter(r["flag"] for r in rows if r["reflagged_within_12m"]),
        again,
        evaluations,
        seconds,
    )


def disagreements(states: dict[str, ChildState], expected: dict[str, Any]) -> int:
    """Children whose streamed flags and tiers differ from the oracle's."""

    def streamed(key: str) -> dict[str, str]:
        return {f.flag: f.tier for f in states[key].flags} if key in states else {}

    def recomputed(key: str) -> dict[str, str]:
        return raised(expected[key].outcomes) if key in expected else {}

    return sum(streamed(k) != recomputed(k) for k in set(states) | set(expected))


def without_clearing_level(config: RuleConfig) -> RuleConfig:
    """ATTEND as before issue 18: it clears at the raise level, with no minimum time raised."""
    attend = config.flags["ATTEND"]
    assert isinstance(attend, AttendSettings)
    level = dataclasses.replace(
        attend,
        persistent_clear_below_pct=attend.persistent_absence_pct,
        persistent_min_raised_days=0,
    )
    return RuleConfig(f"{config.version}-no-clearing-level", {**config.flags, "ATTEND": level})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=["tiny", "demo", "dorset"], default="demo")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--days", type=int, default=35, help="school days (35: seven weeks)")
    parser.add_argument("--start", type=date.fromisoformat, default=date(2026, 9, 7))
    parser.add_argument("--rules", type=Path, default=Path("deploy/rules.toml"))
    parser.add_argument(
        "--clear-at-raise",
        action="store_true",
        help="ATTEND without its clearing level or minimum time raised",
    )
    parser.add_argument("--reflag-after-days", type=int, default=28)
    parser.add_argument(
        "--check-oracle",
        action="store_true",
        help="also recompute every child's flags with the oracle and count disagreements",
    )
    args = parser.parse_args(argv)
    config = load_rules(args.rules)
    if args.clear_at_raise:
        config = without_clearing_level(config)
    county = make_county(args.preset, args.seed)
    items = list(timeline(county, args.start, args.days, args.seed))
    events = list(canonical_events(county, items))
    states: dict[str, ChildState] = {}
    result = churn(events, config, args.reflag_after_days, states)
    print(
        f"{args.preset} county, seed {args.seed}, {len(county.pupils):,} pupils, "
        f"{args.days} school days from {args.start}; rules {config.version}; "
        f"re-flag after {args.reflag_after_days} days"
    )
    for flag in sorted(result.intervals):
        print(
            f"  {flag:<10} intervals {result.intervals[flag]:>6,}  re-flags "
            f"{result.reflags[flag]:>5,}  (raised again within 12 months, any gap: "
            f"{result.raised_again[flag]:,})"
        )
    per = 1e6 * result.seconds / max(1, result.evaluations)
    print(f"  {result.evaluations:,} evaluations in {result.seconds:.1f} s ({per:.1f} us each)")
    if args.check_oracle:
        as_of = max(s.as_of for s in states.values() if s.as_of is not None)
        differ = disagreements(states, recompute_children(events, as_of, config))
        print(f"  oracle as of {as_of}: {differ:,} of {len(states):,} children differ")
        return 1 if differ else 0
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
