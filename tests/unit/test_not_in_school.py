"""Children not yet in school, by zone and early-years setting (docs/families.md): the projector
places a child from the early-years stream's setting and zone; the page of them lists each
child with no school by zone and setting, for county roles and, of their own zone, zone users;
once an enrolment links the NHS number, the number's child is gone from it (one child, not
two)."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.context import Context
from flagstream.domain.events import ActiveFlag, ChildFlagsSnapshot, EnrolmentRecorded
from projector.writer import Consumed, project
from readmodel.tables import child_places, children
from tests.browser import seed
from tests.extensions import early_years_loaded

from .test_dashboard import client_for, seeded_context

AT = datetime(2026, 9, 20, tzinfo=UTC)
NORTH, SOUTH = "n1" * 16, "s1" * 16  # NHS keys of two children no school has enrolled
_OFFSETS = itertools.count()


@pytest.fixture
def module() -> Iterator[ModuleType]:
    with early_years_loaded() as loaded:
        yield loaded


def _envelope() -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "source": "t", "occurred_at": AT, "recorded_at": AT}


def _check(module: ModuleType, key: str, zone: str, setting: str, on_track: bool) -> Any:
    return module.EarlyYearsOutcomeRecorded(
        **_envelope(), child_key=key, setting=setting, zone=zone, check_ref=f"r-{key}",
        checked_on=date(2026, 9, 1), on_track=on_track,
    )  # fmt: skip


def _snapshot(key: str, flagged: bool) -> ChildFlagsSnapshot:
    flags = [ActiveFlag(flag="EY", reason="not on track", raised_on=date(2026, 9, 1))]
    return ChildFlagsSnapshot(
        **_envelope(), child_key=key, urn="", nc_year=None, sex=None, as_of=date(2026, 9, 1),
        possible_sessions=0, absent_sessions=0, flags=flags if flagged else [],
        rule_version="t",
    )  # fmt: skip


@pytest.fixture
def ctx(tmp_path: Path, module: ModuleType) -> Context:
    built = seeded_context(tmp_path, clock=lambda: seed.NOW)
    events = [
        _check(module, NORTH, "North Zone", "EY100001", False),
        _check(module, SOUTH, "South Zone", "EY200002", True),
        _snapshot(NORTH, True),
        _snapshot(SOUTH, False),
    ]
    _project(built, events)
    return built


def _project(ctx: Context, events: list[Any]) -> None:
    with ctx.read_model.begin() as conn:
        project(conn, [Consumed("t.x", 0, next(_OFFSETS), e) for e in events])


def test_the_projector_places_children_from_the_stream(ctx: Context) -> None:
    with ctx.read_model.connect() as conn:
        rows = {r.child_key: (r.zone, r.setting) for r in conn.execute(select(child_places))}
    assert rows == {NORTH: ("North Zone", "EY100001"), SOUTH: ("South Zone", "EY200002")}


def test_county_and_zone_users_see_them_by_zone_and_setting_and_no_one_else(
    ctx: Context,
) -> None:
    page = client_for(ctx, "boss").get("/early_years")
    assert page.status_code == 200, page.text
    text = page.text
    assert text.index("North Zone") < text.index("EY100001") < text.index("South Zone")
    assert "EY200002" in text and "2, of whom 1 flagged" in text
    assert f"Child {NORTH[:8]}" in text and f"Child {SOUTH[:8]}" in text
    north = client_for(ctx, "north").get("/early_years")  # a zone's users: their zone only
    assert north.status_code == 200 and "EY100001" in north.text
    assert "South Zone" not in north.text and "EY200002" not in north.text
    assert "1, of whom 1 flagged" in north.text
    for user in ("staff", "dsl", "other"):
        assert client_for(ctx, user).get("/early_years").status_code == 403, user


def test_a_linked_number_leaves_the_list_and_the_read_model(ctx: Context) -> None:
    enrolment = EnrolmentRecorded(
        **_envelope(), child_key=seed.CHILDREN[2][0], urn="100001", nc_year=0, sex="F",
        month_of_birth="2022-01", joined_on=date(2026, 9, 1), nhs_key=NORTH,
    )  # fmt: skip
    _project(ctx, [enrolment, _snapshot(NORTH, True)])  # a late snapshot of the number too
    text = client_for(ctx, "boss").get("/early_years").text
    assert "EY100001" not in text and f"Child {NORTH[:8]}" not in text
    assert "1, of whom 0 flagged" in text
    with ctx.read_model.connect() as conn:
        assert (
            conn.scalar(select(children.c.child_key).where(children.c.child_key == NORTH)) is None
        )
