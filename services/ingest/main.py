"""Composition root of the ingest service."""

from __future__ import annotations

import logging

import httpx
import uvicorn

from flagstream.codec import Codec
from flagstream.metrics import service_metrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .app import Limits, create_app
from .bodies import RegistryLookup
from .db import identity_writer, make_engine
from .intake import Intake
from .keys import KeyStore
from .outbox import Drainer, kafka_producer
from .pseudonymise import Pseudonymiser
from .routing import Router
from .store import Store

log = logging.getLogger("flagstream.ingest")


def registry_lookup(url: str) -> RegistryLookup:
    """Schema id -> schema text from a Confluent schema registry. Found schemas are cached
    (an id's schema never changes); an unknown id is asked again next time, as it may be
    registered later."""
    found: dict[int, str] = {}

    def lookup(schema_id: int) -> str | None:
        if schema_id in found:
            return found[schema_id]
        response = httpx.get(f"{url.rstrip('/')}/schemas/ids/{schema_id}", timeout=5.0)
        if response.status_code == 404:
            return None
        response.raise_for_status()
        text = response.json().get("schema")
        if not isinstance(text, str):
            return None
        if len(found) < 1024:
            found[schema_id] = text
        return text

    return lookup


def pseudonymiser(settings: Settings) -> Pseudonymiser:
    """The UPN -> child_key function, or a clear exit when the key is missing or short."""
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
    return Pseudonymiser(key)


def run(settings: Settings) -> None:
    """Serve the ingest API until interrupted; a background thread drains the outbox."""
    key = pseudonymiser(settings)
    bootstrap = settings.require_kafka()
    engine = make_engine(settings.ingest_database_url)
    store = Store(engine)
    router = Router(Topics(settings.topic_prefix), settings.partitions, Codec(settings.schemas_dir))
    intake = Intake(store, router, key, Intake.utc_now)
    app = create_app(
        intake,
        KeyStore(engine),
        service_metrics("ingest"),
        Limits(settings.ingest_max_records, settings.ingest_max_body_bytes),
        identities=identity_writer(make_engine(settings.identity_database_url)),
        registry=registry_lookup(settings.schema_registry_url)
        if settings.schema_registry_url
        else None,
    )
    drainer = Drainer(store, lambda: kafka_producer(bootstrap))
    thread, stop = drainer.start()
    log.info("ingest listening on http://%s:%d", settings.ingest_host, settings.ingest_port)
    try:
        uvicorn.run(app, host=settings.ingest_host, port=settings.ingest_port, log_level="warning")
    finally:
        stop.set()
        thread.join(timeout=30)
