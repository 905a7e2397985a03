"""The whole pipeline on one machine: embedded broker + ingest, flagger and projector."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ingest.db import make_engine
from ingest.keys import create_key

from ..broker import EmbeddedBroker, free_port, wait_for_port
from ..lag import behind, end_offsets, group_offsets
from ..topics import Topics, create_topics
from .processes import ServiceProcess

FLAGGER_GROUP = "flagstream-flagger"  # Faust's group id is its app id (flagger.app.APP_ID).


class Stack:
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
        self.services: dict[str, ServiceProcess] = {}
        self.pseudonym_key = secrets.token_hex(32)  # A fresh key per stack: in-memory broker.
        self.api_key = ""  # created with the ingest database in start()

    @property
    def ingest_url(self) -> str:
        """Base URL of the ingest API, with the demo partner's API key as the password
        (HTTP Basic: httpx and curl send it from the URL)."""
        return f"http://demo:{self.api_key}@127.0.0.1:{self.ingest_port}"

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
            "FLAGSTREAM_FLAGGER_DATA_DIR": str(self.workdir / "flagger"),
        }

    def start(self, timeout: float = 60.0) -> Stack:
        """Start the broker, create topics, start the services and wait until they answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        create_topics(self.broker.bootstrap, self.topics, self.partitions)
        # One key that may send every kind: the demo plays every partner.
        self.api_key = create_key(make_engine(self.ingest_database_url), "demo", "all")
        for name in ("projector", "flagger", "ingest"):
            self.start_service(name)
        for name, port in (
            ("ingest", self.ingest_port),
            ("flagger", self.flagger_metrics_port),
            ("projector", self.projector_metrics_port),
        ):
            try:
                wait_for_port("127.0.0.1", port, timeout, name)
            except TimeoutError as exc:
                raise RuntimeError(f"{exc}\n{self.services[name].tail()}") from exc
        return self

    def start_service(self, name: str) -> ServiceProcess:
        """(Re)start one service process."""
        log = self.workdir / "logs" / f"{name}.log"
        self.services[name] = ServiceProcess([name], self.env(), log).start()
        return self.services[name]

    def _check_alive(self) -> None:
        for name, proc in self.services.items():
            if not proc.alive():
                raise RuntimeError(f"{name} exited; last lines of {proc.log_path}:\n{proc.tail()}")

    def backlog(self, projected: Callable[[], dict[tuple[str, int], int]]) -> tuple[int, int]:
        """(records the flagger has not committed, records the projector has not stored)."""
        bootstrap = self.broker.bootstrap
        ends = end_offsets(bootstrap, self.topics.canonical)
        flagger = behind(ends, group_offsets(bootstrap, FLAGGER_GROUP, ends))
        out_topics = [self.topics.schools, self.topics.flag_changes, self.topics.child_flags]
        projector = behind(end_offsets(bootstrap, out_topics), projected())
        return flagger, projector

    def wait_caught_up(
        self,
        projected: Callable[[], dict[tuple[str, int], int]],
        timeout: float = 180.0,
        on_poll: Callable[[int, int], None] | None = None,
    ) -> None:
        """Block until flagger and projector have consumed everything, twice in a row."""
        deadline = time.monotonic() + timeout
        clean = 0
        while clean < 2:
            self._check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"pipeline not caught up in {timeout:g}s; see logs in {self.workdir / 'logs'}"
                )
            flagger, projector = self.backlog(projected)
            if on_poll:
                on_poll(flagger, projector)
            clean = clean + 1 if flagger == 0 and projector == 0 else 0
            time.sleep(1.0)

    def stop(self) -> None:
        """Stop services (SIGTERM, bounded), then the broker."""
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
