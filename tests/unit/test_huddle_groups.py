"""The huddle list's groups (newly flagged, cleared, re-flagged within 12 months) at their
edges, and the huddle page and CSV built from them on the seeded read model."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import insert

from dashboard import huddle_groups as hg
from dashboard.context import Context
from flagstream.term_calendar import england
from projector.history import intervals
from readmodel.tables import flag_history, huddles
from tests.browser import seed
from tests.unit.test_dashboard import client_for, seeded_context

A1, A2, A3, B1, C1 = (c[0] for c in seed.CHILDREN)
AFTER = date(2026, 10, 1)


def _row(key: str, flag: str, raised: date, cleared: date | None = None, re: bool = False) -> Any:
    return {
        "child_key": key,
        "flag": flag,
        "raised_on": raised,
        "cleared_on": cleared,
        "reflagged_within_12m": re,
    }


def _members(groups: list[hg.Group]) -> dict[str, dict[str, list[str]]]:
    return {g.name: g.flags for g in groups}


def test_newly_flagged_means_raised_after_the_last_huddle_day() -> None:
    groups = _members(
        hg.group(
            {"k1": ["ATTEND"], "k2": ["FSM"]},
            [_row("k1", "ATTEND", AFTER), _row("k2", "FSM", date(2026, 10, 2))],
            AFTER,
        )
    )
    assert groups[hg.FLAGGED_NOW] == {"k1": ["ATTEND"], "k2": ["FSM"]}
    assert groups[hg.NEWLY_FLAGGED] == {"k2": ["FSM"]}  # raised on the huddle's day: seen then


def test_cleared_means_cleared_after_the_last_huddle_day() -> None:
    rows = [
        _row("k1", "ATTEND", date(2026, 9, 1), AFTER),
        _row("k2", "ATTEND", date(2026, 9, 1), date(2026, 10, 2)),
    ]
    groups = _members(hg.group({}, rows, AFTER))
    assert groups[hg.CLEARED] == {"k2": ["ATTEND"]}
    assert groups[hg.FLAGGED_NOW] == {} and groups[hg.NEWLY_FLAGGED] == {}


def _changes(*items: tuple[str, date]) -> list[Any]:
    return [
        SimpleNamespace(
            event_id=f"e{i}",
            child_key="k1",
            urn="100001",
            flag="ATTEND",
            change=change,
            reason="r",
            rule_version="v",
            as_of=day,
        )
        for i, (change, day) in enumerate(items)
    ]


@pytest.mark.parametrize(("raised_again", "reflagged"), [(365, True), (366, False), (1, True)])
def test_reflagged_within_12_months_counts_365_days_in_and_366_out(
    raised_again: int, reflagged: bool
) -> None:
    cleared = date(2025, 9, 1)
    again = date.fromordinal(cleared.toordinal() + raised_again)
    history = intervals(
        _changes(("RAISED", date(2025, 6, 1)), ("CLEARED", cleared), ("RAISED", again))
    )
    groups = _members(hg.group({"k1": ["ATTEND"]}, history, again))
    assert groups[hg.REFLAGGED] == ({"k1": ["ATTEND"]} if reflagged else {})


def test_a_reflagged_interval_that_cleared_again_is_not_listed_as_reflagged() -> None:
    rows = [_row("k1", "ATTEND", date(2026, 9, 2), date(2026, 9, 20), re=True)]
    groups = _members(hg.group({}, rows, date(2026, 9, 1)))
    assert groups[hg.REFLAGGED] == {} and groups[hg.CLEARED] == {"k1": ["ATTEND"]}


def test_window_is_the_last_huddle_or_the_half_terms_first_day() -> None:
    calendar = england()
    half = calendar.half_term_of(seed.TODAY)
    assert half is not None
    first = hg.window(calendar, seed.TODAY, None)
    assert first.after.toordinal() == half.starts.toordinal() - 1
    assert first.last_huddle is None and half.name in first.since_text
    met = hg.window(calendar, seed.TODAY, {"held_on": date(2026, 9, 24)})
    assert met.after == date(2026, 9, 24) and "24 Sep 2026" in met.since_text


@pytest.fixture(scope="module")
def ctx(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    built = seeded_context(tmp_path_factory.mktemp("huddle"), clock=lambda: seed.NOW)
    with built.read_model.begin() as conn:  # a3 (no flag now) had ATTEND cleared on 29 Sep
        conn.execute(
            insert(flag_history),
            {
                "raised_event_id": "a3-attend",
                "child_key": A3,
                "urn": "100001",
                "flag": "ATTEND",
                "raised_on": date(2026, 6, 1),
                "raised_reason": "r",
                "rule_version": "2026.1",
                "cleared_on": date(2026, 9, 29),
                "reflagged_within_12m": False,
            },
        )
    yield built
    for engine in (built.read_model, built.identity_db, built.audit_db):
        if engine is not None:
            engine.dispose()


def _csv_groups(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in csv.DictReader(io.StringIO(text)):
        out.setdefault(row["Group"], []).append(row["Child"])
    return out


def test_the_page_and_csv_have_a_section_per_group_and_no_sensitive_flag(ctx: Context) -> None:
    client = client_for(ctx, "dsl")
    page = client.get("/schools/100001/huddle").text
    for name in hg.GROUPS:
        assert f">{name} <small>" in page
    assert "No huddle recorded yet" in page and "Autumn 1 2026/27" in page
    assert "SAFEGUARD" not in page and seed.NOTIFICATION_REASON not in page
    groups = _csv_groups(client.get("/schools/100001/huddle.csv").text)
    assert groups[hg.FLAGGED_NOW] == ["Amelia Ashdown", "Ben Barrow"]
    assert groups[hg.NEWLY_FLAGGED] == ["Amelia Ashdown", "Ben Barrow"]  # raised 20 Sep
    assert groups[hg.CLEARED] == ["'=HYPERLINK(1) Cole"]  # neutralised, as every cell
    assert hg.REFLAGGED not in groups


def test_the_next_list_counts_from_the_last_huddle(ctx: Context) -> None:
    with ctx.read_model.begin() as conn:
        conn.execute(
            insert(huddles),
            {
                "event_id": "00000000-0000-4000-8000-0000000000aa",
                "urn": "100001",
                "half_term": "Autumn 1 2026/27",
                "held_on": date(2026, 9, 25),
                "attendees": "DSL, SENCo",
                "recorded_by": "dsl",
                "reviewed": 2,
                "recorded_at": datetime(2026, 9, 25, 15, tzinfo=seed.NOW.tzinfo),
            },
        )
    client = client_for(ctx, "staff")
    page = client.get("/schools/100001/huddle").text
    assert "Last huddle: 25 Sep 2026" in page and "since the last huddle on 25 Sep 2026" in page
    groups = _csv_groups(client.get("/schools/100001/huddle.csv").text)
    assert hg.NEWLY_FLAGGED not in groups  # raised 20 Sep, before the huddle
    assert groups[hg.CLEARED] == ["'=HYPERLINK(1) Cole"]  # cleared 29 Sep, after it
    assert client_for(ctx, "other").get("/schools/100001/huddle.csv").status_code == 403
