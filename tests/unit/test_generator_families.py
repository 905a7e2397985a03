"""The synthetic county's households and early-years children (docs/families.md)."""

from __future__ import annotations

from collections import Counter
from datetime import date

from flagstream_tools.generator import make_county
from flagstream_tools.generator.early_years import children, nhs_number, records
from flagstream_tools.generator.households import (
    enrolments_with_households,
    households,
    siblings,
)
from ingest.nhs import check_digit_ok


def test_households_are_siblings_of_one_pyramid_often_at_two_schools() -> None:
    county = make_county("tiny", seed=5)
    refs = households(county, seed=5)
    assert refs == households(county, seed=5)  # deterministic
    assert 0.4 <= len(refs) / len(county.pupils) <= 0.55
    groups = siblings(refs)
    assert all(2 <= len(upns) <= 3 for upns in groups.values())
    by_upn = {p.upn: p for p in county.pupils}
    pyramids = [{county.school(by_upn[u].urn).pyramid for u in upns} for upns in groups.values()]
    assert all(len(p) == 1 for p in pyramids)
    two_schools = [g for g in groups.values() if len({by_upn[u].urn for u in g}) > 1]
    assert len(two_schools) >= len(groups) // 4
    sent = enrolments_with_households(county, refs)
    assert {r["upn"]: r["household_ref"] for r in sent if r["household_ref"]} == refs


def test_early_years_children_have_test_range_nhs_numbers_and_settings_in_zones() -> None:
    county = make_county("tiny", seed=5)
    kids = children(county, 300, date(2026, 10, 1), seed=5)
    assert len({k.nhs_number for k in kids}) == 300
    assert all(k.nhs_number.startswith("999") and check_digit_ok(k.nhs_number) for k in kids)
    assert {k.zone for k in kids} == {s.zone for s in county.schools}
    below = Counter(k.on_track for k in kids)[False] / len(kids)
    assert 0.25 <= below <= 0.42
    assert all(date(2026, 4, 4) <= k.checked_on < date(2026, 10, 1) for k in kids)
    sent = records(kids)
    assert sent[0]["on_track"] in ("true", "false") and sent[0]["nhs_number"] == kids[0].nhs_number


def test_nhs_numbers_drawn_are_valid() -> None:
    import random

    rng = random.Random(1)
    assert all(check_digit_ok(nhs_number(rng)) for _ in range(200))
