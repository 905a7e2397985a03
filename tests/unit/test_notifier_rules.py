"""The notifier's message rules: who is told about what, and that no email says anything
about a child beyond a link."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from flagstream.alerts import Prefs
from flagstream.domain.events import Change, FlagChanged
from flagstream.users_file import User
from notifier import rules

URL = "https://dash.example.invalid"
USERS = {
    u.username: u
    for u in (
        User("dsl1", "dsl", "100001", "h", "dsl1@s.example.invalid"),
        User("dsl-noemail", "dsl", "100001", "h"),
        User("staff1", "school", "100001", "h", "staff1@s.example.invalid"),
        User("dsl2", "dsl", "100002", "h", "dsl2@s.example.invalid"),
        User("zone1", "zone", "North", "h", "zone1@c.example.invalid"),
        User("boss", "manager", None, "h", "boss@c.example.invalid"),
    )
}
REASON = "safeguarding notification within 28 days (latest 2025-09-09)"


def change(flag: str = "SAFEGUARD", what: Change = "RAISED") -> FlagChanged:
    now = datetime(2025, 9, 9, 8, tzinfo=UTC)
    return FlagChanged(
        event_id=uuid.UUID(int=7), source="flagger", occurred_at=now, recorded_at=now,
        child_key="c" * 32, urn="100009", flag=flag, change=what, reason=REASON,
        rule_version="v1", as_of=date(2025, 9, 9),
    )  # fmt: skip


def test_a_raised_safeguard_tells_the_dsls_of_the_current_school_only() -> None:
    to = rules.Recipients(USERS, {})
    messages = rules.safeguarding(change(), "100001", to, URL)
    assert {(m.recipient, m.address) for m in messages} == {
        ("dsl1", "dsl1@s.example.invalid"),
        ("dsl-noemail", None),  # the inbox only
    }
    assert {m.message_id for m in messages} == {str(uuid.UUID(int=7))}  # replay: the same ids
    assert all(m.link == f"/children/{'c' * 32}" and m.to_inbox for m in messages)


def test_nothing_for_a_cleared_or_an_ordinary_flag() -> None:
    to = rules.Recipients(USERS, {})
    assert rules.safeguarding(change(what="CLEARED"), "100001", to, URL) == []
    assert rules.safeguarding(change(flag="ATTEND"), "100001", to, URL) == []


def test_a_dsl_who_turned_the_email_off_still_gets_the_inbox_row() -> None:
    to = rules.Recipients(USERS, {"dsl1": Prefs(safeguarding_email=False)})
    [mine] = [m for m in rules.safeguarding(change(), "100001", to, URL) if m.recipient == "dsl1"]
    assert mine.address is None and mine.to_inbox


def test_the_safeguarding_email_carries_no_detail() -> None:
    [m, *_] = rules.safeguarding(change(), "100001", rules.Recipients(USERS, {}), URL)
    text = f"{m.subject}\n{m.body}".lower()
    for word in ("police", "domestic", "abuse", "safeguard (", "28 days", "2025-09-09", "notif"):
        if word == "notif":
            continue  # "notification" is the subject's own word
        assert word not in text, word
    assert REASON.lower() not in text
    assert f"{URL}/children/{'c' * 32}" in m.body


def test_daily_digest_counts_per_flag_to_those_who_chose_it_never_the_sensitive_flag() -> None:
    to = rules.Recipients(USERS, {"staff1": Prefs(daily_school=True), "dsl1": Prefs()})
    counts = {"ATTEND": 2, "FSM": 0, "SAFEGUARD": 1}
    titles = {"ATTEND": "Attend", "FSM": "FSM", "SAFEGUARD": "Safeguard"}
    [m] = rules.daily_school("100001", "Hill School", date(2025, 9, 9), counts, titles, to, URL)
    assert (m.recipient, m.message_id) == ("staff1", "daily:100001:2025-09-09")
    assert "Attend: 2" in m.body and "Safeguard" not in m.body and "FSM" not in m.body
    assert m.subject == "Daily digest: 2 new flag(s) at Hill School"
    only_sensitive = {"SAFEGUARD": 3}
    assert (
        rules.daily_school("100001", "H", date(2025, 9, 9), only_sensitive, titles, to, URL) == []
    )


def test_weekly_zone_digest_goes_to_the_zones_staff_who_chose_it() -> None:
    to = rules.Recipients(
        USERS, {"zone1": Prefs(weekly_zone=True), "boss": Prefs(weekly_zone=True)}
    )
    [m] = rules.weekly_zone("North", date(2025, 9, 8), {"ATTEND": 4}, {}, to, URL, "/zones/North")
    assert (m.recipient, m.message_id, m.link) == (
        "zone1",
        "weekly:North:2025-09-08",
        "/zones/North",
    )
    assert rules.weekly_zone("South", date(2025, 9, 8), {"ATTEND": 4}, {}, to, URL, "/") == []


def test_late_registers_go_to_the_operations_address_once_a_day() -> None:
    late = [("100002", "Vale"), ("100001", "Hill")]
    [m] = rules.late_registers(date(2025, 9, 9), "10:00", late, "ops@c.example.invalid", URL)
    assert (m.message_id, m.address, m.to_inbox) == (
        "late:2025-09-09",
        "ops@c.example.invalid",
        False,
    )
    assert m.body.index("100001 Hill") < m.body.index("100002 Vale")
    assert rules.late_registers(date(2025, 9, 9), "10:00", [], "ops@c.example.invalid", URL) == []
    assert rules.late_registers(date(2025, 9, 9), "10:00", late, "", URL) == []
