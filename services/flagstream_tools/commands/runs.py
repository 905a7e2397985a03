"""`flagstream generate|demo|bench`: a synthetic county, the whole pipeline on one machine,
the benchmark."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

from flagstream_tools.commands import Add, stop_on_sigterm

DEMO_START = date(2026, 9, 7)


def _cmd_generate(args: argparse.Namespace) -> int:
    from flagstream_tools.generator import (
        make_county,
        registers,
        timeline,
        write_run,
        write_timeline,
    )

    county = make_county(args.preset, args.seed)
    if args.registers_only:
        lines = write_run(args.out, county, registers(county, args.start, args.days, args.seed))
    else:
        items = list(timeline(county, args.start, args.days, args.seed))
        if args.families:  # households and early-years checks, as the demo sends them
            from flagstream_tools.generator.families import add_families

            county, items, _ = add_families(county, items, args.seed, args.start)
        lines = write_timeline(args.out, county, items)
    print(
        f"wrote {args.out}: {len(county.schools)} schools, {len(county.pupils)} pupils, "
        f"{args.days} school days ({lines} records)"
    )
    return 0


def _run_file(text: str) -> Path:
    path = Path(text)
    if path.suffix not in (".jsonl", ".avro"):
        raise argparse.ArgumentTypeError(f"{text}: use a .jsonl or .avro file name")
    return path


def _start_day(text: str) -> date:
    """A first simulated day whose registers ingest would accept (domain/codes.py)."""
    from flagstream.domain.codes import CODES_FROM

    day = date.fromisoformat(text)
    if day < CODES_FROM:
        raise argparse.ArgumentTypeError(
            f"{text}: registers before {CODES_FROM} (the national attendance codes) are refused"
        )
    return day


def _cmd_demo(args: argparse.Namespace) -> int:
    from flagstream_tools.demo.runner import DemoOptions, run_demo

    stop_on_sigterm()
    return run_demo(
        DemoOptions(
            preset=args.preset,
            seed=args.seed,
            days=args.days,
            start=args.start,
            workdir=args.workdir,
            keep_running=args.keep_running,
            live_days=args.live_days,
            day_seconds=args.day_seconds,
        )
    )


def _cmd_bench(args: argparse.Namespace) -> int:
    # Before the imports: alembic logs its plugins at INFO as it is imported. (kafka-python's
    # close-time races, logged at ERROR each time the bench closes a short-lived lag client,
    # are lowered by flagstream.logs like everywhere else.)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from flagstream_tools.bench.runner import BenchOptions, run_bench

    stop_on_sigterm()
    run_bench(
        BenchOptions(
            preset=args.preset,
            seed=args.seed,
            rate=args.rate,
            workdir=args.workdir,
            json_path=args.json,
            postgres_admin_url=args.postgres,
            profile=args.profile,
        )
    )
    return 0


def add_commands(add: Add) -> None:
    """Register generate, demo and bench on the main parser."""
    gen = add(
        "generate", _cmd_generate, "Write a synthetic county and its partner sources to a file."
    )
    gen.add_argument(
        "--preset",
        choices=["tiny", "demo", "dorset"],
        default="demo",
        help="county size: tiny (tests), demo (~20 schools), dorset (~170 schools)",
    )
    gen.add_argument("--seed", type=int, default=7, help="random seed (same seed, same output)")
    gen.add_argument("--days", type=int, default=15, help="school days to simulate")
    gen.add_argument(
        "--start",
        type=_start_day,
        default=DEMO_START,
        help="first day (YYYY-MM-DD); weekends are skipped",
    )
    gen.add_argument("--out", type=_run_file, required=True, help="output file: .jsonl or .avro")
    gen.add_argument(
        "--families",
        action="store_true",
        help="add households and early-years checks by NHS number, as `flagstream demo` does "
        "(docs/families.md); `recompute --log` counts EY with FLAGSTREAM_EXTENSIONS="
        "flagstream.early_years and EY enabled in the rules file",
    )
    gen.add_argument(
        "--registers-only",
        action="store_true",
        help="only schools, pupils and registers (default: every partner source and day-end "
        "ticks: mid-year moves and leavers, SEN, FSM, assessments, family cases, notifications)",
    )

    demo = add("demo", _cmd_demo, "Run everything on the embedded broker and SQLite, end to end.")
    demo.add_argument(
        "--preset",
        choices=["tiny", "demo", "dorset"],
        default="demo",
        help="county size (default demo: ~20 schools, ~5,000 children)",
    )
    demo.add_argument("--seed", type=int, default=7, help="random seed")
    demo.add_argument("--days", type=int, default=15, help="school days to send")
    demo.add_argument(
        "--start",
        type=_start_day,
        default=DEMO_START,
        help="first simulated day (YYYY-MM-DD)",
    )
    demo.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/demo"),
        help="where the database, logs and generated run go",
    )
    demo.add_argument(
        "--keep-running",
        action="store_true",
        help="then serve the dashboard (URL and a login per role printed), stream more "
        "simulated school days, and keep everything up until Ctrl-C",
    )
    demo.add_argument(
        "--live-days", type=int, default=40, help="with --keep-running: days streamed live"
    )
    demo.add_argument(
        "--day-seconds",
        type=float,
        default=20.0,
        help="with --keep-running: seconds between live simulated days",
    )

    bench = add(
        "bench",
        _cmd_bench,
        "Measure every stage in one run on the embedded broker: raw aiokafka rates, a naive "
        "Faust agent, the flagger, the projector (SQLite and PostgreSQL), end-to-end freshness "
        "through ingest, a rebuild, and peak memory; prints a table and writes JSON.",
    )
    bench.add_argument(
        "--preset",
        choices=["tiny", "small", "dorset"],
        default="small",
        help="size: tiny (CI check, <1 min), small (~5,000 pupils, ~1-2 min), "
        "dorset (~45,000 pupils, 70-day term, ~6.3M marks: ~15 min on 2 cores)",
    )
    bench.add_argument("--seed", type=int, default=7, help="random seed of the generated county")
    bench.add_argument(
        "--rate",
        type=float,
        default=2000.0,
        help="offered load of the end-to-end stage, in marks/s (default 2000)",
    )
    bench.add_argument(
        "--json", type=Path, default=Path("var/bench/bench.json"), help="where to write the figures"
    )
    bench.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/bench/run"),
        help="scratch folder for databases and service logs (emptied first)",
    )
    bench.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/test",
        help="SQLAlchemy URL of a PostgreSQL database allowed to CREATE DATABASE; the bench "
        "creates a fresh database beside it and drops it afterwards ('' skips PostgreSQL)",
    )
    bench.add_argument(
        "--profile",
        action="store_true",
        help="also cProfile the flagger handler (in-process) into WORKDIR/profile/",
    )
