"""Every flag raised and cleared, and a rules deployment, through the real pipeline:
producer -> embedded broker -> Faust flagger -> projector -> SQL, checked against the oracle."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select, text

from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream_tools.clock import publish_rules
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county, timeline
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.oracle import recompute_children
from flagstream_tools.reconcile import differences, from_oracle, from_read_model
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import children, flag_changes, restricted_flags

from .canonical_publish import publish

FLAGS = ["ATTAIN", "ATTEND", "FAMILY", "FSM", "SAFEGUARD", "SEN"]
COLUMNS = [f for f in FLAGS if f != "SAFEGUARD"]  # SAFEGUARD is kept in restricted_flags
D = date(2025, 9, 8)
DAYS = [D + timedelta(days=d) for d in range(14) if d % 7 < 5]  # ten school days
ABSENT_DAYS = DAYS[:3]  # 6 of 20 sessions: 30% absent


def _env() -> dict[str, Any]:
    t = datetime(2025, 9, 22, 16, tzinfo=UTC)
    return {"event_id": uuid.uuid4(), "source": "test", "occurred_at": t, "recorded_at": t}


def _marks(child: str, absent: list[date]) -> ev.AttendanceMarksRecorded:
    return ev.AttendanceMarksRecorded(
        batch_id=uuid.uuid4(),
        marks=[
            ev.AttendanceMarkRecorded(
                **_env(),
                child_key=child,
                urn="100001",
                date=day,
                session=s,
                code="O" if day in absent else "/",
            )
            for day in DAYS
            for s in ("AM", "PM")
        ],
    )


def _raise_all(c: str) -> list[Any]:
    return [
        _marks(c, ABSENT_DAYS),
        ev.SenProvisionRecorded(**_env(), child_key=c, urn="100001", provision="K", effective_on=D),
        ev.FsmEligibilityRecorded(**_env(), child_key=c, eligible_from=D),
        ev.AssessmentRecorded(
            **_env(), child_key=c, urn="100001", assessment="KS2_READING", result="95",
            assessed_on=date(2025, 7, 8),
        ),
        ev.FamilyCaseRecorded(
            **_env(), child_key=c, case_id="FS-1", opened_on=D, outcome_areas=["education"]
        ),
        ev.DomesticAbuseNotified(
            **_env(), child_key=c, urn="100001", incident_on=DAYS[-2], child_present=True
        ),
    ]  # fmt: skip


def _clear_all(c: str) -> list[Any]:
    later = DAYS[-1]
    return [
        _marks(c, []),  # The school corrects the register: those were present after all.
        ev.SenProvisionRecorded(
            **_env(), child_key=c, urn="100001", provision="E", effective_on=later
        ),
        ev.FsmEligibilityRecorded(
            **_env(), child_key=c, eligible_from=D, eligible_to=later - timedelta(days=1)
        ),
        ev.AssessmentRecorded(  # A reviewed mark for the same round.
            **_env(), child_key=c, urn="100001", assessment="KS2_READING", result="104",
            assessed_on=date(2025, 7, 8),
        ),
        ev.FamilyCaseRecorded(
            **_env(), child_key=c, case_id="FS-1", opened_on=D, closed_on=later,
            outcome_areas=["education"],
        ),
        ev.DayEnded(**_env(), day=later),
        ev.DayEnded(**_env(), day=later + timedelta(days=30)),  # the notification expires
    ]  # fmt: skip


def _wait(stack: Stack, engine: Engine) -> None:
    def projected() -> dict[tuple[str, int], int]:
        with engine.connect() as conn:
            return stored_offsets(conn)

    stack.wait_caught_up(projected, timeout=120)


def test_every_flag_is_raised_then_cleared_end_to_end(tmp_path: Path) -> None:
    with Stack(tmp_path, partitions=3) as stack:
        engine = make_engine(stack.database_url)
        publish(stack.broker.bootstrap, stack.topics, 3, _raise_all("child-a"))
        _wait(stack, engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM child_flag_columns")).one()
            held = conn.execute(select(restricted_flags.c.flag)).scalars().all()
        assert [getattr(row, f.lower()) for f in COLUMNS] == [True] * 5
        assert row.indicators == 5 and held == ["SAFEGUARD"]  # counted apart from the others
        assert "30.0%" in row.attend_reason or "6 of 20" in row.attend_reason

        publish(stack.broker.bootstrap, stack.topics, 3, _clear_all("child-a"))
        _wait(stack, engine)
        with engine.connect() as conn:
            row = conn.execute(text("SELECT * FROM child_flag_columns")).one()
            history = conn.execute(select(flag_changes.c.flag, flag_changes.c.change)).all()
            held = conn.execute(select(restricted_flags.c.flag)).scalars().all()
        engine.dispose()
    assert [getattr(row, f.lower()) for f in COLUMNS] == [False] * 5
    assert row.indicators == 0 and held == []  # 28 days on, the notification has expired
    assert sorted(map(tuple, history)) == sorted(
        (f, change) for f in COLUMNS for change in ("RAISED", "CLEARED")
    )


def test_a_deployed_threshold_changes_exactly_what_the_oracle_says(tmp_path: Path) -> None:
    county = make_county("tiny", seed=5)
    log = list(canonical_events(county, timeline(county, date(2025, 9, 8), 15, seed=5)))
    as_of = max(e.day for e in log if isinstance(e, ev.DayEnded))
    v1_text = DEFAULT_RULES_FILE.read_text()
    v2_text = v1_text.replace('version = "2026.2"', 'version = "2026.2-pa15"').replace(
        "persistent_absence_pct = 10.0", "persistent_absence_pct = 15.0"
    )
    v1, v2 = parse_rules(v1_text), parse_rules(v2_text)
    before = from_oracle(recompute_children(log, as_of, v1))
    after = from_oracle(recompute_children(log, as_of, v2))
    assert {f for c in before.values() for f in c.flags} >= set(COLUMNS), "every open flag"

    with Stack(tmp_path, partitions=3) as stack:
        engine = make_engine(stack.database_url)
        publish(stack.broker.bootstrap, stack.topics, 3, log)
        _wait(stack, engine)
        with engine.connect() as conn:
            assert (
                differences(before, from_read_model(conn, children, FLAGS, restricted_flags)) == []
            )

        publish_rules(stack.broker.bootstrap, stack.topics, 3, v2_text, Codec())
        _wait(stack, engine)
        with engine.connect() as conn:
            assert (
                differences(after, from_read_model(conn, children, FLAGS, restricted_flags)) == []
            )
            v2_changes = conn.execute(
                select(flag_changes.c.child_key, flag_changes.c.flag, flag_changes.c.change).where(
                    flag_changes.c.rule_version == "2026.2-pa15"
                )
            ).all()
        engine.dispose()
    expected = {
        (key, flag, "CLEARED" if flag in before[key].flags else "RAISED")
        for key in before
        for flag in before[key].flags ^ after[key].flags
    }
    assert expected, "the new threshold must change some child's flags"
    assert set(map(tuple, v2_changes)) == expected
    assert len(v2_changes) == len(expected)  # Each change emitted once.
