"""Synthetic county generator: shape, determinism, attendance realism and file round trips."""

from __future__ import annotations

import statistics
from collections import Counter
from datetime import date
from itertools import pairwise
from pathlib import Path

import pytest

from flagstream.domain.codes import ABSENT, ATTENDED, CATEGORY_OF
from flagstream.domain.upn import upn_problem
from flagstream_tools.generator import (
    County,
    Register,
    final_marks,
    make_county,
    plan_moves,
    read_avro,
    read_jsonl,
    read_run,
    registers,
    school_days,
    write_avro,
    write_jsonl,
    write_run,
)

START = date(2025, 9, 6)  # a Saturday: the first school day is Monday 8 September

# Year groups each phase may teach.
YEARS = {
    "PRIMARY": range(0, 7),
    "FIRST": range(0, 4),
    "MIDDLE": range(4, 8),
    "SECONDARY": range(7, 14),
    "UPPER": range(8, 14),
    "SPECIAL": range(0, 14),
}


@pytest.fixture(scope="module")
def tiny() -> County:
    return make_county("tiny", 7)


@pytest.fixture(scope="module")
def tiny_regs(tiny: County) -> list[Register]:
    return list(registers(tiny, START, 10, seed=3))


@pytest.fixture(scope="module")
def demo() -> County:
    return make_county("demo", 1)


@pytest.fixture(scope="module")
def demo_regs(demo: County) -> list[Register]:
    return list(registers(demo, START, 30, seed=1))


def test_upns_are_valid_and_unique(demo: County) -> None:
    upns = [p.upn for p in demo.pupils]
    assert all(upn_problem(u) is None for u in upns)
    assert len(set(upns)) == len(upns)
    assert {u[1:4] for u in upns} == {"835"}


def test_schools_and_pupils_are_well_formed(demo: County) -> None:
    urns = [s.urn for s in demo.schools]
    assert len(set(urns)) == len(urns)
    assert all(len(u) == 6 and u.isdigit() for u in urns)
    assert len({s.establishment for s in demo.schools}) == len(demo.schools)
    assert demo.school(urns[0]) is demo.schools[0]
    assert demo.zones() == sorted({s.zone for s in demo.schools})
    for pupil in demo.pupils:
        school = demo.school(pupil.urn)
        assert pupil.nc_year in YEARS[school.phase]
        assert pupil.sex in ("F", "M")
        # Year N in 2025/26 was born September (2020 - N) to August (2021 - N).
        year, month = map(int, pupil.month_of_birth.split("-"))
        assert (year, month) >= (2020 - pupil.nc_year, 9)
        assert (year, month) <= (2021 - pupil.nc_year, 8)
        assert pupil.joined_on.month == 9 and pupil.joined_on.day == 1
        assert pupil.joined_on < START
    sexes = Counter(p.sex for p in demo.pupils)
    assert 0.4 < sexes["F"] / len(demo.pupils) < 0.6


def test_county_is_deterministic_by_seed() -> None:
    assert make_county("demo", 5) == make_county("demo", 5)
    assert make_county("demo", 5) != make_county("demo", 6)


def test_registers_are_deterministic_by_seed(tiny: County, tiny_regs: list[Register]) -> None:
    assert list(registers(tiny, START, 10, seed=3)) == tiny_regs
    assert list(registers(tiny, START, 10, seed=4)) != tiny_regs


@pytest.mark.parametrize("seed", range(5))
def test_tiny_preset_size(seed: int) -> None:
    county = make_county("tiny", seed)
    assert len(county.zones()) == 2
    assert 4 <= len(county.schools) <= 6
    assert 150 <= len(county.pupils) <= 300


def test_dorset_preset_size() -> None:
    county = make_county("dorset", 0)
    assert len(county.zones()) == 7
    assert 150 <= len(county.schools) <= 190
    assert 40_000 <= len(county.pupils) <= 50_000
    phases = Counter(s.phase for s in county.schools)
    assert phases["PRIMARY"] > phases["SECONDARY"] > phases["SPECIAL"] > 0
    assert phases["FIRST"] and phases["MIDDLE"] and phases["UPPER"]
    assert all("Zone" in z for z in county.zones())


def test_registers_cover_every_pupil_on_weekdays(tiny: County, tiny_regs: list[Register]) -> None:
    days = school_days(START, 10)
    assert days[0] == date(2025, 9, 8)
    assert all(d.weekday() < 5 for d in days)
    assert sorted({r.day for r in tiny_regs}) == days
    moves = plan_moves(tiny, days, seed=3)
    assert moves, "no mover in this run: the test would not see marks follow a pupil"

    def school_on(upn: str, urn: str, i: int) -> str | None:
        """The school marking the pupil on school day i: None once they left the county."""
        move = moves.get(upn)
        if move is None or move.kind == "regrouped" or i < move.day:
            return urn
        return move.to if move.kind == "moved" else None

    seen = set()
    for reg in tiny_regs:
        seen.add((reg.urn, reg.day))
        i = days.index(reg.day)
        roll = {p.upn for p in tiny.pupils if school_on(p.upn, p.urn, i) == reg.urn}
        today = [(m.upn, m.session) for m in reg.marks if m.date == reg.day]
        assert {(u, s) for u in roll for s in ("AM", "PM")} == set(today)
        assert all(m.code in CATEGORY_OF for m in reg.marks)
    assert seen == {(s.urn, d) for s in tiny.schools for d in days}


def test_register_order_is_by_day_then_school(demo: County, demo_regs: list[Register]) -> None:
    order = [s.urn for s in demo.schools]
    keys = [(r.day, order.index(r.urn)) for r in demo_regs]
    assert keys == sorted(keys)


def test_attendance_distribution_is_realistic(demo_regs: list[Register]) -> None:
    attended: Counter[str] = Counter()
    possible: Counter[str] = Counter()
    for (upn, _, _), code in final_marks(demo_regs).items():
        if code in ATTENDED or code in ABSENT:
            possible[upn] += 1
            attended[upn] += code in ATTENDED
    rates = [attended[u] / possible[u] for u in possible]
    # Absence is skewed (propensity.py): the median pupil misses a session or two, the mean
    # is held to the national figures by test_generator_calibration.
    assert 0.95 <= statistics.median(rates) <= 0.99
    persistent = sum(r < 0.90 for r in rates) / len(rates)
    assert 0.08 < persistent < 0.35
    assert any(r < 0.5 for r in rates)  # collapse and severe cases


def test_unauthorised_absence_and_varied_codes(demo_regs: list[Register]) -> None:
    codes = Counter(final_marks(demo_regs).values())
    assert codes["I"] > codes["M"] > 0
    for code in ("L", "O", "G", "U", "C", "E", "R", "B", "P", "V"):
        assert codes[code] > 0, code
    assert codes["N"] == 0  # every N is corrected later


def test_corrections_follow_and_win(demo_regs: list[Register]) -> None:
    # Resent registers repeat their N marks; look at each submission once.
    regs = [r for k, r in enumerate(demo_regs) if k == 0 or r != demo_regs[k - 1]]
    last_day = regs[-1].day
    finals = final_marks(demo_regs)
    corrected = 0
    for i, reg in enumerate(regs):
        for j, mark in enumerate(reg.marks):
            if mark.code != "N":
                continue
            key = (mark.upn, mark.date, mark.session)
            if reg.day == last_day:
                carrier = reg  # no next register: the fix follows in the same one
                fixes = reg.marks[j + 1 :]
            else:
                carrier = next(r for r in regs[i + 1 :] if r.urn == reg.urn)
                fixes = carrier.marks
            fix = next(m for m in fixes if (m.upn, m.date, m.session) == key)
            assert fix.code in ABSENT and fix.code != "N"
            assert mark.date == reg.day and carrier.day >= reg.day
            assert finals[key] == fix.code
            corrected += 1
    assert corrected >= 5
    assert "N" not in finals.values()


def test_some_registers_are_sent_twice(demo_regs: list[Register]) -> None:
    twins = sum(a == b for a, b in pairwise(demo_regs))
    assert 0 < twins < len(demo_regs) * 0.05


@pytest.mark.parametrize("suffix", [".jsonl", ".avro"])
def test_run_files_round_trip_exactly(
    tmp_path: Path, tiny: County, tiny_regs: list[Register], suffix: str
) -> None:
    path = tmp_path / f"run{suffix}"
    written = write_run(path, tiny, tiny_regs)
    assert written == 1 + len(tiny.schools) + len(tiny.pupils) + len(tiny_regs)
    county, regs = read_run(path)
    assert county == tiny and county.name == tiny.name
    assert regs == tiny_regs


def test_direct_readers_and_writers(
    tmp_path: Path, tiny: County, tiny_regs: list[Register]
) -> None:
    write_jsonl(tmp_path / "a.txt", tiny, tiny_regs)
    write_avro(tmp_path / "b.bin", tiny, tiny_regs)
    assert read_jsonl(tmp_path / "a.txt") == (tiny, tiny_regs)
    assert read_avro(tmp_path / "b.bin") == (tiny, tiny_regs)


def test_unknown_suffix_is_refused(tmp_path: Path, tiny: County) -> None:
    with pytest.raises(ValueError, match=r"\.jsonl or \.avro"):
        write_run(tmp_path / "run.csv", tiny, [])
    with pytest.raises(ValueError, match="suffix"):
        read_run(tmp_path / "run")


def test_bad_run_files_are_refused(tmp_path: Path, tiny: County) -> None:
    path = tmp_path / "run.jsonl"
    write_jsonl(path, tiny, [])
    lines = path.read_text(encoding="utf-8").splitlines()
    path.write_text("\n".join(lines[1:]), encoding="utf-8")
    with pytest.raises(ValueError, match="no county"):
        read_jsonl(path)
    path.write_text("\n".join([lines[0], lines[1].replace('"phase":"', '"phase":"X')]))
    with pytest.raises(ValueError, match="is not a Phase"):
        read_jsonl(path)
