"""Attain, Family, FSM, SEN and the Attend tiers, as pure functions."""

from datetime import date, timedelta

from flagstream.domain.register import SessionRegister, school_year_start
from flagstream.domain.rules import SENSITIVE
from flagstream.domain.rules.attain import AttainSettings, attain
from flagstream.domain.rules.attend import AttendSettings, attend
from flagstream.domain.rules.family import FAMILY, FamilySettings, family
from flagstream.domain.rules.safeguard import SAFEGUARD, SafeguardSettings, safeguard
from flagstream.domain.rules.simple import FsmSettings, SenSettings, fsm, sen
from flagstream.domain.state import Case, ChildState, Result

D = date(2025, 10, 1)


def test_attain_uses_each_strands_latest_result() -> None:
    # Each strand's latest result counts (no longer the latest round across all kinds):
    # KS2 reading in July 2025 is superseded by a KS3 English grade, not by GCSE maths.
    old = Result("KS2_READING", "92", date(2025, 7, 8))
    state = ChildState("c", results=(old,))
    assert attain(state, D, AttainSettings()).raised
    other = (old, Result("KS4_MATHS", "5", date(2025, 8, 20)))
    assert attain(ChildState("c", results=other), D, AttainSettings()).raised
    newer = (old, Result("KS3_ENGLISH", "5", date(2025, 9, 26)))
    outcome = attain(ChildState("c", results=newer), D, AttainSettings())
    assert not outcome.raised and "2025-09-26" in outcome.reason
    writing = (Result("KS2_WRITING", "WTS", date(2025, 7, 8)),)
    outcome = attain(ChildState("c", results=writing), D, AttainSettings())
    assert outcome.raised and "KS2 writing teacher assessment WTS" in outcome.reason
    # A result dated after the as-of date is not yet known.
    assert not attain(ChildState("c", results=writing), date(2025, 7, 1), AttainSettings()).raised


def test_attain_threshold_is_configuration() -> None:
    state = ChildState("c", results=(Result("KS2_MATHS", "101", date(2025, 7, 8)),))
    assert not attain(state, D, AttainSettings()).raised
    assert attain(state, D, AttainSettings(ks2_scaled_score_expected=102)).raised


def test_family_is_an_open_case_only() -> None:
    case = ChildState("c", cases=(Case("FS-1", date(2025, 9, 1), date(2025, 9, 20)),))
    assert family(case, date(2025, 9, 19), FamilySettings()).tier == "case"
    assert not family(case, date(2025, 9, 20), FamilySettings()).raised
    # A notification alone never raises FAMILY: that is the DSL-only SAFEGUARD flag.
    notified = ChildState("c", notifications=(date(2025, 9, 3),))
    assert not family(notified, date(2025, 9, 10), FamilySettings()).raised


def test_safeguard_notification_window_and_sensitivity() -> None:
    notified = ChildState("c", notifications=(date(2025, 9, 3),))
    within = safeguard(notified, date(2025, 9, 30), SafeguardSettings(notification_days=28))
    assert within.raised and within.tier == "notification"
    assert "2025-09-03" in within.reason
    assert not safeguard(
        notified, date(2025, 10, 1), SafeguardSettings(notification_days=28)
    ).raised
    assert not safeguard(notified, date(2025, 9, 2), SafeguardSettings()).raised  # not yet
    assert SAFEGUARD.sensitive and not FAMILY.sensitive
    assert {"SAFEGUARD"} == SENSITIVE


def test_fsm_periods_and_sen_provision() -> None:
    periods = ((date(2024, 1, 1), date(2025, 9, 30)),)
    assert fsm(ChildState("c", fsm=periods), date(2025, 9, 30), FsmSettings()).raised
    assert not fsm(ChildState("c", fsm=periods), D, FsmSettings()).raised
    history = ((date(2024, 9, 1), "K"), (date(2025, 9, 15), "E"))
    assert sen(ChildState("c", sen=history), date(2025, 9, 14), SenSettings()).raised  # type: ignore[arg-type]
    assert not sen(ChildState("c", sen=history), D, SenSettings()).raised  # type: ignore[arg-type]


def _register(codes_by_day: dict[int, str], start: date) -> SessionRegister:
    reg = SessionRegister(school_year_start(start))
    for offset, code in codes_by_day.items():
        for session in ("AM", "PM"):
            reg = reg.with_mark(start + timedelta(days=offset), session, code)  # type: ignore[arg-type]
    return reg


def test_attend_tiers() -> None:
    start = date(2025, 9, 1)
    severe = _register({i: "I" if i % 3 else "/" for i in range(30)}, start)
    out = attend(ChildState("c", register=severe), start + timedelta(days=29), AttendSettings())
    assert out.raised and out.tier == "severe"
    # Good for six weeks, then off for most of the last four: early warning, YTD under 10%?
    days = {i: "/" for i in range(70)} | {i: "I" for i in range(60, 70)}
    reg = _register(days, start)
    out = attend(ChildState("c", register=reg), start + timedelta(days=69), AttendSettings())
    assert out.raised and "early warning" in out.reason
    # Unauthorised marker: 10 O sessions in the last 10 weeks with otherwise good attendance.
    days = {i: "/" for i in range(70)} | {i: "O" for i in (10, 20, 30, 40, 50)}
    reg = _register(days, start)
    out = attend(ChildState("c", register=reg), start + timedelta(days=69),
                 AttendSettings(persistent_absence_pct=20))  # fmt: skip
    assert out.raised and out.tier == "unauthorised" and "10 unauthorised sessions" in out.reason
