"""Composition root of the ingest service."""

from __future__ import annotations

import logging

import uvicorn

from flagstream.codec import Codec
from flagstream.metrics import service_metrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .app import create_app
from .db import identity_writer, make_engine
from .pseudonymise import Pseudonymiser
from .publisher import KafkaPublisher

log = logging.getLogger("flagstream.ingest")


def run(settings: Settings) -> None:
    """Serve the ingest API until interrupted."""
    if settings.pseudonym_key is None:
        raise SystemExit(
            "FLAGSTREAM_PSEUDONYM_KEY is not set: ingest needs a secret key to turn UPNs into "
            "child keys. Generate one with "
            "`python -c 'import secrets; print(secrets.token_hex(32))'` and keep it stable: "
            "a new key gives every child a new key."
        )
    key = settings.pseudonym_key.get_secret_value().encode()
    if len(key) < 32:
        raise SystemExit("FLAGSTREAM_PSEUDONYM_KEY is too short: use at least 32 random bytes.")
    publisher = KafkaPublisher(
        settings.require_kafka(),
        Topics(settings.topic_prefix),
        settings.partitions,
        Codec(settings.schemas_dir),
    )
    app = create_app(
        publisher,
        Pseudonymiser(key),
        service_metrics("ingest"),
        max_records=settings.ingest_max_records,
        identities=identity_writer(make_engine(settings.identity_database_url)),
    )
    log.info("ingest listening on http://%s:%d", settings.ingest_host, settings.ingest_port)
    try:
        uvicorn.run(app, host=settings.ingest_host, port=settings.ingest_port, log_level="warning")
    finally:
        publisher.close()
