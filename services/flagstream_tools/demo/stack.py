"""The whole pipeline on one machine: embedded broker + ingest, flagger and projector, under
a supervisor that restarts a crashed service (with back-off) and a lost broker.

The embedded broker keeps nothing across a restart: it is a cache of ingest's durable
record. A new broker gets the topics again; ingest then publishes its whole record onto
it, and the flagger and projector (started with FLAGSTREAM_ON_RESET=rebuild) rebuild
their state from it, the read model marked incomplete until they are done."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import Callable
from datetime import date
from pathlib import Path
from types import TracebackType
from typing import Any

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.private_files import write_private
from flagstream.topics import Topics, create_topics, describe, topic_specs
from flagstream_tools.broker import EmbeddedBroker, free_port, wait_for_port
from flagstream_tools.clock import day_ended
from flagstream_tools.demo import catch_up
from flagstream_tools.demo.supervisor import Supervision
from flagstream_tools.processes import ServiceProcess
from ingest.db import make_engine
from ingest.keys import create_key
from ingest.record import keep_control
from ingest.store import Store, raw_outbox
from readmodel.status import read_status

log = logging.getLogger("flagstream.stack")


class Stack(Supervision):
    """Starts everything in order, knows when the pipeline has caught up, stops it all."""

    def __init__(self, workdir: Path, database_url: str | None = None, partitions: int = 6) -> None:
        self.workdir = workdir
        self.database_url = database_url or f"sqlite:///{workdir / 'flagstream.db'}"
        self.partitions = partitions
        self.topics = Topics("flagstream")
        self.broker = EmbeddedBroker(log_path=workdir / "logs" / "broker.log")
        self.ingest_port = free_port()
        self.flagger_metrics_port = free_port()
        self.projector_metrics_port = free_port()
        self.validator_metrics_port = free_port()
        self.notifier_metrics_port = free_port()
        self.services: dict[str, ServiceProcess] = {}
        self.pseudonym_key = self._kept_secret("pseudonym-key")  # stable with its record
        self.api_key = ""  # created with the ingest database in start()
        self._outboxes: tuple[Store, Store] | None = None  # ingest's and the validator's
        self._engine: Any = None  # the read model, for its status
        self.restarts: dict[str, int] = {}  # service (or "broker") -> restarts so far
        self._backoff: dict[str, tuple[float, float]] = {}  # name -> (next try, wait)
        self._supervising: threading.Thread | None = None
        self._halt = threading.Event()
        self._lock = threading.RLock()

    def _kept_secret(self, name: str) -> str:
        """A secret kept in the work folder, made on first use: the durable record outlives
        the broker, so its pseudonymisation key must too."""
        path = self.workdir / name
        if path.exists():
            return path.read_text().strip()
        value = secrets.token_hex(32)
        write_private(path, value + "\n")
        return value

    @property
    def ingest_url(self) -> str:
        """Base URL of the ingest API for clients, with the demo partner's API key as the
        password (HTTP Basic: httpx and curl send it from the URL). Never print it: print
        `ingest_address` and point at `api_key_file`."""
        return f"http://demo:{self.api_key}@127.0.0.1:{self.ingest_port}"

    @property
    def ingest_address(self) -> str:
        """Base URL of the ingest API without the key, to show people."""
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def api_key_file(self) -> Path:
        """The demo partner's API key (readable by its owner only)."""
        return self.workdir / "ingest-api-key"

    @property
    def ingest_database_url(self) -> str:
        """Ingest's own database: outbox, API keys, idempotency."""
        return f"sqlite:///{self.workdir / 'ingest.db'}"

    def env(self) -> dict[str, str]:
        """FLAGSTREAM_* settings every service is started with."""
        return {
            "FLAGSTREAM_KAFKA_BOOTSTRAP": self.broker.bootstrap,
            "FLAGSTREAM_PARTITIONS": str(self.partitions),
            "FLAGSTREAM_DATABASE_URL": self.database_url,
            "FLAGSTREAM_IDENTITY_DATABASE_URL": f"sqlite:///{self.workdir / 'identity.db'}",
            "FLAGSTREAM_INGEST_DATABASE_URL": self.ingest_database_url,
            "FLAGSTREAM_PSEUDONYM_KEY": self.pseudonym_key,
            "FLAGSTREAM_INGEST_PORT": str(self.ingest_port),
            "FLAGSTREAM_FLAGGER_METRICS_PORT": str(self.flagger_metrics_port),
            "FLAGSTREAM_PROJECTOR_METRICS_PORT": str(self.projector_metrics_port),
            "FLAGSTREAM_VALIDATOR_METRICS_PORT": str(self.validator_metrics_port),
            "FLAGSTREAM_NOTIFIER_METRICS_PORT": str(self.notifier_metrics_port),
            # The notifier writes it, the dashboard reads the inbox from it.
            "FLAGSTREAM_ALERTS_DATABASE_URL": f"sqlite:///{self.workdir / 'alerts.db'}",
            "FLAGSTREAM_FLAGGER_DATA_DIR": str(self.workdir / "flagger"),
            # The demo's one key plays every partner, faster than any: no per-key rate limit.
            "FLAGSTREAM_INGEST_RATE_PER_MINUTE": "0",
            # The broker is a cache of ingest's record: after a new broker, rebuild from it.
            "FLAGSTREAM_ON_RESET": "rebuild",
        }

    def start(self, timeout: float = 60.0, supervise: bool = True) -> Stack:
        """Start the broker, create topics, start the services and wait until they answer;
        then (unless told not to) supervise them in the background. If any of it fails,
        whatever was started is stopped again before the error is raised."""
        try:
            return self._start(timeout, supervise)
        except BaseException:
            self.stop()
            raise

    def _start(self, timeout: float, supervise: bool) -> Stack:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        self.create_topics()
        engine = make_engine(self.ingest_database_url)
        # Every ingest table, before ingest and the validator both start.
        self._outboxes = (Store(engine), Store(engine, raw_outbox))
        self._engine = make_engine(self.database_url)
        self.api_key = self._partner_key(engine)
        for name in ("projector", "flagger", "ingest", "validator"):
            self.start_service(name)
        for name, port in (
            ("ingest", self.ingest_port),
            ("flagger", self.flagger_metrics_port),
            ("projector", self.projector_metrics_port),
            ("validator", self.validator_metrics_port),
        ):
            try:
                wait_for_port("127.0.0.1", port, timeout, name)
            except TimeoutError as exc:
                raise RuntimeError(f"{exc}\n{self.services[name].tail()}") from exc
        if supervise:
            self.start_supervisor()
        return self

    def _partner_key(self, engine: Any) -> str:
        """A new key for every kind (the demo plays every partner); `flagstream up` keeps one."""
        key = create_key(engine, "demo", "all")
        write_private(self.api_key_file, key + "\n")
        return key

    def create_topics(self, repair: bool = False) -> list[str]:
        """Every topic, raw partner topics included (what `flagstream topics create` does).
        With repair - only ever on a new embedded broker, a cache with nothing to lose - a
        topic some client auto-created before this ran is deleted and made again right."""
        bootstrap = self.broker.bootstrap
        made = create_topics(
            bootstrap, self.topics, self.partitions, raw_kinds=catch_up.raw_kinds()
        )
        if repair:
            specs = topic_specs(self.topics, self.partitions, catch_up.raw_kinds())
            found = describe(bootstrap, [s.name for s in specs])
            wrong = [s.name for s in specs if found[s.name].partitions != s.partitions]
            if wrong:
                log.warning("topics auto-created wrong on the new broker, made again: %s", wrong)
                admin = kafka_clients.admin(bootstrap_servers=bootstrap)
                try:
                    admin.delete_topics(wrong)
                finally:
                    admin.close()
                made += create_topics(
                    bootstrap, self.topics, self.partitions, raw_kinds=catch_up.raw_kinds()
                )
        return made

    def keep_tick(self, day: date, codec: Codec) -> int:
        """A day-end tick into ingest's durable record (as `flagstream tick` does)."""
        if self._outboxes is None:
            raise RuntimeError("the stack is not started")
        value = day_ended(day, codec)
        return keep_control(self._outboxes[0], self.topics.attendance, self.partitions, value,
                            "day_ended")  # fmt: skip

    def complete(self) -> bool:
        """The read model says it is complete (not rebuilding)."""
        if self._engine is None:
            return False
        with self._engine.connect() as conn:
            status = read_status(conn)
        return status is not None and status.state == "current"

    def start_service(self, name: str) -> ServiceProcess:
        """(Re)start one service process."""
        log = self.workdir / "logs" / f"{name}.log"
        self.services[name] = ServiceProcess([name], self.env(), log).start()
        return self.services[name]

    def start_notifier(
        self, users_file: Path, dashboard_url: str, smtp: dict[str, str] | None = None
    ) -> ServiceProcess:
        """Start the notifier (not among the services start() runs: it needs the users file
        and the dashboard's URL). SMTP: `smtp` (e.g. the demo's mail catcher), else the
        FLAGSTREAM_SMTP_* of this process's environment, which every service inherits."""
        env = {
            **self.env(),
            **(smtp or {}),
            "FLAGSTREAM_NOTIFIER_USERS_FILE": str(users_file),
            "FLAGSTREAM_NOTIFIER_DASHBOARD_URL": dashboard_url,
        }
        log = self.workdir / "logs" / "notifier.log"
        self.services["notifier"] = ServiceProcess(["notifier"], env, log).start()
        try:
            wait_for_port("127.0.0.1", self.notifier_metrics_port, 60, "notifier")
        except TimeoutError as exc:
            raise RuntimeError(f"{exc}\n{self.services['notifier'].tail()}") from exc
        return self.services["notifier"]

    def add_flagger(self, n: int) -> int:
        """Start flagger worker n (2, 3, ...) in the same consumer group: Faust shares the
        partitions among the workers, each with its own data folder. Returns its metrics
        port."""
        port = free_port()
        env = {
            **self.env(),
            "FLAGSTREAM_FLAGGER_METRICS_PORT": str(port),
            "FLAGSTREAM_FLAGGER_DATA_DIR": str(self.workdir / f"flagger-{n}"),
        }
        name = f"flagger-{n}"
        log = self.workdir / "logs" / f"{name}.log"
        self.services[name] = ServiceProcess(["flagger"], env, log).start()
        return port

    def _check_alive(self) -> None:
        if self._supervising is not None:
            self.supervise()
            return
        for name, proc in self.services.items():
            if not proc.alive():
                raise RuntimeError(f"{name} exited; last lines of {proc.log_path}:\n{proc.tail()}")

    def backlog(self, projected: Callable[[], dict[tuple[str, int], int]]) -> tuple[int, int]:
        """(records not yet through the flagger, records the projector has not stored):
        catch_up.backlog."""
        return catch_up.backlog(self, projected)

    def wait_caught_up(
        self,
        projected: Callable[[], dict[tuple[str, int], int]],
        timeout: float = 180.0,
        on_poll: Callable[[int, int], None] | None = None,
    ) -> None:
        """Block until the pipeline has caught up and the read model is complete:
        catch_up.wait_caught_up."""
        catch_up.wait_caught_up(self, projected, timeout, on_poll)

    def stop(self) -> None:
        """Stop the supervisor, the services (SIGTERM, bounded), then the broker."""
        self._halt.set()
        if self._supervising is not None:
            self._supervising.join(5)
        for proc in reversed(list(self.services.values())):
            proc.stop()
        self.broker.stop()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
