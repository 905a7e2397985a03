"""Siblings on the child page (docs/families.md): the projector records who shares a household
from enrolments and family cases; the child page lists the siblings at schools the viewer may
see, and nothing at all - no heading, no count - of those it may not (SQLite: the page's own
check; tests/integration/test_siblings_pg.py: row-level security behind it)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from dashboard.context import Context
from flagstream.domain.events import EnrolmentRecorded, FamilyCaseRecorded
from projector.writer import Consumed, project
from readmodel.tables import child_households
from tests.browser import seed

from .test_dashboard import client_for, seeded_context

A1, A2, A3, B1, C1 = (c[0] for c in seed.CHILDREN)
AT = datetime(2026, 9, 1, tzinfo=UTC)
HOUSEHOLD = "f0" * 16


def _envelope() -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "source": "t", "occurred_at": AT, "recorded_at": AT}


def _enrolment(child: str, urn: str, household: str | None) -> EnrolmentRecorded:
    return EnrolmentRecorded(
        **_envelope(), child_key=child, urn=urn, nc_year=5, sex="F", month_of_birth="2016-01",
        joined_on=date(2021, 9, 1), household_key=household,
    )  # fmt: skip


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    built = seeded_context(tmp_path, clock=lambda: seed.NOW)
    # a1, a2 (school 100001), b1 (100002, the same zone) and c1 (200001, the South zone)
    # share a household; a3 is in none. c1 is named by a case copy, not an enrolment.
    case = FamilyCaseRecorded(
        **_envelope(), child_key=C1, case_id="SF-1", opened_on=date(2026, 9, 1),
        outcome_areas=[], household_key=HOUSEHOLD,
    )  # fmt: skip
    events: list[Any] = [
        _enrolment(A1, "100001", HOUSEHOLD),
        _enrolment(A2, "100001", HOUSEHOLD),
        _enrolment(B1, "100002", HOUSEHOLD),
        _enrolment(A3, "100001", None),
        case,
        case,  # delivered twice: one row
    ]
    with built.read_model.begin() as conn:
        project(conn, [Consumed("t.enrolments", 0, i, e) for i, e in enumerate(events)])
    return built


def _siblings_of(ctx: Context, user: str, child: str) -> set[str]:
    page = client_for(ctx, user).get(f"/children/{child}")
    assert page.status_code == 200, page.text
    return {k for k in (A1, A2, A3, B1, C1) if k != child and f"/children/{k}" in page.text}


def test_the_projector_keeps_who_shares_a_household(ctx: Context) -> None:
    with ctx.read_model.connect() as conn:
        rows = set(conn.execute(select(child_households)).all())
    assert rows == {(HOUSEHOLD, k) for k in (A1, A2, B1, C1)}


def test_siblings_are_listed_only_at_schools_in_the_viewers_scope(ctx: Context) -> None:
    assert _siblings_of(ctx, "boss", A1) == {A2, B1, C1}
    assert _siblings_of(ctx, "north", A1) == {A2, B1}
    assert _siblings_of(ctx, "staff", A1) == {A2}
    assert _siblings_of(ctx, "boss", A3) == set()


def test_a_sibling_out_of_scope_is_indistinguishable_from_none(ctx: Context) -> None:
    # c1's school user: every sibling is elsewhere, so the page is as for a child with none.
    page = client_for(ctx, "other").get(f"/children/{C1}").text
    assert "siblings-h" not in page and "Siblings" not in page
    assert all(k not in page for k in (A1, A2, B1))
    alone = client_for(ctx, "staff").get(f"/children/{A3}").text
    assert "siblings-h" not in alone
    # The school's own staff see names; the sibling list uses them too.
    assert "Ben Barrow" in client_for(ctx, "staff").get(f"/children/{A1}").text
