"""A tiny Confluent-schema-registry peer for tests: a real HTTP server answering
`GET /schemas/ids/{id}` as Confluent's API does (200 {"schema": "..."}, or 404 with error
code 40403). Not a mock of our code: ingest talks to it over HTTP with its real client."""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

_PATH = re.compile(r"/schemas/ids/([0-9]+)")
MEDIA = "application/vnd.schemaregistry.v1+json"


class SchemaRegistry:
    """Serves the given schemas by id on a free loopback port while in a `with` block."""

    def __init__(self, schemas: dict[int, str]) -> None:
        self.schemas = schemas
        self.requests: list[str] = []
        registry = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                registry.requests.append(self.path)
                match = _PATH.fullmatch(self.path)
                text = registry.schemas.get(int(match.group(1))) if match else None
                if text is None:
                    self._answer(404, {"error_code": 40403, "message": "Schema not found"})
                else:
                    self._answer(200, {"schema": text})

            def _answer(self, status: int, body: dict[str, object]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", MEDIA)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """Base URL, as FLAGSTREAM_SCHEMA_REGISTRY_URL would be set."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> SchemaRegistry:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(5)
