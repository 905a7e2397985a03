"""What the drainer publishes with: an idempotent Kafka producer (acks=all), the check of the
topics it writes, and which broker errors a retry cannot cure."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from kafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordListTooLargeError,
)
from sqlalchemy.exc import SQLAlchemyError

from flagstream import kafka_clients
from flagstream.topics import TopicsNotReady, TopicSpec, check_topics

log = logging.getLogger("flagstream.ingest.outbox")
# Refusals that a retry cannot cure: the record is parked, the rest goes on.
PERMANENT: dict[type[KafkaError], str] = {
    MessageSizeTooLargeError: "message_too_large",
    RecordListTooLargeError: "message_too_large",
    InvalidTopicError: "invalid_topic",
}


class Producer(Protocol):
    """The part of KafkaProducer the drainer uses."""

    def send(self, topic: str, value: bytes, key: bytes, partition: int) -> Any: ...
    def close(self, timeout: float | None = None) -> None: ...


def kafka_producer(bootstrap: str, max_bytes: int = 1_000_000) -> Producer:
    """An idempotent producer with acks=all that gives up quickly when the broker is away and
    never asks the broker to create a topic."""
    producer: Producer = kafka_clients.producer(
        bootstrap_servers=bootstrap,
        client_id="flagstream-ingest",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_request_size=max(max_bytes + 64 * 1024, 1024 * 1024),
        max_block_ms=5000,
        request_timeout_ms=5000,
        reconnect_backoff_max_ms=1000,
        allow_auto_create_topics=False,
    )
    return producer


def classify(exc: BaseException) -> tuple[str, str]:
    """A stable reason code and a short detail (never a record's content)."""
    if isinstance(exc, TopicsNotReady):
        return "topics_not_ready", str(exc)[:300]
    if isinstance(exc, KafkaError):
        return "broker_unavailable", type(exc).__name__
    if isinstance(exc, SQLAlchemyError):
        return "database", type(exc).__name__  # str() of it would carry bound parameters
    log.exception("unexpected outbox failure")
    return "internal", type(exc).__name__


def topic_checker(bootstrap: str, specs: Sequence[TopicSpec]) -> Callable[[], dict[str, str]]:
    """A function returning {topic: id} of the topics an outbox writes, after checking them."""

    def check() -> dict[str, str]:
        found = check_topics(bootstrap, specs)
        return {name: d.topic_id or "" for name, d in found.items()}

    return check
