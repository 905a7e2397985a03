"""The projector's family rows on SQLite and PostgreSQL alike (docs/families.md): households
from enrolments and case copies, an NHS number's child and place until an enrolment links it,
then one child, not two - a late snapshot of the number written nowhere."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from flagstream.domain.events import (
    ActiveFlag,
    ChildFlagsSnapshot,
    EnrolmentRecorded,
    FamilyCaseRecorded,
)
from projector.writer import Consumed, project
from readmodel.db import create_schema, make_engine
from readmodel.tables import child_households, child_links, child_places, children
from tests.extensions import early_years_loaded

AT = datetime(2026, 9, 20, tzinfo=UTC)
_OFFSETS = itertools.count()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    with early_years_loaded():
        built = make_engine(database_url)
        create_schema(built)
        yield built
        built.dispose()


def _envelope() -> dict[str, Any]:
    return {"event_id": uuid.uuid4(), "source": "t", "occurred_at": AT, "recorded_at": AT}


def _project(engine: Engine, events: list[Any]) -> None:
    with engine.begin() as conn:
        project(conn, [Consumed("t.x", 0, next(_OFFSETS), e) for e in events])


def _snapshot(key: str, urn: str) -> ChildFlagsSnapshot:
    return ChildFlagsSnapshot(
        **_envelope(), child_key=key, urn=urn, nc_year=None, sex=None, as_of=date(2026, 9, 1),
        possible_sessions=0, absent_sessions=0, rule_version="t",
        flags=[ActiveFlag(flag="EY", reason="r", raised_on=date(2026, 9, 1))],
    )  # fmt: skip


def _enrolment(key: str, **fields: Any) -> EnrolmentRecorded:
    return EnrolmentRecorded(
        **_envelope(), child_key=key, urn="100001", nc_year=0, sex="F",
        month_of_birth="2022-01", joined_on=date(2026, 9, 1), **fields,
    )  # fmt: skip


def test_households_links_and_places(engine: Engine) -> None:
    from flagstream.early_years import EarlyYearsOutcomeRecorded

    check = EarlyYearsOutcomeRecorded(
        **_envelope(), child_key="nhs", setting="EY1", zone="North", check_ref="r",
        checked_on=date(2026, 9, 1), on_track=False,
    )  # fmt: skip
    case = FamilyCaseRecorded(
        **_envelope(), child_key="brother", case_id="c", opened_on=date(2026, 9, 1),
        outcome_areas=[], household_key="h",
    )  # fmt: skip
    _project(engine, [check, _snapshot("nhs", ""), _enrolment("sister", household_key="h"), case])
    with engine.connect() as conn:
        assert set(conn.execute(select(child_households)).all()) == {
            ("h", "sister"), ("h", "brother"),
        }  # fmt: skip
        assert conn.scalar(select(child_places.c.zone)) == "North"
        assert conn.scalar(select(children.c.child_key)) == "nhs"
    _project(engine, [_enrolment("pupil", nhs_key="nhs")])
    _project(engine, [_snapshot("nhs", ""), check, _snapshot("pupil", "100001")])  # late ones
    with engine.connect() as conn:
        assert conn.execute(select(child_links)).all() == [("nhs", "pupil")]
        assert [r[0] for r in conn.execute(select(children.c.child_key))] == ["pupil"]
        assert conn.execute(select(child_places)).all() == []
