"""Orchestrates `flagstream demo` from start to a checked result."""

from __future__ import annotations

import shutil
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from projector.db import make_engine
from projector.writer import stored_offsets

from ..clock import publish_day_ended
from ..codec import Codec
from ..eventlog import from_topics
from ..generator import (
    County,
    DayEnded,
    Item,
    Preset,
    Register,
    make_county,
    timeline,
    write_timeline,
)
from ..settings import Settings
from .report import ledger, reconcile, trend
from .sender import send_child_events, send_reference, send_registers
from .stack import Stack


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `flagstream demo` was asked to do."""

    preset: Preset
    seed: int
    days: int
    start: date
    workdir: Path
    keep_running: bool


def _say(text: str) -> None:
    print(text, flush=True)


def _days(items: list[Item]) -> Iterator[tuple[date | None, list[Register], list[Item]]]:
    """The timeline cut at each DayEnded: (day, registers, other partner records)."""
    regs: list[Register] = []
    others: list[Item] = []
    for item in items:
        if isinstance(item, DayEnded):
            yield item.day, regs, others
            regs, others = [], []
        elif isinstance(item, Register):
            regs.append(item)
        else:
            others.append(item)
    if regs or others:
        yield None, regs, others


def _send(stack: Stack, county: County, items: list[Item], caught_up: Callable[[], None]) -> None:
    """Reference data, then each school day: registers, partner records, the day-end tick,
    and a wait until the pipeline has caught up - as a live day would - so each day's
    flags and trend rows are as of that day."""
    codec = Codec()
    with httpx.Client(base_url=stack.ingest_url, timeout=60.0) as c:
        accepted, rejected = send_reference(c, county)
        _say(f"reference data: {accepted:,} accepted, {rejected:,} rejected")
        totals = [0, 0, 0]
        for n, (day, regs, others) in enumerate(_days(items), 1):
            marks = send_registers(c, regs) if regs else (0, 0)
            records = send_child_events(c, others) if others else (0, 0)
            totals[0] += marks[0]
            totals[1] += records[0]
            totals[2] += marks[1] + records[1]
            if day is not None:
                publish_day_ended(
                    stack.broker.bootstrap, stack.topics, stack.partitions, day, codec
                )
            caught_up()
            _say(
                f"day {n}: {day or 'baseline'}  {marks[0]:,} marks, {records[0]:,} partner "
                f"records{', day-end tick' if day else ''}"
            )
    _say(
        f"sent {totals[0]:,} marks and {totals[1]:,} partner records through ingest; "
        f"{totals[2]:,} rejected"
    )


def run_demo(options: DemoOptions) -> int:
    """Run the pipeline end to end; 0 when every projected child's flags equal the oracle's."""
    began = time.monotonic()
    workdir = options.workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)  # Each demo starts from nothing: the broker is in-memory too.
    workdir.mkdir(parents=True)
    county = make_county(options.preset, options.seed)
    items = list(timeline(county, options.start, options.days, options.seed))
    run_file = workdir / "timeline.jsonl"
    write_timeline(run_file, county, items)
    _say(
        f"generated {len(county.schools)} schools in {len(county.zones())} zones, "
        f"{len(county.pupils):,} pupils, {options.days} school days from {options.start}: "
        f"{sum(len(i.marks) for i in items if isinstance(i, Register)):,} marks (corrections "
        f"and repeats included) and {sum(not isinstance(i, Register | DayEnded) for i in items):,}"
        f" SEN, FSM, assessment, family-case and police records -> {run_file}"
    )
    stack = Stack(workdir)
    _say("starting embedded broker, ingest, flagger and projector ...")
    try:
        stack.start()
        engine = make_engine(stack.database_url)
        _say(f"  broker {stack.broker.bootstrap}  ingest {stack.ingest_url}/docs")

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        _send(stack, county, items, lambda: stack.wait_caught_up(projected, timeout=300.0))

        tty = sys.stderr.isatty()

        def show(flagger: int, projector: int) -> None:
            line = (
                f"waiting for the pipeline: flagger backlog {flagger:,} messages, "
                f"projector backlog {projector:,} records"
            )
            sys.stderr.write(f"\r{line}   " if tty else f"{line}\n")
            sys.stderr.flush()

        stack.wait_caught_up(projected, timeout=300.0, on_poll=show)
        if tty:
            sys.stderr.write("\n")
        _say("\nreading the canonical topics back for the batch oracle ...")
        log = from_topics(stack.broker.bootstrap, stack.topics, Codec())
        as_of = log.last_day or options.start
        result = reconcile(engine, log, Settings().rules(), as_of)
        _say(
            f"\nChildren flagged as of {as_of}, by zone and flag - projected read model "
            "(a cell shows projected/oracle where they differ):"
        )
        _say(result.render())
        ledger_table, balanced = ledger(stack.ingest_database_url, log)
        _say("\nIngest ledger - received = accepted + rejected; accepted = on the topics:")
        _say(ledger_table)
        _say("\nCounty trend - children with any flag, per simulated school day:")
        _say(trend(engine))
        same = not result.differences and balanced
        verdict = (
            "every record reconciles and every child's projected flags equal the batch oracle's"
            if same
            else "MISMATCH"
        )
        _say(f"\n{verdict} - demo took {time.monotonic() - began:.0f}s")
        _say(f"read model (SQLite): {workdir / 'flagstream.db'}")
        _say(f"  try: sqlite3 {workdir / 'flagstream.db'} 'select * from school_summary'")
        _say(f"timeline file: {run_file} (flagstream recompute --log {run_file})")
        _say(f"logs: {workdir / 'logs'}")
        if options.keep_running:
            _say(
                f"\nservices left running (Ctrl-C stops them):\n"
                f"  FLAGSTREAM_KAFKA_BOOTSTRAP={stack.broker.bootstrap}\n"
                f"  ingest API   {stack.ingest_url}/docs\n"
                f"  metrics      {stack.ingest_url}/metrics, "
                f"http://127.0.0.1:{stack.flagger_metrics_port}/metrics, "
                f"http://127.0.0.1:{stack.projector_metrics_port}/metrics"
            )
            try:
                while True:
                    time.sleep(3600)
            except KeyboardInterrupt:
                pass
        return 0 if same else 1
    finally:
        stack.stop()
