"""Orchestrates `flagstream demo` from start to a checked result."""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import time
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Final

import httpx
from sqlalchemy import Engine

from flagstream import extensions
from flagstream.codec import Codec
from flagstream.private_files import write_env_file
from flagstream.settings import Settings
from flagstream_tools.commands.runs import DEMO_START
from flagstream_tools.demo.day_sender import Day, DaySender, by_day
from flagstream_tools.demo.live import start_dashboard, stream
from flagstream_tools.demo.report import ledger, reconcile, trend
from flagstream_tools.demo.sender import send_child_events, send_reference
from flagstream_tools.demo.stack import Stack
from flagstream_tools.demo.start_day import StartTooLate, fit_start, today
from flagstream_tools.eventlog import from_topics
from flagstream_tools.generator import (
    County,
    DayEnded,
    EarlyYearsRecorded,
    Item,
    Preset,
    Register,
    make_county,
    school_days,
    timeline,
    write_timeline,
)
from flagstream_tools.generator.families import add_families
from projector.writer import stored_offsets
from readmodel.db import make_engine


@dataclass(frozen=True, slots=True)
class DemoOptions:
    """What `flagstream demo` was asked to do."""

    preset: Preset
    seed: int
    days: int
    start: date
    workdir: Path
    keep_running: bool
    live_days: int = 40
    day_seconds: float = 20.0


def _say(text: str) -> None:
    print(text, flush=True)


EARLY_YEARS: Final = "flagstream.early_years"


def _early_years_on(workdir: Path) -> Path:
    """Load the early-years extension here and in every service the demo starts (they
    inherit this process's environment), with its flag EY switched on in a copy of the
    rules file; returns the env file `flagstream reconcile` needs (docs/families.md)."""
    names = [m for m in extensions.ExtensionSettings().modules if m != EARLY_YEARS]
    os.environ["FLAGSTREAM_EXTENSIONS"] = ",".join([*names, EARLY_YEARS])
    extensions.load([EARLY_YEARS])
    rules = Settings().rules_file.read_text()
    if "[flags.EY]" not in rules:
        rules += "\n[flags.EY]\nenabled = true\n"
    (workdir / "rules.toml").write_text(rules)
    os.environ["FLAGSTREAM_RULES_FILE"] = str(workdir / "rules.toml")
    return workdir / "reconcile.env"


def _write_env(path: Path, stack: Stack) -> None:
    """What `flagstream reconcile` needs to read the demo (owner-only: it holds the
    pseudonym key, as the work folder's pseudonym-key file does)."""
    # The ingest database too: reconcile's ledger (received = accepted + rejected) reads it.
    names = (
        "FLAGSTREAM_PSEUDONYM_KEY",
        "FLAGSTREAM_DATABASE_URL",
        "FLAGSTREAM_INGEST_DATABASE_URL",
        "FLAGSTREAM_KAFKA_BOOTSTRAP",
    )
    env = {**{n: stack.env()[n] for n in names}}
    env |= {n: os.environ[n] for n in ("FLAGSTREAM_EXTENSIONS", "FLAGSTREAM_RULES_FILE")}
    write_env_file(path, env)


def _generate(options: DemoOptions, workdir: Path) -> tuple[County, list[Item], Path]:
    live = options.live_days if options.keep_running else 0
    county = make_county(options.preset, options.seed)
    items = list(timeline(county, options.start, options.days + live, options.seed))
    county, items, families = add_families(county, items, options.seed, options.start)
    run_file = workdir / "timeline.jsonl"
    write_timeline(run_file, county, items)
    _say(
        f"generated {len(county.schools)} schools in {len(county.zones())} zones, "
        f"{len(county.pupils):,} pupils, {options.days + live} school days from "
        f"{options.start}: {sum(len(i.marks) for i in items if isinstance(i, Register)):,} "
        f"marks (corrections and repeats included) and "
        f"{sum(not isinstance(i, Register | DayEnded) for i in items):,} SEN, FSM, assessment, "
        f"family-case, police, enrolment-change and early-years records -> {run_file}"
        + (f"\n  {options.days} days are sent now, {live} more stream in live" if live else "")
    )
    _say(
        f"families: {families.households:,} households of {families.household_pupils:,} "
        f"pupils, {families.household_cases:,} family cases opened on a household "
        f"({families.household_only:,} naming only the household); "
        f"{families.early_years_children:,} early-years children checked by NHS number, "
        f"{families.linked_pupils:,} of them Reception pupils whose enrolment brings it, and "
        f"{families.rechecks:,} checks again on school days"
    )
    return county, items, run_file


def _checks_first(county: County, days: list[Day]) -> tuple[list[Item], list[Day]]:
    """Every other early-years check of a Reception pupil whose enrolment brings its NHS
    number, taken out of the first day to be sent before the enrolments: the record then
    arrives first and the enrolment links it (the rest arrive already linked)."""
    if not days:
        return [], days
    linked = {p.nhs_number for p in county.pupils if p.nhs_number}
    checks = [i for i in days[0][2] if isinstance(i, EarlyYearsRecorded)]
    first: list[Item] = list([i for i in checks if i.nhs_number in linked][::2])
    taken = {id(i) for i in first}
    day, regs, others = days[0]
    return first, [(day, regs, [i for i in others if id(i) not in taken]), *days[1:]]


def _show_backlog(flagger: int, projector: int) -> None:
    tty = sys.stderr.isatty()
    line = (
        f"waiting for the pipeline: flagger backlog {flagger:,} messages, "
        f"projector backlog {projector:,} records"
    )
    sys.stderr.write(f"\r{line}   " if tty else f"{line}\n")
    sys.stderr.flush()


def _check(stack: Stack, engine: Engine, as_of_default: date) -> bool:
    """The batch oracle over the topics against the read model, the ledger and the trend."""
    _say("\nreading the canonical topics back for the batch oracle ...")
    log = from_topics(stack.broker.bootstrap, stack.topics, Codec())
    as_of = log.last_day or as_of_default
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
    return not result.differences and balanced


def _live(
    stack: Stack, county: County, workdir: Path, sender: DaySender, later: list[Day], seconds: float
) -> None:
    dashboard = start_dashboard(stack, county, workdir)
    _say(
        f"\nservices left running (Ctrl-C stops them):\n"
        f"  FLAGSTREAM_KAFKA_BOOTSTRAP={stack.broker.bootstrap}\n"
        f"  ingest API   {stack.ingest_address}/docs (API key in {stack.api_key_file})\n"
        f"  metrics      {stack.ingest_address}/metrics, "
        f"http://127.0.0.1:{stack.flagger_metrics_port}/metrics, "
        f"http://127.0.0.1:{stack.projector_metrics_port}/metrics, "
        f"http://127.0.0.1:{stack.validator_metrics_port}/metrics\n"
        f"  partners may also publish Avro to {stack.topics.prefix}.raw.<kind> topics\n"
        f"{dashboard.describe()}\n"
        f"  a new simulated school day arrives every {seconds:g}s"
    )
    try:
        stream([(d[0], functools.partial(sender.day, *d)) for d in later], seconds, _say, today)
        while True:
            time.sleep(3600)
    finally:
        dashboard.process.stop()


def run_demo(options: DemoOptions) -> int:
    """Run the pipeline end to end; 0 when every record reconciles and every projected
    child's flags equal the batch oracle's. With keep_running, then serve the dashboard
    and stream more simulated days until Ctrl-C."""
    began = time.monotonic()
    total, now = options.days + (options.live_days if options.keep_running else 0), today()
    try:
        # Only the default start is moved: a --start the user gave is theirs to change.
        start = fit_start(options.start, total, now, given=options.start != DEMO_START)
    except StartTooLate as exc:
        print(f"flagstream demo: {exc}", file=sys.stderr, flush=True)
        return 2
    if start != options.start:
        _say(
            f"{total} school days from {options.start} would pass today ({now}), and ingest "
            f"refuses records dated after today: starting on {start} instead, so the last "
            f"simulated day is {school_days(start, total)[-1]}"
        )
        options = replace(options, start=start)
    workdir = options.workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)  # Each demo starts from nothing: the broker is in-memory too.
    workdir.mkdir(parents=True)
    env_file = _early_years_on(workdir)
    county, items, run_file = _generate(options, workdir)
    stack = Stack(workdir)
    _say("starting embedded broker, ingest, flagger and projector ...")
    try:
        stack.start()
        engine = make_engine(stack.database_url)
        _say(
            f"  broker {stack.broker.bootstrap}  ingest {stack.ingest_address}/docs "
            f"(API key in {stack.api_key_file})"
        )

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        client = httpx.Client(base_url=stack.ingest_url, timeout=60.0)
        sender = DaySender(stack, client, lambda: stack.wait_caught_up(projected, timeout=300.0))
        first, days = _checks_first(county, list(by_day(items)))
        early = send_child_events(client, first)
        sender.records, sender.rejected = early
        accepted, rejected = send_reference(client, county)
        _say(
            f"reference data: {accepted:,} accepted, {rejected:,} rejected; before it "
            f"{early[0]:,} early-years checks of Reception pupils, so their enrolment links them"
        )
        for n, day in enumerate(days[: options.days], 1):
            _say(f"day {n}: {sender.day(*day)}")
        _say(
            f"sent {sender.marks:,} marks and {sender.records:,} partner records through ingest; "
            f"{sender.rejected:,} rejected"
        )
        stack.wait_caught_up(projected, timeout=300.0, on_poll=_show_backlog)
        same = _check(stack, engine, options.start)
        verdict = (
            "every record reconciles and every child's projected flags equal the batch oracle's"
            if same
            else "MISMATCH"
        )
        _say(f"\n{verdict} - demo took {time.monotonic() - began:.0f}s")
        _say(f"read model (SQLite): {workdir / 'flagstream.db'}")
        _say(f"  try: sqlite3 {workdir / 'flagstream.db'} 'select * from school_summary'")
        _write_env(env_file, stack)
        _say(f"timeline file: {run_file} (flagstream recompute --log {run_file})")
        _say(f"  reconcile it: . {env_file} && flagstream reconcile --log {run_file}")
        _say(f"logs: {workdir / 'logs'}")
        if options.keep_running:
            with contextlib.suppress(KeyboardInterrupt):
                _live(stack, county, workdir, sender, days[options.days :], options.day_seconds)
        client.close()
        return 0 if same else 1
    finally:
        stack.stop()
