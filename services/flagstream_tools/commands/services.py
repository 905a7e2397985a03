"""`flagstream broker|topics|ingest|validator|flagger|projector|notifier|dashboard|schools`: run the
services and their infrastructure."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from flagstream_tools.commands import Add, stop_on_sigterm


def _cmd_broker(args: argparse.Namespace) -> int:
    import time

    from flagstream.settings import Settings
    from flagstream.topics import Topics, create_topics
    from flagstream_tools.broker import EmbeddedBroker

    settings = Settings()
    stop_on_sigterm()
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
            add_user(
                settings.dashboard_users_file,
                args.username,
                args.role,
                args.scope,
                password,
                args.email,
            )
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
    if args.action == "end-sessions":
        return _end_sessions(settings, args.username)
    from dashboard.main import run

    stop_on_sigterm()
    run(settings)
    return 0


def _end_sessions(settings: Any, username: str | None) -> int:
    """Sign one user out everywhere now (a council account disabled, a lost laptop)."""
    import getpass
    from datetime import UTC, datetime

    from dashboard.audit import AuditEntry, append
    from dashboard.sessions import SessionStore
    from flagstream.engine import make_engine

    if not username:
        print("end-sessions needs the user name (as they sign in)", file=sys.stderr)
        return 2
    engine = make_engine(settings.dashboard_audit_database_url)
    now = datetime.now(UTC)
    try:
        ended = SessionStore(engine).end_user(username, now)
        with engine.begin() as conn:  # an admin's act on someone's access: in the audit log
            append(conn, AuditEntry(now, f"cli:{getpass.getuser()}", "admin", "end_sessions",
                                    "flagstream dashboard end-sessions", rows=ended,
                                    detail=f"ended {ended} session(s) of {username}"))  # fmt: skip
    finally:
        engine.dispose()
    print(
        f"{ended} open session(s) of {username} ended: their next request goes to the sign-in "
        "page. A council user can sign in again unless their account or group is removed at "
        "the identity provider; a local user unless removed from the users file."
    )
    return 0


def _cmd_notifier(args: argparse.Namespace) -> int:
    from flagstream.settings import Settings
    from notifier.main import run

    run(Settings(), from_beginning=args.replay)
    return 0


def _cmd_schools(args: argparse.Namespace) -> int:
    from projector.gias import main as import_gias

    return import_gias([str(args.file)])


def add_commands(add: Add) -> None:
    """Register the service commands on the main parser."""
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

    notifier = add(
        "notifier",
        _cmd_notifier,
        "Run the notifier: flag changes -> the dashboard inbox and email (FLAGSTREAM_SMTP_*), "
        "daily and weekly digests, late registers.",
    )
    notifier.add_argument(
        "--replay",
        action="store_true",
        help="read the flag-change topic from its start instead of the stored position (the "
        "ledger still sends nothing twice)",
    )

    schools = add(
        "schools", _cmd_schools, "Import real schools from a GIAS-style CSV to the schools topic."
    )
    schools.add_argument("action", choices=["import"], help="import: validate and publish")
    schools.add_argument(
        "file",
        type=Path,
        help="GIAS extract with URN, EstablishmentName, PhaseOfEducation (name), Pyramid, Zone",
    )

    dash = add(
        "dashboard",
        _cmd_dashboard,
        "Run the dashboard web app (FLAGSTREAM_DASHBOARD_*), or add a user to its users file.",
    )
    dash.add_argument(
        "action",
        nargs="?",
        choices=["serve", "add-user", "end-sessions"],
        default="serve",
        help="serve (default): run the web app; add-user: add or replace a login "
        "(password asked for, or read from stdin with --password-stdin); end-sessions: sign "
        "a user (local or council) out of every open session now",
    )
    dash.add_argument("username", nargs="?", help="add-user, end-sessions: the login name")
    dash.add_argument(
        "--role",
        choices=["school", "dsl", "zone", "manager", "admin"],
        help="add-user: school staff, designated safeguarding lead, zone staff, manager, admin",
    )
    dash.add_argument("--scope", help="add-user: school URN (school, dsl) or zone name (zone)")
    dash.add_argument("--email", help="add-user: where the notifier emails this user")
    dash.add_argument(
        "--password-stdin", action="store_true", help="add-user: read the password from stdin"
    )
