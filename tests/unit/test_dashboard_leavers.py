"""Leavers: on the old school's lists for a window of school days, with only the flags raised
by the leaving date, then on no list and their page answers like an unknown child's."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, update

from dashboard import leavers
from dashboard.context import Context
from readmodel.tables import child_flags, flag_history, rolls, school_days
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, seeded_context

A1, A2, A3, B1, C1 = (c[0] for c in seed.CHILDREN)
LEFT = date(2026, 9, 25)  # Amelia (a1) left on a Friday, 5 school days before seed.TODAY
RAISED_AFTER = date(2026, 9, 28)  # her ATTEND flag was raised after she left; FSM before


def weekdays_until(last: date, n: int) -> list[date]:
    days, day = [], last
    while len(days) < n:
        if day.weekday() < 5:
            days.append(day)
        day -= timedelta(days=1)
    return days


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    built = seeded_context(tmp_path, clock=lambda: seed.NOW)
    with built.read_model.begin() as conn:
        conn.execute(insert(school_days), [{"day": d} for d in weekdays_until(seed.TODAY, 40)])
        conn.execute(
            insert(rolls),
            [
                {"child_key": A1, "urn": "100001", "joined_on": date(2025, 9, 3), "left_on": LEFT},
                # Cole (a3) left in July: more than 20 school days ago.
                {"child_key": A3, "urn": "100001", "joined_on": date(2025, 9, 3),
                 "left_on": date(2026, 7, 17)},
                # Ben (a2) left and came back: his latest spell is open, so he is on roll.
                {"child_key": A2, "urn": "100001", "joined_on": date(2025, 9, 3),
                 "left_on": date(2026, 1, 9)},
                {"child_key": A2, "urn": "100001", "joined_on": date(2026, 2, 2), "left_on": None},
            ],
        )  # fmt: skip
        conn.execute(
            update(child_flags)
            .where(child_flags.c.child_key == A1, child_flags.c.flag == "ATTEND")
            .values(since=RAISED_AFTER)
        )
        conn.execute(
            update(flag_history)
            .where(flag_history.c.child_key == A1, flag_history.c.flag == "ATTEND")
            .values(raised_on=RAISED_AFTER)
        )
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


def huddle(ctx: Context, user: str = "staff") -> dict[str, dict[str, str]]:
    reply = client_for(ctx, user).get("/schools/100001/huddle.csv")
    return {r["Child"]: r for r in csv.DictReader(io.StringIO(reply.text))}


def test_a_recent_leaver_is_listed_with_only_the_flags_raised_before_leaving(
    ctx: Context,
) -> None:
    page = client_for(ctx, "staff").get("/schools/100001").text
    assert "Amelia Ashdown (left 25 Sep 2026)" in page
    rows = huddle(ctx)
    amelia = rows["Amelia Ashdown (left 25 Sep 2026)"]
    assert (amelia["Indicators"], amelia["Attend"], amelia["FSM"]) == ("1", "No", "Yes")
    assert "attendance" not in amelia["Reasons"]
    assert "Ben Barrow" in rows  # left once and came back: on roll, no label


def test_filtering_by_a_flag_raised_after_leaving_does_not_list_the_leaver(
    ctx: Context,
) -> None:
    client = client_for(ctx, "staff")
    assert "Amelia" not in client.get("/schools/100001/table?flag=attend").text
    assert "Amelia" in client.get("/schools/100001/table?flag=fsm").text


def test_a_leaver_past_the_window_is_on_no_list_and_their_page_is_like_an_unknown_child(
    ctx: Context,
) -> None:
    for user in ("staff", "north", "boss"):
        client = client_for(ctx, user)
        listed = client.get("/schools/100001").text + client.get("/schools/100001/table").text
        assert A3[:8] not in listed and "Cole" not in listed
        gone, unknown = client.get(f"/children/{A3}"), client.get("/children/" + "ff" * 32)
        assert (gone.status_code, unknown.status_code) == (403, 403)
        assert gone.text == unknown.text
    assert "=HYPERLINK(1) Cole" not in str(huddle(ctx))


def test_the_leavers_page_shows_flags_and_history_as_of_leaving(ctx: Context) -> None:
    page = client_for(ctx, "staff").get(f"/children/{A1}")
    assert page.status_code == 200
    assert "Amelia Ashdown (left 25 Sep 2026)" in page.text
    assert "attendance 86.4%" not in page.text  # neither the flag nor its history interval
    assert "fsm evidence" in page.text


def test_the_window_is_a_setting(ctx: Context) -> None:
    ctx.leaver_school_days = 4  # Amelia left 5 school days ago
    client = client_for(ctx, "staff")
    assert "Amelia" not in client.get("/schools/100001").text
    assert client.get(f"/children/{A1}").status_code == 403
    denied = [r for r in audit_rows(ctx.audit_db) if r["action"] == "denied"]
    assert denied[-1]["child_key"] == A1
    ctx.leaver_school_days = 5
    assert "Amelia" in client.get("/schools/100001").text


def test_as_of_leaving_hides_only_the_flags_raised_after() -> None:
    row = {
        "child_key": "k",
        "left_on": LEFT,
        "indicators": 3,
        "flags": "ATTEND,FSM,NEWFLAG",
        **{f: False for f in leavers.flag_columns()},
        "attend": True,
        "attend_since": RAISED_AFTER,
        "attend_reason": "low",
        "attend_tier": "",
        "fsm": True,
        "fsm_since": LEFT,
    }
    shown = leavers.as_of_leaving(row)
    assert (shown["attend"], shown["attend_reason"], shown["fsm"]) == (False, None, True)
    assert (shown["indicators"], shown["flags"]) == (2, "FSM,NEWFLAG")
    assert row["attend"] is True  # the query's row is not changed
    assert leavers.as_of_leaving({**row, "left_on": None}) == {**row, "left_on": None}


@pytest.mark.parametrize(
    ("left", "cut", "shown"),
    [(None, date(2026, 9, 1), True), (LEFT, None, True), (LEFT, LEFT, True),
     (LEFT, LEFT + timedelta(days=1), False)],
)  # fmt: skip
def test_still_shown(left: date | None, cut: date | None, shown: bool) -> None:
    assert leavers.still_shown({"left_on": left}, cut) is shown
