"""The demo's households and early years (generator/families.py, docs/families.md): what it adds
to a county and timeline, the run file carrying it, and ingest and the file-based oracle
agreeing on every child's flags once it is sent as the demo sends it."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from flagstream.codec import Codec
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream_tools.demo.sender import CHILD_EVENT_ENDPOINTS, send_child_events, send_reference
from flagstream_tools.generator import (
    County,
    DayEnded,
    EarlyYearsRecorded,
    FamilyCaseRecorded,
    Item,
    make_county,
    read_timeline,
    timeline,
    write_timeline,
)
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.generator.families import Families, add_families
from flagstream_tools.generator.households import households
from flagstream_tools.oracle import recompute_children
from ingest.http import app as ingest_app
from ingest.kinds import every_kind
from ingest.nhs import check_digit_ok
from tests.extensions import early_years_loaded

from . import test_ingest_support as support
from .test_ingest_support import KEY, make_ingest

START = date(2025, 9, 1)
SEED = 11  # a tiny county with cases on a household, one naming only it, in 30 days


Run = tuple[County, list[Item], tuple[County, list[Item], Families]]


def _run(seed: int = SEED, days: int = 30) -> Run:
    """A tiny county's timeline, and it with the families the demo adds."""
    county = make_county("tiny", seed)
    items = list(timeline(county, START, days, seed))
    return county, items, add_families(county, items, seed, START)


def test_families_add_households_household_cases_and_early_years_checks() -> None:
    county, items, (fam_county, fam_items, summary) = _run()
    assert add_families(county, items, SEED, START) == (fam_county, fam_items, summary)
    refs = households(county, SEED)
    assert {p.upn: p.household_ref for p in fam_county.pupils if p.household_ref} == refs
    assert summary.households == len(set(refs.values())) and summary.household_pupils == len(refs)
    # The same pupils, days and records otherwise: only the family fields are new.
    assert [replace(p, household_ref=None, nhs_number=None) for p in fam_county.pupils] == list(
        county.pupils
    )
    checks = fam_items[: summary.early_years_children]  # in the baseline, before any register
    assert all(isinstance(i, EarlyYearsRecorded) for i in checks)
    others = [i for i in fam_items if not isinstance(i, EarlyYearsRecorded)]
    assert len(others) == len(items)
    for was, now in zip(items, others, strict=True):
        if isinstance(was, FamilyCaseRecorded) and was != now:  # on the household, and
            assert now == replace(was, upn=now.upn, household_ref=refs[was.upn])
            assert now.upn in (was.upn, "")  # perhaps naming only the household
        else:
            assert now == was
    assert all(i.checked_on < START and check_digit_ok(i.nhs_number) for i in checks)
    assert len({i.nhs_number for i in checks}) == len(checks) == summary.early_years_children
    # Some Reception pupils' enrolments bring the NHS number of a check, in their school's zone.
    linked = [p for p in fam_county.pupils if p.nhs_number]
    assert len(linked) == summary.linked_pupils >= 1
    assert all(p.nc_year == 0 for p in linked)
    zone_of = {c.nhs_number: c.zone for c in checks}
    assert all(zone_of[p.nhs_number] == fam_county.school(p.urn).zone for p in linked)
    zones = fam_county.zones()  # and each setting is one of its zone's (EY<zone><n>)
    assert all(c.setting[:4] == f"EY{zones.index(c.zone) + 1:02d}" for c in checks)
    # On school days, children not yet in school are checked again, dated that day.
    later = fam_items[summary.early_years_children :]
    again = [(n, i) for n, i in enumerate(later) if isinstance(i, EarlyYearsRecorded)]
    assert len(again) == summary.rechecks >= 1
    ends = [(n, i.day) for n, i in enumerate(later) if isinstance(i, DayEnded)]
    assert all(next(d for m, d in ends if m > n) == i.checked_on for n, i in again)
    first = {c.nhs_number: c for c in checks}
    assert all(first[i.nhs_number].setting == i.setting for _, i in again)
    assert not {i.nhs_number for _, i in again} & {p.nhs_number for p in linked}
    # A case is on a household (naming its pupil or not) for all its records or none.
    on = Counter(
        (i.case_id, i.household_ref, i.upn == "")
        for i in fam_items
        if isinstance(i, FamilyCaseRecorded)
    )
    assert all(n == 1 for n in Counter(case for case, _, _ in on).values())
    assert summary.household_cases == len([1 for _, ref, _ in on if ref]) >= 2
    assert summary.household_only == len([1 for _, _, alone in on if alone]) >= 1


@pytest.mark.parametrize("suffix", [".jsonl", ".avro"])
def test_the_run_file_carries_the_families(tmp_path: Path, suffix: str) -> None:
    _, _, (county, items, _) = _run(days=5)
    path = tmp_path / f"run{suffix}"
    write_timeline(path, county, items)
    assert read_timeline(path) == (county, items)


def test_a_run_file_written_before_the_family_fields_still_reads(tmp_path: Path) -> None:
    county, items, _ = _run(days=2)
    path = tmp_path / "run.jsonl"
    write_timeline(path, county, items)
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    for line in lines:
        line.pop("household_ref", None)
        line.pop("nhs_number", None)
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    assert read_timeline(path) == (county, items)


def test_sent_as_the_demo_sends_them_ingest_and_the_file_oracle_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, (county, items, summary) = _run()
    partner_items = [i for i in items if type(i) in CHILD_EVENT_ENDPOINTS]  # all but marks
    with early_years_loaded():
        # The app's routes and the codec as the catalogue is now, the extension loaded (the
        # demo's services load it at start, before ingest is imported).
        kinds = every_kind()
        monkeypatch.setattr(ingest_app, "KINDS", kinds)
        monkeypatch.setattr(ingest_app, "BY_NAME", {k.name: k for k in kinds})
        monkeypatch.setattr(support, "CODEC", Codec())
        rules = parse_rules(
            DEFAULT_RULES_FILE.read_text() + "\n[flags.EY]\nenabled = true\n", "test rules"
        )
        ingest = make_ingest(tmp_path, max_records=1000, now=datetime(2026, 1, 1, tzinfo=UTC))
        ingest.client.headers.update(ingest.headers())
        assert send_reference(ingest.client, county)[1] == 0
        accepted, rejected = send_child_events(ingest.client, partner_items, 50)
        assert (accepted, rejected) == (len(partner_items), 0)
        published = ingest.sent()
        from_file = list(canonical_events(county, partner_items, KEY))
        as_of = date(2025, 10, 10)
        oracle_ingest = recompute_children(published, as_of, rules)
        oracle_file = recompute_children(from_file, as_of, rules)
    flags = {k: r.flags for k, r in oracle_ingest.items()}
    assert flags == {k: r.flags for k, r in oracle_file.items()}
    # Nothing raw: no NHS number or household reference in any record ingest published.
    values = b"".join(row.value for row in ingest.rows())
    raw = {p.household_ref for p in county.pupils if p.household_ref} | {
        i.nhs_number for i in items if isinstance(i, EarlyYearsRecorded)
    }
    assert raw and not [r for r in raw if r.encode() in values]
    # FAMILY reaches siblings with no case of their own; EY is on pupils and pre-school children.
    own_case = {KEY(i.upn) for i in items if isinstance(i, FamilyCaseRecorded)}
    pupils = {KEY(p.upn) for p in county.pupils}
    assert [k for k, f in flags.items() if "FAMILY" in f and k not in own_case]
    below = {i.nhs_number for i in items if isinstance(i, EarlyYearsRecorded) and not i.on_track}
    linked = [p for p in county.pupils if p.nhs_number]
    # A linked pupil's check joined its state (EY as its check says), its number no child.
    assert all(("EY" in flags[KEY(p.upn)]) == (p.nhs_number in below) for p in linked)
    assert not {KEY(f"nhs:{p.nhs_number}") for p in linked} & flags.keys()
    assert [k for k, f in flags.items() if "EY" in f and k not in pupils]  # not yet in school
    assert len(flags) == len(pupils) + summary.early_years_children - summary.linked_pupils


def test_reconcile_counts_a_child_with_no_school_as_not_yet_in_school() -> None:
    from flagstream_tools.reconcile import ANY, Child, by_zone

    kids = {"a": Child("", frozenset({"EY"})), "b": Child("9", frozenset({"SEN"}))}
    counts = by_zone(kids, {"1": "North"}, ["EY", "SEN"])
    assert counts["(not yet in school)"] == {"EY": 1, "SEN": 0, ANY: 1}
    assert counts["(unknown school)"] == {"EY": 0, "SEN": 1, ANY: 1}


def test_the_demo_sends_half_the_linked_pupils_checks_before_their_enrolments() -> None:
    from flagstream_tools.demo.day_sender import by_day
    from flagstream_tools.demo.runner import _checks_first

    _, _, (county, items, summary) = _run(days=3)
    days = list(by_day(items))
    first, rest = _checks_first(county, days)
    linked = {p.nhs_number for p in county.pupils if p.nhs_number}
    assert len(first) == (summary.linked_pupils + 1) // 2
    assert all(isinstance(i, EarlyYearsRecorded) and i.nhs_number in linked for i in first)
    assert sorted(map(repr, first + rest[0][2])) == sorted(map(repr, days[0][2]))  # none lost
    assert rest[1:] == days[1:] and rest[0][:2] == days[0][:2]


def test_generate_with_families_writes_them_to_the_run_file(tmp_path: Path) -> None:
    from flagstream_tools.cli import main

    path = tmp_path / "run.jsonl"
    args = ["generate", "--preset", "tiny", "--seed", str(SEED), "--days", "30"]
    assert main([*args, "--start", START.isoformat(), "--out", str(path)]) == 0
    plain = read_timeline(path)
    assert main([*args, "--start", START.isoformat(), "--families", "--out", str(path)]) == 0
    assert read_timeline(path) == add_families(*plain, SEED, START)[:2]
