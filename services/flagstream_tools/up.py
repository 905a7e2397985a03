"""`flagstream up`: the supervised one-machine stack (demo/stack.py) as a deployment - fixed
ports, the work folder's databases, secrets and API keys kept from run to run, the dashboard
and (with SMTP settings, or --inbox) the notifier; no data generated, nothing sent.

The embedded broker is new and empty on every run: ingest publishes its durable record onto
it again and the flagger and projector rebuild from it (FLAGSTREAM_ON_RESET=rebuild), as
they do for a broker the supervisor replaces. The read model's status row says how far."""

from __future__ import annotations

import os
import secrets
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from flagstream import replays
from flagstream.lag import end_offsets
from flagstream.private_files import write_env_file, write_private
from flagstream_tools.broker import EmbeddedBroker
from flagstream_tools.demo.dashboard_process import start_dashboard_process
from flagstream_tools.demo.stack import Stack
from flagstream_tools.processes import ServiceProcess
from ingest.db import make_engine as ingest_engine
from ingest.keys import KeyStore, Partner, create_key
from projector.consumer import source_topics
from projector.writer import stored_offsets
from readmodel.db import make_engine as read_model_engine
from readmodel.flag_tables import child_flags
from readmodel.status import Status, read_status
from readmodel.tables import children

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Ports:
    """The fixed ports partners and operators find the stack on (the services' defaults)."""

    embedded_broker: int = 9092
    ingest: int = 8080
    dashboard: int = 8090
    flagger_metrics: int = 9101
    projector_metrics: int = 9102
    validator_metrics: int = 9103
    notifier_metrics: int = 9104


@dataclass(frozen=True, slots=True)
class UpOptions:
    """What `flagstream up` was asked to do."""

    workdir: Path
    database_url: str | None = None  # the read model's; default SQLite in the work folder
    ports: Ports = field(default_factory=Ports)
    partitions: int | None = None  # None: as the first run chose, or 6
    inbox: bool = False  # the notifier without SMTP: the dashboard inbox only


def busy_ports(ports: Ports) -> list[str]:
    """What is wrong with the ports: one given twice, or one something else listens on."""
    named = asdict(ports)
    wrong = [f"{n} and {m} both on {p}" for n, p in named.items() for m, q in named.items()
             if n < m and p == q]  # fmt: skip
    for name, port in named.items():
        with socket.socket() as s:
            # As the servers bind: a port left in TIME_WAIT by the last run is free to them.
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError as exc:
                wrong.append(f"{name} port {port} is in use ({exc.strerror})")
    return wrong


def kept_partitions(workdir: Path, asked: int | None) -> int:
    """Partitions per topic: chosen on the first run and kept in the work folder, since
    ingest's record holds each message's partition; ValueError if asked to change them."""
    path = workdir / "partitions"
    kept = int(path.read_text()) if path.exists() else None
    if kept is not None and asked not in (None, kept):
        raise ValueError(
            f"{workdir} was started with --partitions {kept}, and ingest's record holds each "
            f"message's partition: run it with {kept} (or a new --workdir)"
        )
    chosen = kept or asked or 6
    workdir.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{chosen}\n")
    return chosen


def kept_key(engine: Engine, path: Path, partner: str, scope: str) -> str:
    """The API key kept in `path` if ingest still takes it, else a new one written there."""
    if path.exists():
        key = path.read_text().strip()
        if isinstance(KeyStore(engine).check(key), Partner):
            return key
    key = create_key(engine, partner, scope)
    write_private(path, key + "\n")
    return key


class UpStack(Stack):
    """The Stack on fixed ports, keeping its partner key; ingest's own rate limit applies."""

    def __init__(self, workdir: Path, database_url: str | None, partitions: int, ports: Ports):
        super().__init__(workdir, database_url, partitions)
        self.broker = EmbeddedBroker(
            port=ports.embedded_broker, log_path=workdir / "logs" / "broker.log"
        )
        self.ingest_port = ports.ingest
        self.flagger_metrics_port = ports.flagger_metrics
        self.projector_metrics_port = ports.projector_metrics
        self.validator_metrics_port = ports.validator_metrics
        self.notifier_metrics_port = ports.notifier_metrics

    def _partner_key(self, engine: Any) -> str:
        return kept_key(engine, self.api_key_file, "up", "all")

    def env(self) -> dict[str, str]:
        env = super().env()
        del env["FLAGSTREAM_INGEST_RATE_PER_MINUTE"]  # the default, or the operator's setting
        return env

    def start_dashboard(self, port: int, users: Path, timeout: float) -> ServiceProcess:
        """The dashboard under the supervision, sending outcomes with its own kept key."""
        engine = ingest_engine(self.ingest_database_url)
        try:
            key = kept_key(engine, self.workdir / "dashboard-ingest-key", "dashboard",
                           "professional")  # fmt: skip
        finally:
            engine.dispose()
        process = start_dashboard_process(
            self,
            port,
            users,
            self._kept_secret("dashboard-secret"),  # sign-ins outlast a restart
            f"http://dashboard:{key}@127.0.0.1:{self.ingest_port}",
            timeout,
            # Plain HTTP on loopback, unless the operator says it is behind a TLS proxy.
            os.environ.get("FLAGSTREAM_DASHBOARD_SECURE_COOKIES", "false"),
            supervised=True,
        )
        return process


def first_admin(workdir: Path) -> tuple[Path, Path | None]:
    """The dashboard's users file, made on the first run with one admin whose password is
    written beside it (owner-only); (users file, password file if there is one)."""
    from dashboard.users import add_user

    users, password_file = workdir / "dashboard-users.json", workdir / "admin-password"
    if not users.exists():
        password = secrets.token_urlsafe(15)
        add_user(users, "admin", "admin", None, password)  # owner-only, as every users file
        write_private(password_file, password + "\n")
    return users, password_file if password_file.exists() else None


ENV_NAMES = (
    "FLAGSTREAM_KAFKA_BOOTSTRAP",
    "FLAGSTREAM_PARTITIONS",
    "FLAGSTREAM_DATABASE_URL",
    "FLAGSTREAM_INGEST_DATABASE_URL",
    "FLAGSTREAM_IDENTITY_DATABASE_URL",
    "FLAGSTREAM_ALERTS_DATABASE_URL",
    "FLAGSTREAM_PSEUDONYM_KEY",
)


def write_env(stack: Stack, users: Path) -> Path:
    """WORKDIR/up.env (owner-only: it holds the pseudonym key): what `flagstream keys`,
    `dashboard add-user`, `tick` and `reconcile` need to reach this stack."""
    env = {n: stack.env()[n] for n in ENV_NAMES} | {
        "FLAGSTREAM_DASHBOARD_USERS_FILE": str(users),
        "FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL": f"sqlite:///{stack.workdir / 'audit.db'}",
    }
    path = stack.workdir / "up.env"
    write_env_file(path, env)
    return path


class ReadModelWatch:
    """Says how the read model stands - waiting, rebuilding N of M, ready - when that
    changes, and a rebuild's progress every few seconds."""

    def __init__(self, stack: Stack, say: Say, since: datetime, every_s: float = 5.0) -> None:
        self._stack, self._say, self._since, self._every = stack, say, since, every_s
        self._engine = read_model_engine(stack.database_url)
        self._state, self._said_at = "", 0.0

    def poll(self) -> str:
        """Look once; returns the state: waiting, rebuilding, current (this run) or stale."""
        try:
            with self._engine.connect() as conn:
                status = read_status(conn)
        except Exception:  # the projector has not made the schema yet
            status = None
        if status is None or status.checked_at is None or status.checked_at < self._since:
            # Until the projector of this run has checked it, the row is the last run's.
            state = "waiting"
        else:
            state = status.state
        due = state == "rebuilding" and time.monotonic() - self._said_at >= self._every
        if state != self._state or due:
            try:
                self._say(self._line(state, status))
            except Exception:  # the broker or the database away for a moment: next time
                return state
            self._state, self._said_at = state, time.monotonic()
        return state

    def _line(self, state: str, status: Status | None) -> str:
        if state == "waiting" or status is None:
            return "read model: waiting for the projector to check it against the log"
        if state == "rebuilding":
            with self._engine.connect() as conn:
                done = stored_offsets(conn)
            ends = end_offsets(self._stack.broker.bootstrap, source_topics(self._stack.topics))
            n = sum(min(max(done.get(tp, 0), 0), end) for tp, end in ends.items())
            upstream, _ = self._stack.backlog(lambda: done)
            why = f" ({status.detail.partition(':')[0]})" if state != self._state else ""
            return (
                f"read model rebuilding{why}: {self._replay()}; {n:,} of "
                f"{sum(ends.values()):,} messages projected, {upstream:,} still upstream"
            )
        if state == "current":
            with self._engine.connect() as conn:
                kids = conn.scalar(select(func.count()).select_from(children))
                flags = conn.scalar(select(func.count()).select_from(child_flags))
            return f"ready: the read model is current ({kids:,} children, {flags:,} open flags)"
        return f"read model {state}: {status.detail}"

    def _replay(self) -> str:
        """How far ingest is with publishing its durable record onto this broker."""
        markers = replays.read(self._stack.broker.bootstrap, self._stack.topics.record_replays)
        said = {m.state: m.records for m in markers if m.keeper == replays.REQUIRED_KEEPER}
        if "replayed" in said:
            return f"ingest has republished its {said['replayed']:,} kept record(s)"
        if "replaying" in said:
            return f"ingest republishing its {said['replaying']:,} kept record(s)"
        return "ingest about to republish its durable record"

    def close(self) -> None:
        """Release the read model's connections."""
        self._engine.dispose()
