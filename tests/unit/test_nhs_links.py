"""A partner without a UPN (docs/families.md): early-years records keyed by NHS number (checked,
then a keyed hash), held under the number's key until an enrolment brings both numbers, then
published under the child's key - those held and every later one; the oracle merges them the
same way, from the log."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from flagstream.codec import Codec
from flagstream.domain.events import EnrolmentRecorded
from flagstream.domain.rules import DEFAULT_RULES
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream.topics import Topics
from flagstream_tools.oracle import raised, recompute
from ingest.intake import Intake, Upload
from ingest.kinds import every_kind
from ingest.nhs import check_digit_ok
from ingest.routing import Router
from tests.extensions import early_years_loaded

from .test_ingest_support import KEY, NOW, OTHER, UPN, Ingest, make_ingest

NHS = "943 476 5919"  # a valid number (the check digit is right); synthetic
EARLY_YEARS = "flagstream.early_years"
AT = datetime(2025, 9, 1, tzinfo=UTC)


@pytest.fixture
def early_years() -> Iterator[ModuleType]:
    """The early-years extension loaded for one test, then removed, so no other sees it."""
    with early_years_loaded() as module:
        yield module


@pytest.fixture
def ingest(tmp_path: Path, early_years: ModuleType) -> Ingest:
    return make_ingest(tmp_path)


def _check(ref: str, on: str, on_track: bool, nhs: str = NHS) -> dict[str, Any]:
    return {
        "nhs_number": nhs, "setting": "EY123456", "zone": "North Zone", "check_ref": ref,
        "checked_on": on, "on_track": "true" if on_track else "false",
    }  # fmt: skip


def _post(
    ingest: Ingest, *records: dict[str, Any], kind_name: str = "early_years"
) -> dict[str, Any]:
    # The kind and codec as the catalogue is now (the HTTP app's routes and codec were made
    # before the extension was loaded here), through the unit of work an upload goes through.
    kind = next(k for k in every_kind() if k.name == kind_name)
    intake = Intake(ingest.store, Router(Topics("t"), 3, Codec()), KEY, lambda: NOW)
    upload = Upload(kind, list(records), "t", "health")
    outcome = intake.submit(upload)
    assert outcome.status == 202
    assert "9434765919" not in str(outcome.receipt) and NHS not in str(outcome.receipt)
    return dict(outcome.receipt)


def _sent(ingest: Ingest) -> list[Any]:
    """What the outbox holds, decoded by a codec that knows the extension's kind."""
    codec = Codec()
    return [e for row in ingest.rows() for e in codec.decode_all(bytes(row.value))]


def _checks(ingest: Ingest, module: ModuleType) -> list[Any]:
    return [e for e in _sent(ingest) if isinstance(e, module.EarlyYearsOutcomeRecorded)]


def test_the_nhs_number_check_digit() -> None:
    assert check_digit_ok("9434765919")
    assert not check_digit_ok("9434765918")  # one digit wrong
    assert not check_digit_ok("943476591")  # nine digits
    assert not check_digit_ok("943476591a")
    # Remainder 1 makes the check 10: no number has it, whatever its last digit.
    assert not any(check_digit_ok(f"000000006{d}") for d in "0123456789")


def test_a_bad_nhs_number_is_refused_by_name_and_never_echoed(
    ingest: Ingest, early_years: ModuleType
) -> None:
    body = _post(ingest, _check("c1", "2025-06-01", False, nhs="9434765918"))
    assert [x["reason"] for x in body["rejections"]] == ["invalid_nhs_number"]
    assert "9434765918" not in str(body)
    dead = b"".join(bytes(r.value) for r in ingest.rows(dead=True))
    assert b"9434765918" not in dead and b"invalid_nhs_number" in dead


def test_records_join_the_child_once_an_enrolment_brings_both_numbers(
    ingest: Ingest, early_years: ModuleType
) -> None:
    before = _post(ingest, _check("c1", "2025-06-01", False))
    assert before["accepted"] == 1
    nhs_key = KEY("nhs:9434765919")
    (held,) = _checks(ingest, early_years)
    assert held.child_key == nhs_key  # no UPN yet: the number's own key
    pupil = {"upn": UPN, "urn": "100001", "nc_year": 0, "sex": "F", "month_of_birth": "2021-01"}
    _post(ingest, {**pupil, "joined_on": "2025-09-01", "nhs_number": NHS}, kind_name="enrolment")
    linked = _checks(ingest, early_years)[-1]
    assert (linked.child_key, linked.event_id) == (KEY(UPN), held.event_id)  # the same record
    _post(ingest, _check("c2", "2025-07-01", True))
    assert _checks(ingest, early_years)[-1].child_key == KEY(UPN)  # later ones: the child's
    enrolments = [e for e in _sent(ingest) if isinstance(e, EnrolmentRecorded)]
    assert enrolments[-1].nhs_key == nhs_key
    everything = b"".join(bytes(r.value) for r in ingest.rows())
    assert b"9434765919" not in everything and b"943 476 5919" not in everything


def test_the_oracle_merges_a_linked_number_into_the_child(early_years: ModuleType) -> None:
    rules = parse_rules(
        DEFAULT_RULES_FILE.read_text() + "\n[flags.EY]\nenabled = true\n", "t", DEFAULT_RULES
    )

    def check(child: str, ref: str, on: date, on_track: bool) -> Any:
        return early_years.EarlyYearsOutcomeRecorded(
            event_id=uuid.uuid4(), source="t", occurred_at=AT, recorded_at=AT, child_key=child,
            setting="EY1", zone="North Zone", check_ref=ref, checked_on=on, on_track=on_track,
        )  # fmt: skip

    enrolment = EnrolmentRecorded(
        event_id=uuid.uuid4(), source="t", occurred_at=AT, recorded_at=AT, child_key="child",
        urn="100001", nc_year=0, sex="F", month_of_birth="2021-01", joined_on=date(2025, 9, 1),
        nhs_key="nhs",
    )  # fmt: skip
    early = check("nhs", "r1", date(2025, 6, 1), False)
    alone = {k: raised(o) for k, o in recompute([early], date(2025, 9, 1), rules).items()}
    assert "EY" in alone["nhs"]  # not yet in school: flagged under the number's key
    log = [early, enrolment]
    merged = {k: raised(o) for k, o in recompute(log, date(2025, 9, 1), rules).items()}
    assert "nhs" not in merged and "EY" in merged["child"]  # one child, not two
    later = check("child", "r2", date(2025, 8, 1), True)
    cleared = {k: raised(o) for k, o in recompute([*log, later], date(2025, 9, 1), rules).items()}
    assert "EY" not in cleared["child"]


def test_a_second_pupil_with_a_linked_number_keeps_the_first_link_and_says_so(
    ingest: Ingest, early_years: ModuleType, caplog: pytest.LogCaptureFixture
) -> None:
    pupil = {"urn": "100001", "nc_year": 0, "sex": "F", "month_of_birth": "2021-01"}
    first = {**pupil, "upn": UPN, "joined_on": "2025-09-01", "nhs_number": NHS}
    _post(ingest, first, kind_name="enrolment")
    other = {**first, "upn": OTHER}
    with caplog.at_level("WARNING", logger="flagstream.ingest"):
        _post(ingest, other, kind_name="enrolment")
    assert "already linked to another pupil" in caplog.text
    assert NHS not in caplog.text and "9434765919" not in caplog.text and OTHER not in caplog.text
    _post(ingest, _check("c9", "2025-07-01", False))
    assert _checks(ingest, early_years)[-1].child_key == KEY(UPN)  # the first link stands
