"""A tiny county sent through the real stack day by day, faults injected between and during
days, and the verdict of `flagstream reconcile` as an operator would run it.

Every wait is bounded. The stack's supervisor restarts what a fault kills; the sender
retries under the same Idempotency-Key; so after each fault, once settled, the read model
must equal the batch oracle over the generated timeline (everything that got a 202), and the
ledger must balance by distinct event ids on the topics.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
from sqlalchemy import Engine

from flagstream.codec import Codec
from flagstream_tools.demo.day_sender import Day, DaySender, by_day
from flagstream_tools.demo.sender import send_reference
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import Item, make_county, timeline, write_timeline
from projector.writer import stored_offsets
from readmodel.db import make_engine

START = date(2026, 9, 7)  # a Monday; DAYS school days end well before today
DAYS = 8
SETTLE_S = 240.0


@dataclass
class Run:
    """A stack, the county's days still to send, and how to send one."""

    stack: Stack
    days: list[Day]
    timeline_file: Path
    engine: Engine
    client: httpx.Client
    sender: DaySender

    def projected(self) -> dict[tuple[str, int], int]:
        with self.engine.connect() as conn:
            return stored_offsets(conn)

    def settle(self, timeout: float = SETTLE_S) -> None:
        """Until the flagger and projector have everything and the read model is complete."""
        self.stack.wait_caught_up(self.projected, timeout=timeout)

    def send(self, n: int) -> None:
        """The next n days (registers, partner records, the day-end tick), without waiting."""
        for _ in range(n):
            day, regs, others = self.days.pop(0)
            self.sender.caught_up = lambda: None
            self.sender.day(day, regs, others)

    def flagstream(self, *args: str) -> subprocess.CompletedProcess[str]:
        """A flagstream command with the stack's settings, as an operator runs it."""
        return subprocess.run(
            [sys.executable, "-m", "flagstream_tools.cli", *args],
            env={**os.environ, **self.stack.env()},
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )

    def assert_reconciles(self) -> None:
        """0 differences against the oracle over the timeline; the ledger balances."""
        by_log = self.flagstream("reconcile", "--log", str(self.timeline_file))
        assert by_log.returncode == 0, by_log.stdout[-3000:] + by_log.stderr[-2000:]
        assert "no differences" in by_log.stdout
        by_topics = self.flagstream("reconcile")
        assert by_topics.returncode == 0, by_topics.stdout[-3000:] + by_topics.stderr[-2000:]
        assert "flagger consumed all" in by_topics.stdout


@contextmanager
def county_run(workdir: Path, seed: int = 5, database_url: str | None = None) -> Iterator[Run]:
    """The stack up with the county's schools and pupils sent; the days still to send."""
    county = make_county("tiny", seed)
    items: list[Item] = list(timeline(county, START, DAYS, seed))
    timeline_file = workdir / "timeline.jsonl"
    workdir.mkdir(parents=True, exist_ok=True)
    write_timeline(timeline_file, county, items)
    stack = Stack(workdir / "stack", database_url=database_url, partitions=3)
    stack.start()
    try:
        engine = make_engine(stack.database_url)
        with httpx.Client(base_url=stack.ingest_url, timeout=60.0) as client:
            sender = DaySender(stack, client, lambda: None, Codec())
            send_reference(client, county)
            yield Run(stack, list(by_day(items)), timeline_file, engine, client, sender)
    finally:
        stack.stop()


def kill(pid: int | None) -> None:
    """SIGKILL: no clean shutdown, no flush."""
    assert pid is not None
    os.kill(pid, signal.SIGKILL)


def during(action: Callable[[], None], delay_s: float) -> threading.Thread:
    """Run action after delay_s in a thread (a fault in the middle of sending)."""

    def go() -> None:
        time.sleep(delay_s)
        action()

    thread = threading.Thread(target=go, daemon=True)
    thread.start()
    return thread
