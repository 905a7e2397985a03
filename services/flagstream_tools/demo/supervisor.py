"""The embedded stack's supervisor: a crashed service is started again with back-off (1 s
doubling to 30 s, forgiven after a minute up), a lost broker is replaced by a new, empty one
on its port with the topics made again (the services then rebuild from ingest's durable
record). Mixed into Stack (stack.py), whose broker, services and topics it watches."""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flagstream_tools.broker import EmbeddedBroker
    from flagstream_tools.processes import ServiceProcess

log = logging.getLogger("flagstream.stack")
MAX_BACKOFF_S = 30.0


class Supervision:
    """Restarts what has died, in a background thread until the stack stops."""

    broker: EmbeddedBroker
    services: dict[str, ServiceProcess]
    restarts: dict[str, int]  # service (or "broker") -> restarts so far
    _backoff: dict[str, tuple[float, float]]  # name -> (next try, wait)
    _supervising: threading.Thread | None
    _halt: threading.Event
    _lock: threading.RLock

    def create_topics(self, repair: bool = False) -> list[str]:
        raise NotImplementedError

    def supervise(self) -> None:
        """Restart what has crashed: the broker (a new, empty one on the same port, with the
        topics), then each crashed service, each with back-off (1 s doubling to 30 s). What
        stopped on purpose - exit 0, SIGINT or SIGTERM, as Ctrl-C sends to every process of
        the terminal's group - is left stopped: the stack is being shut down."""
        with self._lock:
            code = self.broker.returncode
            if code is not None and not _stopped_on_purpose(code) and self._due("broker"):
                log.warning("the broker has stopped: starting a new, empty one on its port")
                try:
                    self.broker.start()
                    self.create_topics(repair=True)
                    self._restarted("broker")
                except Exception as exc:  # e.g. the port not yet free
                    log.warning("the broker did not start again: %s", exc)
            for name, proc in list(self.services.items()):
                code = proc.returncode
                if code is not None and not _stopped_on_purpose(code) and self._due(name):
                    log.warning(
                        "%s exited with %s; restarting it (see %s)", name, code, proc.log_path
                    )
                    proc.start()
                    self._restarted(name)

    def _due(self, name: str) -> bool:
        at, _wait = self._backoff.get(name, (0.0, 0.5))
        return time.monotonic() >= at

    def _restarted(self, name: str) -> None:
        self.restarts[name] = self.restarts.get(name, 0) + 1
        _at, wait = self._backoff.get(name, (0.0, 0.5))
        wait = min(wait * 2, MAX_BACKOFF_S)
        self._backoff[name] = (time.monotonic() + wait, wait)

    def start_supervisor(self, every_s: float = 0.5) -> None:
        """Supervise in a background thread until stop()."""

        def loop() -> None:
            while not self._halt.wait(every_s):
                try:
                    self.supervise()
                except Exception:  # never let the supervisor die
                    log.exception("supervisor pass failed")
                for name, (at, _wait) in list(self._backoff.items()):
                    alive = (
                        self.broker.alive()
                        if name == "broker"
                        else (name in self.services and self.services[name].alive())
                    )
                    if alive and time.monotonic() - at > 60:  # up a minute: forgive
                        self._backoff.pop(name, None)

        self._supervising = threading.Thread(target=loop, name="supervisor", daemon=True)
        self._supervising.start()


def _stopped_on_purpose(code: int) -> bool:
    """Exit 0, or ended by SIGINT or SIGTERM: asked to stop, not crashed."""
    return code in (0, -signal.SIGINT, -signal.SIGTERM)
