"""Composition root of the ingest service."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import uvicorn

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.metrics import outbox_metrics, service_metrics
from flagstream.settings import IngestSettings
from flagstream.topics import Topics, TopicSpec, specs_named

from .avro_bodies import RegistryLookup
from .db import identity_writer, make_engine, restricted_writer
from .http.app import create_app
from .http.receive import Limits
from .intake import Intake
from .kafka.drainer import Drainer
from .kafka.producer import kafka_producer, topic_checker
from .keys import KeyStore
from .pseudonymise import Pseudonymiser
from .routing import Router
from .store import Store
from .transfers import identity_mover

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


def pseudonymiser(settings: IngestSettings) -> Pseudonymiser:
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


def written_topics(topics: Topics, partitions: int) -> list[TopicSpec]:
    """The topics ingest's and the validator's outboxes publish into."""
    written = (
        topics.schools,
        *topics.canonical,
        topics.outcomes,
        topics.dead_letters,
        topics.record_replays,
    )
    return specs_named(topics, partitions, written)


def drainer(settings: IngestSettings, store: Store, name: str, metrics: Any) -> Drainer:
    """The outbox drainer of `store`, with its settings."""
    bootstrap = settings.require_kafka()
    topics = Topics(settings.topic_prefix)
    return Drainer(
        store,
        lambda: kafka_producer(bootstrap, settings.kafka_max_message_bytes),
        topic_checker(bootstrap, written_topics(topics, settings.partitions)),
        topics.record_replays,
        name=name,
        metrics=outbox_metrics(metrics.registry),
        retention_days=settings.record_retention_days,
        lease_s=settings.outbox_lease_s,
    )


def run(settings: IngestSettings) -> None:
    """Serve the ingest API until interrupted; a background thread drains the outbox."""
    kafka_clients.use(settings)
    key = pseudonymiser(settings)
    settings.require_kafka()
    engine = make_engine(settings.ingest_database_url)
    store = Store(engine)
    router = Router(
        Topics(settings.topic_prefix),
        settings.partitions,
        Codec(settings.schemas_dir),
        max_message_bytes=settings.kafka_max_message_bytes,
    )
    intake = Intake(
        store,
        router,
        key,
        Intake.utc_now,
        identities=identity_writer(identity_db := make_engine(settings.identity_database_url)),
        restricted=restricted_writer(identity_db),
        moves=identity_mover(identity_db),
    )
    metrics = service_metrics("ingest")
    drain = drainer(settings, store, "ingest", metrics)
    app = create_app(
        intake,
        KeyStore(engine),
        metrics,
        Limits(
            settings.ingest_max_records,
            settings.ingest_max_body_bytes,
            settings.ingest_rate_per_minute,
        ),
        registry=registry_lookup(settings.schema_registry_url)
        if settings.schema_registry_url
        else None,
        health=drain.health,
    )
    thread, stop = drain.start()
    log.info("ingest listening on http://%s:%d", settings.ingest_host, settings.ingest_port)
    try:
        uvicorn.run(app, host=settings.ingest_host, port=settings.ingest_port, log_level="warning")
    finally:
        stop.set()
        thread.join(timeout=30)
