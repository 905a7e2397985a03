"""Composition root of the flagger."""

from __future__ import annotations

import gc
import logging

import faust
from kafka.errors import KafkaError

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.metrics import consumer_metrics, serve, service_metrics
from flagstream.settings import FlaggerSettings
from flagstream.topics import on_embedded_broker

from . import guard, kafka_quirks
from .app import create_app

# CPython collects its youngest generation every 700 new containers; the flagger allocates
# a few dozen per child step and keeps its children's state, so young collections kept
# re-scanning survivors: ~6-7% of the handler's time (gc.callbacks, small preset), ~1% at
# 10,000. Memory is unaffected: the flagger's garbage is freed by reference counting.
GC_THRESHOLD = (10_000, 10, 10)
log = logging.getLogger("flagstream.flagger")


def run(settings: FlaggerSettings, loglevel: str = "warn") -> None:
    """Run the Faust worker until interrupted; /metrics on the flagger metrics port."""
    gc.set_threshold(*GC_THRESHOLD)
    kafka_clients.use(settings)
    bootstrap = settings.require_kafka()
    try:
        embedded = on_embedded_broker(bootstrap)
    except KafkaError as exc:
        raise SystemExit(
            f"cannot reach Kafka at {bootstrap} ({exc}): start the broker, or point "
            "FLAGSTREAM_KAFKA_BOOTSTRAP at it, then start the flagger again"
        ) from None
    applied = kafka_quirks.apply(bootstrap.split(","), embedded)
    log.info("Kafka workarounds (%s broker): %s", "embedded" if embedded else "Kafka", applied)
    metrics = service_metrics("flagger")
    health = consumer_metrics(metrics.registry)  # once per process: one registry
    serve(metrics, settings.flagger_metrics_port)
    guard.prepare(settings, health)
    app = create_app(settings, Codec(settings.schemas_dir), metrics, health=health)
    settings.flagger_data_dir.mkdir(parents=True, exist_ok=True)
    worker(app, loglevel).execute_from_commandline()


def worker(app: faust.App, loglevel: str) -> faust.Worker:
    """The Faust worker, without its terminal spinner: the spinner sets the root logger to
    DEBUG, so every debug() call in aiokafka and Faust (several per message sent) builds a
    log record - ~10% of the flagger's time. Without it the root logger keeps `loglevel`."""
    built = faust.Worker(app, loglevel=loglevel, quiet=True)
    built.spinner = None
    return built
