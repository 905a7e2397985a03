"""`flagstream recompute` and `flagstream reconcile` as an operator runs them, on a live stack
fed through ingest: zero differences and a balanced ledger, then a tampered read model is
caught child by child (a flag deleted, a term-to-date figure altered)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import delete, select, update

from flagstream.codec import Codec
from flagstream_tools.clock import publish_day_ended
from flagstream_tools.demo.sender import send_child_events, send_reference, send_registers
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import DayEnded, Register, make_county, timeline, write_timeline
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import child_flags, children


def _flagstream(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flagstream_tools.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_reconcile_finds_nothing_then_exactly_the_tampered_child(tmp_path: Path) -> None:
    county = make_county("tiny", seed=3)
    items = list(timeline(county, date(2025, 9, 8), 12, seed=3))
    write_timeline(tmp_path / "timeline.jsonl", county, items)
    with Stack(tmp_path / "stack", partitions=3) as stack:
        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            send_reference(client, county)
            send_registers(client, [i for i in items if isinstance(i, Register)])
            send_child_events(client, items)
        last = max(i.day for i in items if isinstance(i, DayEnded))
        publish_day_ended(stack.broker.bootstrap, stack.topics, 3, last, Codec())
        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        env = stack.env()

        done = _flagstream(env, "reconcile")
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no differences" in done.stdout
        assert "flagger consumed all" in done.stdout
        assert " NO" not in done.stdout and "attendance_mark" in done.stdout

        # The generator file, keyed with ingest's secret, gives the same answer.
        from_file = _flagstream(env, "reconcile", "--log", str(tmp_path / "timeline.jsonl"))
        assert from_file.returncode == 0, from_file.stdout + from_file.stderr

        with engine.begin() as conn:
            fsm = child_flags.c.flag == "FSM"
            victim = conn.execute(select(child_flags.c.child_key).where(fsm).limit(1)).scalar_one()
            conn.execute(delete(child_flags).where(child_flags.c.child_key == victim, fsm))
            # Another child's term to date: one absence more than its marks say.
            other = children.c.child_key != victim
            row = conn.execute(
                select(children.c.child_key, children.c.term_absent_sessions)
                .where(other, children.c.term_possible_sessions > 0)
                .limit(1)
            ).one()
            short, absent = children.c.child_key == row.child_key, row.term_absent_sessions
            conn.execute(update(children).where(short).values(term_absent_sessions=absent + 1))
        engine.dispose()
        tampered = _flagstream(env, "reconcile")
    assert tampered.returncode == 1
    assert "2 child(ren) differ" in tampered.stdout
    assert victim in tampered.stdout
    line = next(x for x in tampered.stdout.splitlines() if row.child_key in x)
    assert f"term_absent_sessions oracle {absent:,}, projected {absent + 1:,}" in line
