"""The generator's results for every year group: kinds, dates and rates, and the share of
pupils Attain then flags per year group (Years 1-4 included)."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date

import pytest

from flagstream.domain.rules.attain import AttainSettings, attain
from flagstream.domain.state import ChildState, Result
from flagstream_tools.generator import (
    AssessmentRecorded,
    County,
    DayEnded,
    FsmRecorded,
    Item,
    make_county,
    timeline,
)

START = date(2025, 9, 6)  # a Saturday: the baseline, then school days from 8 September
NEW = ("EYFS_GLD", "PHONICS", "MTC", "TA_READING", "TA_WRITING", "TA_MATHS", "KS3_ENGLISH",
       "KS3_MATHS")  # fmt: skip


@pytest.fixture(scope="module")
def demo() -> County:
    return make_county("demo", 1)


@pytest.fixture(scope="module")
def items(demo: County) -> list[Item]:
    return list(timeline(demo, START, 5, seed=1))


def _results(items: list[Item]) -> list[AssessmentRecorded]:
    return [x for x in items if isinstance(x, AssessmentRecorded)]


def test_each_year_group_has_its_assessments_at_their_dates(
    demo: County, items: list[Item]
) -> None:
    year = {p.upn: p.nc_year for p in demo.pupils}
    kinds: dict[int, set[str]] = defaultdict(set)
    for x in _results(items):
        assert x.assessed_on < START  # nothing of these is due in the first week of term
        kinds[year[x.upn]].add(x.assessment)
        on = x.assessed_on
        if x.assessment == "EYFS_GLD":
            assert x.result in ("GLD", "NOT_GLD") and (on.month, on.weekday()) == (6, 4)
            assert on.day >= 24  # the end of the summer term's June
        elif x.assessment in ("PHONICS", "MTC"):
            assert on.month == 6 and on.weekday() < 5
            assert 0 <= int(x.result) <= (40 if x.assessment == "PHONICS" else 25)
        elif x.assessment.startswith("TA_"):
            assert x.result in ("PKS", "WTS", "EXS", "GDS")
            assert on.weekday() == 4 and on.month in (12, 3, 7)  # a term's last Friday
        elif x.assessment.startswith("KS3_"):
            assert 1 <= int(x.result) <= 9 and on.weekday() == 4 and on.month in (12, 3, 7)
    new = {y: k & set(NEW) for y, k in kinds.items()}
    assert new.get(0, set()) == set()  # Reception: nothing yet this school year
    assert new[1] == {"EYFS_GLD"}
    assert new[2] == {"EYFS_GLD", "PHONICS", "TA_READING", "TA_WRITING", "TA_MATHS"}
    assert new[3] == {"PHONICS", "TA_READING", "TA_WRITING", "TA_MATHS"}
    assert new[5] == {"MTC", "TA_READING", "TA_WRITING", "TA_MATHS"}
    assert new[6] == {"MTC", "TA_READING", "TA_WRITING", "TA_MATHS"}  # Year 4's MTC counts
    assert new[7] == {"TA_READING", "TA_WRITING", "TA_MATHS"}  # Year 6's spring TAs
    assert new[8] == {"KS3_ENGLISH", "KS3_MATHS", "TA_READING", "TA_WRITING", "TA_MATHS"}
    assert new[9] == {"KS3_ENGLISH", "KS3_MATHS"}
    assert new[11] == {"KS3_ENGLISH", "KS3_MATHS"}  # Year 9's, counted through Year 11
    assert all(not (k & set(NEW)) for y, k in kinds.items() if y >= 12)


def test_the_baseline_holds_each_kinds_latest_result_only(items: list[Item]) -> None:
    per_kind = Counter((x.upn, x.assessment) for x in _results(items))
    assert max(per_kind.values()) == 1
    ta = [x for x in _results(items) if x.assessment == "TA_MATHS"]
    assert Counter(x.assessed_on for x in ta).most_common(1)[0][0] == date(2025, 7, 18)


def test_results_come_at_englands_rates(demo: County, items: list[Item]) -> None:
    year = {p.upn: p.nc_year for p in demo.pupils}
    results = _results(items)

    def share(kind: str, years: tuple[int, ...], met: set[str] | int) -> float:
        got = [x.result for x in results if x.assessment == kind and year[x.upn] in years]
        assert len(got) > 100, kind
        if isinstance(met, int):
            return statistics.mean(int(r) >= met for r in got)
        return statistics.mean(r in met for r in got)

    assert 0.60 < share("EYFS_GLD", (1,), {"GLD"}) < 0.74  # England: ~67%
    assert 0.74 < share("PHONICS", (2,), 32) < 0.86  # Year 1: ~80% meet 32
    mtc = [int(x.result) for x in results if x.assessment == "MTC" and year[x.upn] == 5]
    assert 19.6 < statistics.mean(mtc) < 21.6  # England: 20.6 of 25 on average
    assert 0.27 < statistics.mean(m == 25 for m in mtc) < 0.41  # ~34% full marks
    for kind in ("TA_READING", "TA_WRITING", "TA_MATHS"):
        assert 0.63 < share(kind, (2, 3, 4, 5, 6), {"EXS", "GDS"}) < 0.77  # ~70% EXS+
    assert 0.62 < share("KS3_MATHS", (8, 9, 10), 4) < 0.82
    # Year 3: a retake in June of Year 2 for most of those below 32 in Year 1.
    retakes = [x for x in results if x.assessment == "PHONICS" and year[x.upn] == 3
               and x.assessed_on.year == 2025]  # fmt: skip
    y3 = sum(1 for p in demo.pupils if p.nc_year == 3)
    assert 0.10 < len(retakes) / y3 < 0.28
    assert 0.30 < statistics.mean(int(x.result) >= 32 for x in retakes) < 0.75


def test_attain_flags_every_year_group_from_year_1(demo: County, items: list[Item]) -> None:
    by_pupil: dict[str, list[Result]] = defaultdict(list)
    for x in _results(items):
        by_pupil[x.upn].append(Result(x.assessment, x.result, x.assessed_on))
    end = max(x.day for x in items if isinstance(x, DayEnded))
    fsm = {x.upn for x in items if isinstance(x, FsmRecorded)}
    flagged: dict[int, list[bool]] = defaultdict(list)
    by_fsm: dict[bool, list[bool]] = defaultdict(list)
    for p in demo.pupils:
        state = ChildState(p.upn, results=tuple(by_pupil[p.upn]))
        raised = attain(state, end, AttainSettings()).raised
        flagged[p.nc_year].append(raised)
        by_fsm[p.upn in fsm].append(raised)
    rate = {y: statistics.mean(v) for y, v in flagged.items()}
    assert rate[0] == 0
    for y in (1, 2, 3, 4):  # the council's table: Attain in Key Stage 1 and Years 3-4
        assert 0.22 < rate[y] < 0.65, (y, rate[y])
    assert all(0.2 < rate[y] < 0.65 for y in range(5, 12)), rate
    assert statistics.mean(by_fsm[True]) > statistics.mean(by_fsm[False]) + 0.1


def test_termly_results_arrive_on_their_day_in_the_live_term() -> None:
    county = make_county("tiny", 2)
    year = {p.upn: p.nc_year for p in county.pupils}
    items = list(timeline(county, date(2025, 12, 15), 5, seed=2))
    last_tick = max(i for i, x in enumerate(items) if isinstance(x, DayEnded))
    before = next(i for i, x in enumerate(items) if isinstance(x, DayEnded))
    friday = date(2025, 12, 19)
    autumn = [
        (i, x)
        for i, x in enumerate(items)
        if isinstance(x, AssessmentRecorded) and x.assessed_on == friday
    ]
    assert autumn and all(before < i < last_tick for i, _ in autumn)  # Friday's, not baseline's
    kinds = {(x.assessment[:3], 1 <= year[x.upn] <= 6) for _, x in autumn}
    assert kinds == {("TA_", True), ("KS3", False)}


def test_year_groups_are_those_of_the_runs_school_year(demo: County) -> None:
    # The demo starts in September 2026: a pupil in Year 1 then sat the EYFS profile in
    # June 2026, Year 2 the phonics check, Year 7 KS2 in July 2026; Reception nothing yet.
    year = {p.upn: p.nc_year for p in demo.pupils}
    items = list(timeline(demo, date(2026, 9, 7), 1, seed=1))
    sat: dict[tuple[int, str], set[int]] = defaultdict(set)
    for x in _results(items):
        sat[(year[x.upn], x.assessment)].add(x.assessed_on.year)
    assert not any(y == 0 for y, _ in sat)
    assert sat[(1, "EYFS_GLD")] == {2026} and (1, "PHONICS") not in sat
    assert sat[(2, "PHONICS")] == {2026}
    assert sat[(7, "KS2_READING")] == {2026} and (6, "KS2_READING") not in sat
    assert sat[(12, "KS4_MATHS")] == {2026} and (11, "KS4_MATHS") not in sat
    end = max(x.day for x in items if isinstance(x, DayEnded))
    by_pupil: dict[str, list[Result]] = defaultdict(list)
    for x in _results(items):
        by_pupil[x.upn].append(Result(x.assessment, x.result, x.assessed_on))
    ks1 = [
        attain(ChildState(p.upn, results=tuple(by_pupil[p.upn])), end, AttainSettings()).raised
        for p in demo.pupils
        if p.nc_year in (1, 2)
    ]
    assert 0.25 < statistics.mean(ks1) < 0.65
