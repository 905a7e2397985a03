"""`flagstream up`: the supervised one-machine stack, for a deployment on one machine
(flagstream_tools/up.py): no data generated, nothing sent; runs until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from flagstream_tools.commands import Add, stop_on_sigterm

if TYPE_CHECKING:
    from flagstream_tools.up import UpOptions, UpStack


def _say(text: str) -> None:
    print(text, flush=True)


def _hidden(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def describe(stack: UpStack, options: UpOptions, users: Path, password: Path | None,
             notifier: str) -> str:  # fmt: skip
    """Where everything is, for the console (no secret printed: the files are named)."""
    w, p, host = stack.workdir, options.ports, "http://127.0.0.1"
    admin = (f"first admin: user admin, password in {password}" if password
             else f"logins in {users}")  # fmt: skip
    return "\n".join([
        "flagstream up is running (Ctrl-C or SIGTERM stops everything):",
        f"  ingest API   {stack.ingest_address}/docs  (a key for every kind in "
        f"{stack.api_key_file}; one per partner: flagstream keys create)",
        f"  dashboard    {host}:{p.dashboard}  ({admin}; more: flagstream dashboard add-user)",
        f"  notifier     {notifier}",
        f"  broker       {stack.broker.bootstrap} (embedded, in memory; partners' Avro to "
        f"{stack.topics.prefix}.raw.<kind>)",
        f"  metrics      {stack.ingest_address}/metrics, {host}:{p.flagger_metrics}/metrics "
        f"(flagger), :{p.projector_metrics} (projector), :{p.validator_metrics} (validator), "
        f":{p.notifier_metrics} (notifier)",
        f"  read model   {_hidden(stack.database_url)}",
        f"  kept in {w}: ingest.db (the durable record: back it up), identity.db, audit.db, "
        f"alerts.db, the secrets and keys; logs in {w / 'logs'}",
        f"  commands     . {w / 'up.env'}, then flagstream keys|dashboard add-user|tick|reconcile",
    ])  # fmt: skip


def run_up(options: UpOptions) -> int:
    """Start everything, say where it is and how the read model stands, run until Ctrl-C or
    SIGTERM (a KeyboardInterrupt here), then stop it all: 0."""
    from flagstream_tools.up import (
        ReadModelWatch,
        UpStack,
        busy_ports,
        first_admin,
        kept_partitions,
        write_env,
    )

    wrong = busy_ports(options.ports)
    if wrong:
        print(
            "flagstream up: cannot start: " + "; ".join(wrong) + ". Stop what holds a port "
            "(`ss -ltnp` names the program: another `flagstream up`?), or choose others "
            "(--broker-port, --ingest-port, --dashboard-port, --metrics-port); partners then "
            "need the new ingest URL.",
            file=sys.stderr,
        )
        return 2
    began = datetime.now(UTC)
    workdir = options.workdir.resolve()
    again = (workdir / "ingest.db").exists()
    try:
        partitions = kept_partitions(workdir, options.partitions)
    except ValueError as exc:
        print(f"flagstream up: {exc}", file=sys.stderr)
        return 2
    stack = UpStack(workdir, options.database_url, partitions, options.ports)
    watch: ReadModelWatch | None = None
    _say(f"{'starting again on' if again else 'starting in'} {workdir}: embedded broker, "
         "ingest, validator, flagger, projector ...")  # fmt: skip
    try:
        stack.start(timeout=120.0)
        _say(f"  answering after {(datetime.now(UTC) - began).total_seconds():.0f}s; "
             "starting the dashboard ...")  # fmt: skip
        users, password = first_admin(workdir)
        stack.start_dashboard(options.ports.dashboard, users, 120.0)
        smtp = os.environ.get("FLAGSTREAM_SMTP_HOST", "")
        if smtp or options.inbox:
            stack.start_notifier(users, f"http://127.0.0.1:{options.ports.dashboard}")
            notifier = f"email via {smtp} (FLAGSTREAM_SMTP_*)" if smtp else "inbox only, no email"
        else:
            notifier = "not started: set FLAGSTREAM_SMTP_HOST (FLAGSTREAM_SMTP_*) or pass --inbox"
        write_env(stack, users)
        _say(describe(stack, options, users, password, notifier))
        if again:
            _say("  the broker is new: ingest publishes its durable record onto it again, and "
                 "the flagger and projector rebuild from it")  # fmt: skip
        watch = ReadModelWatch(stack, _say, began)
        while True:
            watch.poll()
            time.sleep(1.0)
    except KeyboardInterrupt:
        pass
    except RuntimeError as exc:  # a service that never answered (its log's end is in exc)
        print(f"flagstream up: {exc}", file=sys.stderr, flush=True)
        return 1
    finally:
        # A second Ctrl-C or SIGTERM must not cut the stopping short (each stop is bounded).
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("stopping ...")
        if watch is not None:
            watch.close()
        stack.stop()
        _say("stopped")
    return 0


def _cmd_up(args: argparse.Namespace) -> int:
    # Before the imports: alembic logs its plugins at INFO as it is imported.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    from flagstream_tools.up import Ports, UpOptions

    stop_on_sigterm()
    ports = Ports(
        embedded_broker=args.broker_port,
        ingest=args.ingest_port,
        dashboard=args.dashboard_port,
        flagger_metrics=args.metrics_port,
        projector_metrics=args.metrics_port + 1,
        validator_metrics=args.metrics_port + 2,
        notifier_metrics=args.metrics_port + 3,
    )
    options = UpOptions(args.workdir, args.database_url, ports, args.partitions, args.inbox)
    return run_up(options)


def _port(text: str) -> int:
    port = int(text)
    if not 1024 <= port <= 65532:
        raise argparse.ArgumentTypeError(f"{text}: choose a port from 1024 to 65532")
    return port


def add_commands(add: Add) -> None:
    """Register `up` on the main parser."""
    up = add(
        "up",
        _cmd_up,
        "Run every service on this machine under a supervisor that restarts a crashed one "
        "(embedded broker, ingest, validator, flagger, projector, dashboard; the notifier with "
        "SMTP settings or --inbox). Generates and sends nothing. Run again on the same work "
        "folder, it keeps its databases, secrets and API keys; the broker is new and empty, "
        "so ingest publishes its durable record again and the read model is rebuilt. Stops "
        "everything on Ctrl-C or SIGTERM (exit 0).",
    )
    up.add_argument(
        "--workdir",
        type=Path,
        default=Path("var/up"),
        help="where the databases, secrets, API keys and logs are kept (default var/up)",
    )
    up.add_argument(
        "--database-url",
        help="SQLAlchemy URL of the read model, e.g. PostgreSQL (default: SQLite in the work "
        "folder); the other databases are SQLite in the work folder",
    )
    up.add_argument("--ingest-port", type=_port, default=8080, help="ingest API (default 8080)")
    up.add_argument("--dashboard-port", type=_port, default=8090, help="dashboard (default 8090)")
    up.add_argument(
        "--broker-port", type=_port, default=9092, help="embedded Kafka broker (default 9092)"
    )
    up.add_argument(
        "--metrics-port",
        type=_port,
        default=9101,
        help="first of four /metrics ports: flagger, projector, validator, notifier (default "
        "9101-9104); ingest's is its own port",
    )
    up.add_argument(
        "--partitions",
        type=int,
        choices=range(1, 65),
        metavar="N",
        help="partitions per topic, chosen on the first run (default 6) and kept: ingest's "
        "record holds each message's partition",
    )
    up.add_argument(
        "--inbox",
        action="store_true",
        help="run the notifier without email (dashboard inbox only); with FLAGSTREAM_SMTP_HOST "
        "set it runs anyway and sends email",
    )
