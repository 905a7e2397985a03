"""Every Kafka client Flagstream builds, built here with this process's security settings.

A process is one Kafka principal (as a JVM client's JAAS login is): each service runs with
its own FLAGSTREAM_KAFKA_* user, password and TLS files. Its composition root installs them
with `use(settings)`; until then the environment's are read, once. A factory given
`security=` uses that instead (the embedded stack's own broker, tests).
tests/unit/test_kafka_clients.py fails if any other module under services/ calls a Kafka
client constructor, so no client can be built without these settings.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from . import logs
from .kafka_security import KafkaSecurity

if TYPE_CHECKING:
    import faust

    from .settings import KafkaSettings

log = logging.getLogger("flagstream.kafka")
# Every process that builds a client, tests and tools included, gets kafka-python's close-time
# races lowered from ERROR (flagstream/logs.py), whoever configured its logging.
logs.install_kafka_filter()
_installed: list[KafkaSecurity] = []  # at most one: this process's identity


def use(settings: KafkaSettings | KafkaSecurity) -> KafkaSecurity:
    """Make these the security settings of every client this process builds from now on."""
    security = (
        settings if isinstance(settings, KafkaSecurity) else KafkaSecurity.from_settings(settings)
    )
    _installed[:] = [security]
    log.info("Kafka clients connect with %s", security.describe())
    return security


def current() -> KafkaSecurity:
    """This process's security settings: installed by use(), or read from the environment."""
    if not _installed:
        from .settings import KafkaSettings

        _installed.append(KafkaSecurity.from_settings(KafkaSettings()))
    return _installed[0]


def _of(security: KafkaSecurity | None) -> KafkaSecurity:
    return current() if security is None else security


def producer(*, security: KafkaSecurity | None = None, **config: Any) -> KafkaProducer:
    """kafka-python's KafkaProducer with this process's security settings."""
    return KafkaProducer(**config, **_of(security).kafka_python())


def consumer(*topics: str, security: KafkaSecurity | None = None, **config: Any) -> KafkaConsumer:
    """kafka-python's KafkaConsumer with this process's security settings."""
    return KafkaConsumer(*topics, **config, **_of(security).kafka_python())


def admin(*, security: KafkaSecurity | None = None, **config: Any) -> KafkaAdminClient:
    """kafka-python's KafkaAdminClient with this process's security settings."""
    return KafkaAdminClient(**config, **_of(security).kafka_python())


def aio_producer(*, security: KafkaSecurity | None = None, **config: Any) -> Any:
    """aiokafka's AIOKafkaProducer (Faust's client) with this process's security settings."""
    from aiokafka import AIOKafkaProducer  # type: ignore[import-untyped]

    return AIOKafkaProducer(**config, **_of(security).aiokafka())


def aio_consumer(*topics: str, security: KafkaSecurity | None = None, **config: Any) -> Any:
    """aiokafka's AIOKafkaConsumer with this process's security settings."""
    from aiokafka import AIOKafkaConsumer

    return AIOKafkaConsumer(*topics, **config, **_of(security).aiokafka())


def faust_app(
    app_id: str, bootstrap: str, *, security: KafkaSecurity | None = None, **config: Any
) -> faust.App:
    """A faust.App on these bootstrap servers whose every aiokafka client (consumer,
    producer, admin) connects with this process's security settings."""
    import faust

    brokers = [f"kafka://{server.strip()}" for server in bootstrap.split(",")]
    return faust.App(app_id, broker=brokers, **config, **_of(security).faust())
