"""The `flagstream` command: one entry point for every service and tool."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from flagstream import extensions, logs
from flagstream_tools.db_cli import add_commands as add_db_commands
from flagstream_tools.oracle_cli import add_commands as add_oracle_commands

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
        items = timeline(county, args.start, args.days, args.seed)
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


def _stop_on_sigterm() -> None:
    # Turn SIGTERM into the same clean unwinding as Ctrl-C, so children are stopped.
    def _raise(_signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _raise)


def _cmd_broker(args: argparse.Namespace) -> int:
    import time

    from flagstream.settings import Settings
    from flagstream.topics import Topics, create_topics
    from flagstream_tools.broker import EmbeddedBroker

    settings = Settings()
    _stop_on_sigterm()
    with EmbeddedBroker(port=args.port) as broker:
        from ingest.kinds import KINDS

        create_topics(
            broker.bootstrap,
            Topics(settings.topic_prefix),
            settings.partitions,
            raw_kinds=[k.name for k in KINDS],
        )
        print(f"embedded broker up (in-memory): FLAGSTREAM_KAFKA_BOOTSTRAP={broker.bootstrap}")
        print("Ctrl-C stops it; its data is lost when it stops.", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


def _cmd_topics(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from flagstream.topics import Topics, create_topics
    from ingest.kinds import KINDS

    settings = Settings()
    created = create_topics(
        settings.require_kafka(),
        Topics(settings.topic_prefix),
        settings.partitions,
        settings.replication_factor,
        raw_kinds=[k.name for k in KINDS],
    )
    print(f"created {len(created)} topic(s): {', '.join(created) or 'none missing'}")
    return 0


def _cmd_ingest(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.main import run

    run(Settings())
    return 0


def _cmd_validator(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.validator_main import run

    run(Settings())
    return 0


def _cmd_keys(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.keys import create_key, list_keys, revoke_key

    engine = make_engine(Settings().ingest_database_url)
    if args.action == "list":
        print(
            f"{'key id':<14}{'partner':<32}{'scope':<16}{'urn':<8}{'created (UTC)':<22}"
            f"{'expires (UTC)':<22}revoked"
        )
        for k in list_keys(engine):
            expires = f"{k.expires_at:%Y-%m-%d %H:%M:%S}" if k.expires_at else "never"
            print(
                f"{k.key_id:<14}{k.partner[:30]:<32}{k.scope:<16}{k.urn or '-':<8}"
                f"{k.created_at:%Y-%m-%d %H:%M:%S}   {expires:<22}{'yes' if k.revoked else 'no'}"
            )
        return 0
    if args.action == "revoke":
        if not args.key_id:
            print("keys revoke needs the key id (as `keys list` shows it)", file=sys.stderr)
            return 2
        if not revoke_key(engine, args.key_id):
            print(f"no key {args.key_id!r}: see `flagstream keys list`", file=sys.stderr)
            return 2
        print(f"key {args.key_id} revoked: ingest refuses it from now on (401 key_revoked)")
        return 0
    if not args.partner or not args.scope:
        print("keys create needs --partner and --scope", file=sys.stderr)
        return 2
    try:
        key = create_key(engine, args.partner, args.scope, args.urn, args.expires_days)
    except ValueError as exc:
        print(f"no key created: {exc}", file=sys.stderr)
        return 2
    print(key)
    expiry = f", expires in {args.expires_days} days" if args.expires_days else ""
    print(
        f"API key for {args.partner} (scope {args.scope}{f', URN {args.urn}' if args.urn else ''}"
        f"{expiry}) - shown once: only its hash is stored. Give it to the partner over a secure "
        "channel.",
        file=sys.stderr,
    )
    return 0


def _cmd_transfers(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.store import Store
    from ingest.transfers import UnknownTransfer, confirm_transfer, identity_mover, list_transfers

    settings = Settings()
    engine = make_engine(settings.ingest_database_url)
    if args.action == "list":
        # No names or UPNs: a child_key prefix, the schools and dates.
        print(
            f"{'id':<14}{'child':<10}{'from':<8}{'to':<8}{'joined':<12}{'left':<12}"
            f"{'received (UTC)':<22}{'key id':<14}status"
        )
        for t in list_transfers(engine, everything=args.all):
            left = t.left_on.isoformat() if t.left_on else "-"
            status = t.status if t.confirmed_by is None else f"{t.status} by {t.confirmed_by}"
            print(
                f"{t.id:<14}{t.child:<10}{t.from_urn:<8}{t.to_urn:<8}{t.joined_on.isoformat():<12}"
                f"{left:<12}{t.created_at:%Y-%m-%d %H:%M:%S}   {t.key_id or '-':<14}{status}"
            )
        return 0
    if not args.id:
        print(
            "transfers confirm needs the transfer's id (as `transfers list` shows it)",
            file=sys.stderr,
        )
        return 2
    moves = identity_mover(make_engine(settings.identity_database_url))
    try:
        move = confirm_transfer(Store(engine), args.id, moves)
    except UnknownTransfer:
        print(f"no pending transfer {args.id!r}: see `flagstream transfers list`", file=sys.stderr)
        return 2
    print(
        f"transfer {args.id} confirmed: the held enrolment at {move.urn} is queued for "
        "publishing and the child is on that school's roll"
    )
    return 0


def _cmd_flagger(args: argparse.Namespace) -> int:
    from flagger.main import run
    from flagstream.settings import Settings

    settings = Settings()
    if args.rebuild:
        settings = settings.model_copy(update={"on_reset": "rebuild"})
    run(settings, loglevel=args.loglevel)
    return 0


def _cmd_projector(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from projector.main import run

    settings = Settings()
    if args.rebuild:
        settings = settings.model_copy(update={"on_reset": "rebuild"})
    run(settings)
    return 0


def _keep_control(topic: str, value: bytes, kind: str) -> int:
    """Write a control event into ingest's durable record (its outbox), one per partition."""
    from flagstream.settings import Settings
    from ingest.db import make_engine
    from ingest.record import keep_control
    from ingest.store import Store

    settings = Settings()
    store = Store(make_engine(settings.ingest_database_url))
    return keep_control(store, topic, settings.partitions, value, kind)


def _cmd_tick(args: argparse.Namespace) -> int:
    from flagstream.codec import Codec
    from flagstream.settings import Settings
    from flagstream.topics import Topics
    from flagstream_tools.clock import day_ended, publish_day_ended

    settings = Settings()
    topics, codec = Topics(settings.topic_prefix), Codec(settings.schemas_dir)
    if args.direct:
        sent = publish_day_ended(
            settings.require_kafka(), topics, settings.partitions, args.day, codec
        )
        print(f"day {args.day} ended: {sent} tick(s) sent straight to Kafka, one per partition")
        return 0
    kept = _keep_control(topics.attendance, day_ended(args.day, codec), "day_ended")
    print(
        f"day {args.day} ended: {kept} tick(s), one per partition, kept in ingest's durable "
        "record; its drainer publishes them after everything accepted before"
    )
    return 0


def _cmd_rules(args: argparse.Namespace) -> int:
    from flagstream.rules_file import RulesFileError, describe_rules, load_rules

    try:
        config = load_rules(args.file)
    except RulesFileError as exc:
        print(f"invalid: {exc}", file=sys.stderr)
        return 2
    print(f"{args.file}: valid")
    print(describe_rules(config))
    if args.action == "deploy":
        from flagstream.codec import Codec
        from flagstream.settings import Settings
        from flagstream.topics import Topics
        from flagstream_tools.clock import publish_rules, rules_deployed

        settings = Settings()
        topics, codec = Topics(settings.topic_prefix), Codec(settings.schemas_dir)
        if args.direct:
            version = publish_rules(
                settings.require_kafka(), topics, settings.partitions, args.file.read_text(), codec
            )
        else:
            version, value = rules_deployed(args.file.read_text(), codec)
            _keep_control(topics.clock, value, "rules_deployed")
        print(
            f"rules {version} deployed to {settings.partitions} partition(s): every flagger "
            "re-evaluates the children it holds and emits only real changes"
        )
    return 0


def _cmd_dashboard(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings

    settings = Settings()
    if args.action == "add-user":
        import getpass

        from dashboard.passwords import WeakPasswordError
        from dashboard.users import UsersFileError, add_user

        if not args.username or not args.role:
            print("add-user needs a user name and --role", file=sys.stderr)
            return 2
        password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
        try:
            add_user(settings.dashboard_users_file, args.username, args.role, args.scope, password)
        except WeakPasswordError as exc:
            print(
                f"not added: {exc} (12+ characters, not the user name, not a common one)",
                file=sys.stderr,
            )
            return 2
        except UsersFileError as exc:
            print(f"not added: {exc}", file=sys.stderr)
            return 2
        print(f"{args.username} ({args.role}) written to {settings.dashboard_users_file}")
        return 0
    from dashboard.main import run

    _stop_on_sigterm()
    run(settings)
    return 0


def _cmd_schools(args: argparse.Namespace) -> int:
    from projector.gias import main as import_gias

    return import_gias([str(args.file)])


def _cmd_demo(args: argparse.Namespace) -> int:
    from flagstream_tools.demo.runner import DemoOptions, run_demo

    _stop_on_sigterm()
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

    _stop_on_sigterm()
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


def build_parser() -> argparse.ArgumentParser:
    """The CLI, also used by tests to check docker-compose commands."""
    parser = argparse.ArgumentParser(
        prog="flagstream",
        description="Live early-help flags. Settings come from FLAGSTREAM_* environment "
        "variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_: str) -> Any:
        p = sub.add_parser(name, help=help_, description=help_)
        p.set_defaults(handler=handler)
        return p

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
        "--registers-only",
        action="store_true",
        help="only schools, pupils and registers (default: every partner source and day-end "
        "ticks: mid-year moves and leavers, SEN, FSM, assessments, family cases, notifications)",
    )

    broker = add("broker", _cmd_broker, "Run the embedded in-memory Kafka broker and its topics.")
    broker.add_argument("--port", type=int, default=None, help="port (default: a free one)")

    topics = add("topics", _cmd_topics, "Manage topics on FLAGSTREAM_KAFKA_BOOTSTRAP.")
    topics.add_argument("action", choices=["create"], help="create: create any missing topic")

    add("ingest", _cmd_ingest, "Run the ingest HTTP API.")
    add(
        "validator",
        _cmd_validator,
        "Validate partners' Avro records on the raw topics (<prefix>.raw.<kind>) into the "
        "canonical topics or the dead-letter topic, as the HTTP API would.",
    )
    keys = add(
        "keys",
        _cmd_keys,
        "Create a partner API key (printed once, stored hashed) or list the keys, in "
        "FLAGSTREAM_INGEST_DATABASE_URL.",
    )
    keys.add_argument(
        "action",
        choices=["create", "list", "revoke"],
        help="create a key, list keys, or revoke one (by its id)",
    )
    keys.add_argument("key_id", nargs="?", help="revoke: the key's id, as `keys list` shows it")
    keys.add_argument("--partner", help="create: who the key is for, e.g. 'Acme MIS - 100001'")
    keys.add_argument(
        "--scope",
        help="create: school (registers, enrolments, SEN, assessments for one --urn), council "
        "(schools, enrolments, SEN, FSM, assessments), family-support, police, professional "
        "(outcomes) or all",
    )
    keys.add_argument("--urn", help="create: the school's 6-digit URN (school scope only)")
    keys.add_argument(
        "--expires-days",
        type=int,
        help="create: refuse the key (401 key_expired) this many days from now (default: never)",
    )
    transfers = add(
        "transfers",
        _cmd_transfers,
        "List enrolments held as pending transfers (a school enrolled a pupil on another "
        "school's roll), or confirm one: its enrolment is published and the child moves.",
    )
    transfers.add_argument("action", choices=["list", "confirm"], help="list, or confirm one")
    transfers.add_argument("id", nargs="?", help="confirm: the transfer's id")
    transfers.add_argument("--all", action="store_true", help="list: confirmed ones too")
    flagger = add("flagger", _cmd_flagger, "Run the Faust flagger worker.")
    flagger.add_argument(
        "--loglevel",
        choices=["crit", "error", "warn", "info", "debug"],
        default="warn",
        help="Faust worker log level",
    )
    rebuild_help = (
        "if the topics were reset or recreated since the state was built, build it again from "
        "the whole log (as FLAGSTREAM_ON_RESET=rebuild) instead of refusing to start"
    )
    flagger.add_argument("--rebuild", action="store_true", help=rebuild_help)
    projector = add("projector", _cmd_projector, "Run the projector into FLAGSTREAM_DATABASE_URL.")
    projector.add_argument("--rebuild", action="store_true", help=rebuild_help)

    schools = add(
        "schools", _cmd_schools, "Import real schools from a GIAS-style CSV to the schools topic."
    )
    schools.add_argument("action", choices=["import"], help="import: validate and publish")
    schools.add_argument(
        "file",
        type=Path,
        help="GIAS extract with URN, EstablishmentName, PhaseOfEducation (name), Pyramid, Zone",
    )

    tick = add("tick", _cmd_tick, "Publish a day-end tick so time-dependent flags update.")
    tick.add_argument(
        "--day",
        type=date.fromisoformat,
        required=True,
        help="the day that ended (YYYY-MM-DD); run daily after registers close",
    )

    rules = add(
        "rules", _cmd_rules, "Validate a rules file and say what it means; or deploy it live."
    )
    rules.add_argument(
        "action",
        choices=["check", "deploy"],
        help="check: validate and describe; deploy: also publish it to every running flagger "
        "(FLAGSTREAM_KAFKA_BOOTSTRAP), which re-evaluates every child from held state",
    )
    rules.add_argument("file", type=Path, help="rules file (TOML), e.g. deploy/rules.toml")
    direct = (
        "publish straight to Kafka instead of keeping it in ingest's durable record "
        "(FLAGSTREAM_INGEST_DATABASE_URL); not replayed after a broker loss"
    )
    rules.add_argument("--direct", action="store_true", help="deploy: " + direct)
    tick.add_argument("--direct", action="store_true", help=direct)

    add_oracle_commands(add)
    add_db_commands(add)

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
    dash = add(
        "dashboard",
        _cmd_dashboard,
        "Run the dashboard web app (FLAGSTREAM_DASHBOARD_*), or add a user to its users file.",
    )
    dash.add_argument(
        "action",
        nargs="?",
        choices=["serve", "add-user"],
        default="serve",
        help="serve (default): run the web app; add-user: add or replace a login "
        "(password asked for, or read from stdin with --password-stdin)",
    )
    dash.add_argument("username", nargs="?", help="add-user: the login name")
    dash.add_argument(
        "--role",
        choices=["school", "dsl", "zone", "manager", "admin"],
        help="add-user: school staff, designated safeguarding lead, zone staff, manager, admin",
    )
    dash.add_argument("--scope", help="add-user: school URN (school, dsl) or zone name (zone)")
    dash.add_argument(
        "--password-stdin", action="store_true", help="add-user: read the password from stdin"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    log_settings = logs.LogSettings()
    logs.configure(log_settings.format, log_settings.level)
    try:
        extensions.load()  # before any catalogue, codec or rules are built
    except extensions.ExtensionError as exc:
        print(exc, file=sys.stderr)
        return 2
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
