"""The whole pipeline on one machine: embedded broker + ingest, flagger and projector."""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from ingest.db import make_engine
from ingest.keys import create_key
from ingest.kinds import KINDS
from ingest.store import Store, raw_outbox
from ingest.validator import stored_offsets as validated_offsets
from projector.consumer import source_topics

from ..broker import EmbeddedBroker, free_port, wait_for_port
from ..lag import behind, end_offsets, group_offsets
from ..topics import Topics, create_topics
from .processes import ServiceProcess

KIND_NAMES = tuple(k.name for k in KINDS)
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
        self.validator_metrics_port = free_port()
        self.services: dict[str, ServiceProcess] = {}
        self.pseudonym_key = secrets.token_hex(32)  # A fresh key per stack: in-memory broker.
        self.api_key = ""  # created with the ingest database in start()
        self._outboxes: tuple[Store, Store] | None = None  # ingest's and the validator's

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
            "FLAGSTREAM_FLAGGER_DATA_DIR": str(self.workdir / "flagger"),
        }

    def start(self, timeout: float = 60.0) -> Stack:
        """Start the broker, create topics, start the services and wait until they answer."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.broker.start()
        create_topics(self.broker.bootstrap, self.topics, self.partitions)
        engine = make_engine(self.ingest_database_url)
        # Every ingest table, before ingest and the validator both start.
        self._outboxes = (Store(engine), Store(engine, raw_outbox))
        # One key that may send every kind: the demo plays every partner.
        self.api_key = create_key(engine, "demo", "all")
        self.api_key_file.touch(mode=0o600)
        self.api_key_file.chmod(0o600)
        self.api_key_file.write_text(self.api_key + "\n")
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
        return self

    def start_service(self, name: str) -> ServiceProcess:
        """(Re)start one service process."""
        log = self.workdir / "logs" / f"{name}.log"
        self.services[name] = ServiceProcess([name], self.env(), log).start()
        return self.services[name]

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
        for name, proc in self.services.items():
            if not proc.alive():
                raise RuntimeError(f"{name} exited; last lines of {proc.log_path}:\n{proc.tail()}")

    def backlog(self, projected: Callable[[], dict[tuple[str, int], int]]) -> tuple[int, int]:
        """(records not yet through the flagger, records the projector has not stored).
        The first counts what is still upstream of it too - messages waiting in ingest's and
        the validator's outboxes, and raw records the validator has not read - so a pause
        in publishing does not look like being caught up."""
        bootstrap = self.broker.bootstrap
        ends = end_offsets(bootstrap, self.topics.canonical)
        flagger = behind(ends, group_offsets(bootstrap, FLAGGER_GROUP, ends))
        if self._outboxes is None:
            raise RuntimeError("the stack is not started")
        http, kafka = self._outboxes
        queued = http.pending() + kafka.pending()
        with kafka.engine.connect() as conn:
            validated = validated_offsets(conn)
        raw = [self.topics.raw(kind) for kind in KIND_NAMES]
        unvalidated = behind(end_offsets(bootstrap, raw), validated)
        projector = behind(end_offsets(bootstrap, source_topics(self.topics)), projected())
        return flagger + queued + unvalidated, projector

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
