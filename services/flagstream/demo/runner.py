"""Orchestrates `flagstream demo` from start to a checked result."""

from __future__ import annotations

import shutil
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx

from projector.db import make_engine
from projector.writer import stored_offsets

from ..generator import Preset, make_county, registers, write_run
from ..settings import Settings
from .report import direct_by_zone, projected_by_zone, render
from .sender import send_reference, send_registers
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


def run_demo(options: DemoOptions) -> int:
    """Run the pipeline end to end; 0 when projected counts equal the direct ones."""
    began = time.monotonic()
    workdir = options.workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)  # Each demo starts from nothing: the broker is in-memory too.
    county = make_county(options.preset, options.seed)
    regs = list(registers(county, options.start, options.days, options.seed))
    run_file = workdir / "run.jsonl"
    workdir.mkdir(parents=True)
    write_run(run_file, county, regs)
    _say(
        f"generated {len(county.schools)} schools in {len(county.zones())} zones, "
        f"{len(county.pupils):,} pupils, {options.days} school days from {options.start} "
        f"({sum(len(r.marks) for r in regs):,} marks incl. corrections and repeats) -> {run_file}"
    )
    stack = Stack(workdir)
    _say("starting embedded broker, ingest, flagger and projector ...")
    try:
        stack.start()
        engine = make_engine(stack.database_url)
        _say(f"  broker {stack.broker.bootstrap}  ingest {stack.ingest_url}/docs")
        with httpx.Client(base_url=stack.ingest_url, timeout=60.0) as client:
            accepted, rejected = send_reference(client, county)
            _say(f"reference data: {accepted:,} accepted, {rejected:,} rejected")
            accepted, rejected = send_registers(client, regs)
            _say(f"registers: {accepted:,} marks accepted, {rejected:,} rejected")

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        tty = sys.stderr.isatty()

        def show(flagger: int, projector: int) -> None:
            line = (
                f"waiting for the pipeline: flagger backlog {flagger:,} messages, "
                f"projector backlog {projector:,} records"
            )
            sys.stderr.write(f"\r{line}   " if tty else f"{line}\n")
            sys.stderr.flush()

        stack.wait_caught_up(projected, timeout=240.0, on_poll=show)
        if tty:
            sys.stderr.write("\n")
        projected_counts = projected_by_zone(engine)
        last_day = max(m.date for r in regs for m in r.marks)
        direct = direct_by_zone(county, regs, Settings().rules(), last_day)
        _say("\nChildren and Attend flags (persistent/severe absence, early warning) by zone:")
        _say(render(projected_counts, direct))
        same = projected_counts == direct
        verdict = "projected counts equal the batch oracle's" if same else "MISMATCH"
        _say(f"\n{verdict} - demo took {time.monotonic() - began:.0f}s")
        _say(f"read model (SQLite): {workdir / 'flagstream.db'}")
        _say(f"  try: sqlite3 {workdir / 'flagstream.db'} 'select * from school_summary'")
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
