"""Measure a generated run's absence by phase and pupil group, beside the reference table.

`python -m flagstream_tools.generator.calibration --preset dorset --days 70` prints the
Markdown table docs/generator.md shows.
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from flagstream.domain.codes import ABSENT, ATTENDED, UNAUTHORISED
from flagstream_tools.generator.county import make_county
from flagstream_tools.generator.groups import Group, pupil_groups
from flagstream_tools.generator.marks import final_marks, registers
from flagstream_tools.generator.model import Preset, Register
from flagstream_tools.generator.reference import ABSENCE_GROUPS, Reference, load_reference

AUTUMN_START = date(2025, 9, 8)  # a Monday; 70 school days is about an autumn term
_SEN_GROUP = {"N": "no_sen", "K": "sen_support", "E": "ehc_plan"}


@dataclass(frozen=True, slots=True)
class Rates:
    """One group's measured figures (percentages)."""

    pupils: int
    absence: float  # sessions missed / possible sessions, the group's pupils together
    persistent: float  # pupils who missed 10% or more of their possible sessions
    unauthorised: float  # unauthorised sessions / possible sessions
    severe: float  # pupils who missed 50% or more (not in the reference table)


@dataclass(slots=True)
class _Tally:
    possible: int = 0
    absent: int = 0
    unauthorised: int = 0


def _tallies(regs: Iterable[Register]) -> dict[str, _Tally]:
    out: dict[str, _Tally] = {}
    for (upn, _, _), code in final_marks(regs).items():
        if code in ABSENT or code in ATTENDED:
            t = out.setdefault(upn, _Tally())
            t.possible += 1
            t.absent += code in ABSENT
            t.unauthorised += code in UNAUTHORISED
    return out


def names_of(group: Group) -> tuple[str, ...]:
    """The reference table's groups a pupil counts in."""
    return ("overall", group.phase, "fsm" if group.fsm else "not_fsm", _SEN_GROUP[group.sen])


def group_rates(
    regs: Iterable[Register],
    groups: Mapping[str, Group],
    phase_mix: Mapping[str, float] | None = None,
) -> dict[str, Rates]:
    """Absence, persistent absence and unauthorised absence per reference group.

    With phase_mix (percent of pupils by phase), each pupil counts as much as makes the
    phases weigh as in that mix: a county of another mix compared on the national one.
    `pupils` stays a plain count.
    """
    tallies = {upn: t for upn, t in _tallies(regs).items() if t.possible}
    weight = dict.fromkeys(("primary", "secondary", "special"), 1.0)
    if phase_mix is not None:
        present: Counter[str] = Counter(groups[upn].phase for upn in tallies)
        weight = {p: phase_mix[p] / present[p] if present[p] else 0.0 for p in weight}
    possible: defaultdict[str, float] = defaultdict(float)
    absent: defaultdict[str, float] = defaultdict(float)
    unauth: defaultdict[str, float] = defaultdict(float)
    pupils: Counter[str] = Counter()
    weights: defaultdict[str, float] = defaultdict(float)
    persistent: defaultdict[str, float] = defaultdict(float)
    severe: defaultdict[str, float] = defaultdict(float)
    for upn, t in tallies.items():
        group = groups[upn]
        w = weight[group.phase]
        for name in names_of(group):
            possible[name] += w * t.possible
            absent[name] += w * t.absent
            unauth[name] += w * t.unauthorised
            pupils[name] += 1
            weights[name] += w
            persistent[name] += w * (t.absent * 10 >= t.possible)
            severe[name] += w * (t.absent * 2 >= t.possible)
    return {
        name: Rates(
            pupils[name],
            100 * absent[name] / possible[name],
            100 * persistent[name] / weights[name],
            100 * unauth[name] / possible[name],
            100 * severe[name] / weights[name],
        )
        for name in ABSENCE_GROUPS
        if weights[name]
    }


def shares(groups: Mapping[str, Group]) -> dict[str, tuple[float, float, float]]:
    """(FSM, SEN support, EHC plan) shares of each phase's pupils, in percent."""
    out: dict[str, tuple[float, float, float]] = {}
    for phase in ("primary", "secondary", "special"):
        members = [g for g in groups.values() if g.phase == phase]
        if members:
            n = len(members)
            out[phase] = (
                100 * sum(g.fsm for g in members) / n,
                100 * sum(g.sen == "K" for g in members) / n,
                100 * sum(g.sen == "E" for g in members) / n,
            )
    return out


def measure(
    preset: Preset, seed: int, days: int, phase_mix: Mapping[str, float] | None = None
) -> tuple[dict[str, Rates], dict[str, Group]]:
    """Generate a run from AUTUMN_START and measure it (group_rates says what phase_mix does)."""
    county = make_county(preset, seed)
    groups = pupil_groups(county, seed)
    regs = registers(county, AUTUMN_START, days, seed)
    return group_rates(regs, groups, phase_mix), groups


def markdown(rates: Mapping[str, Rates], reference: Reference) -> str:
    """A table of measured rates beside the reference, assumed figures marked *."""
    lines = [
        "| group | pupils | absence % | reference | persistent % | reference |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, r in rates.items():
        ref = reference.absence[name]
        a = f"{ref.absence:g}{'*' if ref.absence_assumed else ''}"
        p = f"{ref.persistent:g}{'*' if ref.persistent_assumed else ''}"
        lines.append(f"| {name} | {r.pupils} | {r.absence:.2f} | {a} | {r.persistent:.1f} | {p} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", choices=("tiny", "demo", "dorset"), default="dorset")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--days", type=int, default=70)
    parser.add_argument(
        "--national-mix", action="store_true", help="weigh phases as the reference's phase_mix"
    )
    args = parser.parse_args(argv)
    reference = load_reference()
    mix = reference.phase_mix if args.national_mix else None
    rates, groups = measure(args.preset, args.seed, args.days, mix)
    print(markdown(rates, reference))
    overall = rates["overall"]
    print(f"\nunauthorised absence: {overall.unauthorised:.2f}% of possible sessions")
    print(f"severe absence: {overall.severe:.2f}% of pupils missed 50% or more")
    for phase, (fsm, k, e) in shares(groups).items():
        print(f"{phase}: FSM {fsm:.1f}%, SEN support {k:.1f}%, EHC plan {e:.1f}%")


if __name__ == "__main__":
    main()
