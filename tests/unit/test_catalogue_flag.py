"""A flag declared only here - a rule registered in the flag catalogue, like an extension's -
reaches the read model and the dashboard's school table with no migration and no SQL written
for it: the projector writes its rows, the views and the screens take it from the catalogue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import Date, inspect, select, text

from dashboard.context import Context
from flagstream.domain.events import ActiveFlag, ChildFlagsSnapshot
from flagstream.domain.rules import SENSITIVE, register_rule, unregister_rule
from flagstream.domain.rules.base import FlagSettings, Outcome, Rule
from flagstream.domain.state import ChildState
from projector.writer import Consumed, project
from readmodel import queries
from readmodel.db import create_schema, make_engine
from readmodel.tables import child_flags, school_flag_counts
from tests.browser import seed
from tests.unit.test_dashboard import client_for, seeded_context

BEN, URN = seed.CHILDREN[1][0], "100001"  # Ben (a2): FAMILY in the seed
ON = date(2026, 10, 1)


def _never(_state: ChildState, _as_of: date, _s: FlagSettings) -> Outcome:
    return Outcome(False, "never")


ASB = Rule("ASB", FlagSettings, _never, lambda s: "ASB: a test flag", title="ASB")


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[Context]:
    """The seeded read model with ASB in the catalogue (for this test only), and Ben's
    snapshot raising it projected by the projector's own writer."""
    register_rule(ASB)
    try:
        built = seeded_context(tmp_path, clock=lambda: seed.NOW)  # schema as the catalogue says
        at = datetime(2026, 10, 1, 18, tzinfo=UTC)
        snapshot = ChildFlagsSnapshot(
            event_id=uuid.uuid4(), source="flagger", occurred_at=at, recorded_at=at,
            child_key=BEN, urn=URN, nc_year=3, sex="M", as_of=ON, possible_sessions=40,
            absent_sessions=1, rule_version="2026.2",
            flags=[ActiveFlag(flag="FAMILY", reason=seed.FAMILY_REASON, raised_on=ON, tier="case"),
                   ActiveFlag(flag="ASB", reason="2 incidents in 90 days", raised_on=ON)],
        )  # fmt: skip
        with built.read_model.begin() as conn:
            project(conn, [Consumed("child-flags", 0, 0, snapshot)])
        yield built
        for engine in (built.read_model, built.identity_db, built.audit_db):
            if engine is not None:
                engine.dispose()
    finally:
        unregister_rule(ASB)


def test_a_catalogue_flag_is_rows_views_and_screen_columns(ctx: Context) -> None:
    assert "ASB" not in SENSITIVE
    with ctx.read_model.connect() as conn:
        rows = conn.execute(select(child_flags.c.flag, child_flags.c.reason)
                            .where(child_flags.c.child_key == BEN)).all()  # fmt: skip
        assert sorted(rows) == [("ASB", "2 incidents in 90 days"), ("FAMILY", seed.FAMILY_REASON)]
        counts = conn.execute(select(school_flag_counts.c.flag, school_flag_counts.c.flagged)
                              .where(school_flag_counts.c.urn == URN)).all()  # fmt: skip
        assert ("ASB", 1) in counts
        # The council's per-flag columns, made from the catalogue: ASB has its own.
        one = text("SELECT * FROM child_flag_columns WHERE child_key = :k").columns(asb_since=Date)
        wide = conn.execute(one, {"k": BEN}).one()
        assert (bool(wide.asb), wide.asb_reason, wide.asb_since) == (
            True,
            "2 incidents in 90 days",
            ON,
        )
        school = conn.execute(text("SELECT asb_flagged FROM school_flag_columns WHERE urn = :u"),
                              {"u": URN}).scalar_one()  # fmt: skip
        assert school == 1
        # The council's screen query has an ASB column after the built-in five.
        listed = {r.child_key: r for r in queries.school_children(conn, URN)}
        assert listed[BEN].ASB == "Y" and listed[BEN].Family == "case"
        assert queries.school_children_columns(("ATTEND", "ASB"))[4:6] == ("Attend", "ASB")
    staff = client_for(ctx, "staff")
    table = staff.get(f"/schools/{URN}/table").text
    assert ">ASB</a>" in table  # its column head, spelt as its rule says
    filtered = staff.get(f"/schools/{URN}/table?flag=asb").text
    assert "Ben Barrow" in filtered and "Amelia" not in filtered
    assert "2 incidents in 90 days" in staff.get(f"/children/{BEN}").text


def test_the_views_follow_the_catalogue_at_start_with_no_migration(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'read.db'}")

    def columns() -> set[str]:
        return {c["name"] for c in inspect(engine).get_columns("child_flag_columns")}

    create_schema(engine)  # as the projector at start
    assert "attend_since" in columns() and "asb" not in columns()
    register_rule(ASB)
    try:
        create_schema(engine)  # started again with the flag in its catalogue
        assert {"asb", "asb_reason", "asb_tier", "asb_since"} <= columns()
        school = {c["name"] for c in inspect(engine).get_columns("school_flag_columns")}
        assert "asb_flagged" in school
    finally:
        unregister_rule(ASB)
    create_schema(engine)
    assert "asb" not in columns()
    engine.dispose()
