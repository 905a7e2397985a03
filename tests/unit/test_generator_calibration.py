"""The generator's autumn term against the dated national reference table, by phase and group."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from flagstream.domain.events import Session
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream_tools.generator import DayEnded, SenRecorded, make_county, timeline
from flagstream_tools.generator.calibration import Rates, group_rates, measure, shares
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.generator.groups import Group, pupil_groups
from flagstream_tools.generator.households import households
from flagstream_tools.generator.model import FsmRecorded, RawMark, Register
from flagstream_tools.generator.reference import (
    ABSENCE_GROUPS,
    DEFAULT_PATH,
    Reference,
    ReferenceTableError,
    load_reference,
)
from flagstream_tools.oracle import recompute_children

REFERENCE = load_reference()
DAYS = 70  # about an autumn term
SESSIONS: tuple[Session, Session] = ("AM", "PM")


def _slots(days: list[date]) -> list[tuple[date, Session]]:
    return [(d, s) for d in days for s in SESSIONS]


def _tolerances(pupils: int) -> tuple[float, float]:
    """(absence, persistent) tolerance in points for a group of this many pupils.

    About two standard errors of the sampling noise of a group that size (per-pupil absence
    rates spread about 8 points, persistent absence is a yes/no per pupil), and never less
    than the model's own error on the whole Dorset-sized county (0.8 and 2.5 points).
    """
    return max(0.8, 16 / math.sqrt(pupils)), max(2.5, 100 / math.sqrt(pupils))


def _assert_near(rates: Mapping[str, Rates], reference: Reference, least: int) -> None:
    checked = []
    for name, r in rates.items():
        if r.pupils < least:
            continue  # too few pupils to measure a rate
        ref = reference.absence[name]
        tol_a, tol_p = _tolerances(r.pupils)
        assert abs(r.absence - ref.absence) <= tol_a, (name, r, ref.absence, tol_a)
        assert abs(r.persistent - ref.persistent) <= tol_p, (name, r, ref.persistent, tol_p)
        checked.append(name)
    assert {"overall", "primary", "secondary", "fsm", "not_fsm", "no_sen"} <= set(checked)


def _assert_ordered(rates: Mapping[str, Rates]) -> None:
    """The published order: secondary above primary and special highest; FSM above not FSM;
    EHC plan above SEN support above no SEN."""
    for low, high in (
        ("primary", "secondary"),
        ("secondary", "special"),
        ("not_fsm", "fsm"),
        ("no_sen", "sen_support"),
        ("sen_support", "ehc_plan"),
    ):
        assert rates[low].absence < rates[high].absence, (low, high)
        assert rates[low].persistent < rates[high].persistent, (low, high)


@pytest.fixture(scope="module")
def demo() -> tuple[dict[str, Rates], dict[str, Group]]:
    # The demo county is mostly secondary: weigh its phases as the national mix.
    return measure("demo", 1, DAYS, REFERENCE.phase_mix)


def test_demo_term_is_within_tolerance_of_the_reference(
    demo: tuple[dict[str, Rates], dict[str, Group]],
) -> None:
    rates, _ = demo
    _assert_near(rates, REFERENCE, least=150)  # the demo's one special school is too small
    _assert_ordered(rates)


def test_unauthorised_absence_is_near_the_reference(
    demo: tuple[dict[str, Rates], dict[str, Group]],
) -> None:
    rates, _ = demo
    reference = REFERENCE.absence["overall"].unauthorised
    assert reference is not None
    assert abs(rates["overall"].unauthorised - reference) <= 0.5


def test_fsm_and_sen_shares_by_phase_are_near_the_reference(
    demo: tuple[dict[str, Rates], dict[str, Group]],
) -> None:
    _, groups = demo
    county = make_county("dorset", 0)  # enough special-school pupils to measure
    for each in (groups, pupil_groups(county, 0)):
        for phase, (fsm, k, e) in shares(each).items():
            ref = REFERENCE.shares[phase]
            n = sum(g.phase == phase for g in each.values())
            tol = 2.0 if phase != "special" else 8.0 if n < 150 else 4.0
            assert abs(fsm - ref.fsm) <= tol, (phase, fsm, ref.fsm)
            assert abs(k - ref.sen_support) <= tol, (phase, k, ref.sen_support)
            assert abs(e - ref.ehc_plan) <= tol, (phase, e, ref.ehc_plan)


def test_partner_records_carry_the_same_groups() -> None:
    # The pupils the sources report as FSM or SEN are the ones the absence model treats so.
    county = make_county("tiny", 3)
    start = date(2025, 9, 8)
    groups = pupil_groups(county, 5)
    baseline_sen: dict[str, str] = {}
    baseline_fsm: set[str] = set()
    for item in timeline(county, start, 1, 5):
        if isinstance(item, SenRecorded) and item.effective_on < start:
            baseline_sen[item.upn] = item.provision
        elif isinstance(item, FsmRecorded) and item.eligible_from < start:
            baseline_fsm.add(item.upn)
    assert baseline_sen == {upn: g.sen for upn, g in groups.items()}
    assert baseline_fsm == {upn for upn, g in groups.items() if g.fsm}
    assert baseline_fsm and any(g.sen != "N" for g in groups.values())


def test_attend_flags_follow_the_groups() -> None:
    # The oracle's flags on a generated term: ATTEND is raised more often for FSM pupils and
    # in secondary schools, as persistent absence is.
    county = make_county("tiny", 5)
    items = list(timeline(county, date(2025, 9, 8), DAYS, 5))
    as_of = max(i.day for i in items if isinstance(i, DayEnded))
    rules = parse_rules(DEFAULT_RULES_FILE.read_text(encoding="utf-8"))
    flags = {
        k: r.flags
        for k, r in recompute_children(canonical_events(county, items), as_of, rules).items()
    }
    groups = pupil_groups(county, 5)

    def attend_share(members: list[str]) -> float:
        assert len(members) >= 40, "too few pupils to compare"
        return sum("ATTEND" in flags[upn] for upn in members) / len(members)

    on_roll = [upn for upn in groups if upn in flags]
    fsm = [u for u in on_roll if groups[u].fsm]
    assert attend_share(fsm) > 1.5 * attend_share([u for u in on_roll if not groups[u].fsm])
    secondary = [u for u in on_roll if groups[u].phase == "secondary"]
    assert attend_share(secondary) > attend_share(
        [u for u in on_roll if groups[u].phase == "primary"]
    )


def test_group_rates_count_sessions_pupils_and_the_last_mark() -> None:
    day = date(2025, 9, 8)
    # Over five days A misses 1 of 10 sessions (10%: persistent), B 5 of 10 unauthorised
    # (severe; its first N is corrected to O); C has an X (not possible) and misses none.
    days = [day.replace(day=8 + i) for i in range(5)]
    a = [RawMark("A", d, s, "I" if (d, s) == (day, "AM") else "/") for d in days for s in SESSIONS]
    b = [RawMark("B", d, s, "O" if i < 5 else "/") for i, (d, s) in enumerate(_slots(days))]
    b.insert(0, RawMark("B", day, "AM", "N"))  # corrected by the O that follows
    c = [RawMark("C", d, s, "X" if i == 0 else "/") for i, (d, s) in enumerate(_slots(days))]
    regs = [Register("1", day, tuple(a + b + c))]
    groups = {
        "A": Group("primary", True, "N"),
        "B": Group("secondary", False, "K"),
        "C": Group("primary", False, "N"),
    }
    rates = group_rates(regs, groups)
    assert rates["overall"] == Rates(3, 100 * 6 / 29, 200 / 3, 100 * 5 / 29, 100 / 3)
    assert rates["primary"] == Rates(2, 100 / 19, 50.0, 0.0, 0.0)
    assert rates["fsm"].persistent == 100.0 and rates["sen_support"].severe == 100.0
    assert "special" not in rates and "ehc_plan" not in rates
    # Weighed as 75% primary, 25% secondary: A and C count 37.5 each, B 25.
    weighed = group_rates(regs, groups, {"primary": 75.0, "secondary": 25.0, "special": 0.0})
    assert weighed["overall"].pupils == 3
    assert weighed["overall"].persistent == pytest.approx(100 * (0.75 / 2 + 0.25))


def test_siblings_share_fsm() -> None:
    county = make_county("demo", 2)
    groups, homes = pupil_groups(county, 4), households(county, 4)
    members: dict[str, list[Group]] = {}
    for upn, home in homes.items():
        members.setdefault(home, []).append(groups[upn])
    mainstream = [m for m in members.values() if all(g.phase != "special" for g in m)]
    agree = sum(len({g.fsm for g in m}) == 1 for m in mainstream)
    assert len(mainstream) > 500 and agree >= 0.97 * len(mainstream)
    # Households with an FSM pupil are about a quarter, not the share of pupils compounded.
    with_fsm = sum(any(g.fsm for g in m) for m in mainstream) / len(mainstream)
    assert 0.2 < with_fsm < 0.32


def test_groups_are_deterministic_by_seed() -> None:
    county = make_county("demo", 2)
    assert pupil_groups(county, 4) == pupil_groups(county, 4)
    assert pupil_groups(county, 4) != pupil_groups(county, 5)


def test_reference_table_says_where_each_figure_comes_from() -> None:
    assert set(REFERENCE.absence) == set(ABSENCE_GROUPS)
    for name, figure in REFERENCE.absence.items():
        source = REFERENCE.sources[figure.source]
        assert source.url.startswith("https://"), name
        assert source.published, name
    # Figures no release gives are marked, never passed off as published.
    assert REFERENCE.absence["special"].persistent_assumed
    assert not REFERENCE.absence["fsm"].persistent_assumed
    assert REFERENCE.entered >= date(2025, 8, 7)  # after the census release it quotes


def test_a_broken_reference_table_is_refused_with_the_entry(tmp_path: Path) -> None:
    text = DEFAULT_PATH.read_text(encoding="utf-8")
    broken = tmp_path / "broken.toml"
    broken.write_text(text.replace('source = "census_autumn"', 'source = "nowhere"', 1))
    with pytest.raises(ReferenceTableError, match=r"\[absence.primary\].*nowhere"):
        load_reference(broken)
    broken.write_text(text.replace('unauthorised_source = "', 'unauthorised_source = "x'))
    with pytest.raises(ReferenceTableError, match=r"\[absence.overall\].*has no"):
        load_reference(broken)
    broken.write_text(text.replace("persistent = 31.7", "persistent = 'high'"))
    with pytest.raises(ReferenceTableError, match=r"\[absence.fsm\].*persistent"):
        load_reference(broken)
    with pytest.raises(ReferenceTableError, match="cannot read"):
        load_reference(tmp_path / "missing.toml")


@pytest.mark.skipif(
    not os.environ.get("FLAGSTREAM_SLOW_TESTS"),
    reason="a Dorset-sized autumn term takes about a minute: set FLAGSTREAM_SLOW_TESTS=1",
)
def test_dorset_term_is_within_tolerance_of_the_reference() -> None:
    rates, _ = measure("dorset", 0, DAYS, REFERENCE.phase_mix)
    _assert_near(rates, REFERENCE, least=150)
    assert rates["special"].pupils >= 400  # so special schools were held to the table
    _assert_ordered(rates)
