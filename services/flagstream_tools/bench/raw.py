"""The broker's own limit for our messages: aiokafka produce and consume rates."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import TopicPartition  # type: ignore[import-untyped]  # Faust's Kafka client
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError

from flagstream import kafka_clients
from flagstream_tools.bench.workload import Message

PARTITIONS = 6


@dataclass(frozen=True, slots=True)
class RawRate:
    """Messages per second one aiokafka producer and one consumer reached."""

    messages: int
    produce_per_s: float
    consume_per_s: float
    mean_bytes: float


def create_topic(bootstrap: str, name: str, partitions: int = PARTITIONS) -> None:
    """Create a scratch topic (kept until the broker stops)."""
    admin = kafka_clients.admin(bootstrap_servers=bootstrap, client_id="flagstream-bench")
    try:
        with contextlib.suppress(TopicAlreadyExistsError):
            admin.create_topics([NewTopic(name, partitions, 1)])
    finally:
        admin.close()


async def _produce(bootstrap: str, topic: str, values: Sequence[Message], n: int) -> float:
    producer = kafka_clients.aio_producer(
        bootstrap_servers=bootstrap,
        acks="all",  # as ingest publishes; idempotence is refused by the embedded broker
        linger_ms=5,
        max_request_size=8 * 1024 * 1024,
        max_batch_size=1024 * 1024,
    )
    await producer.start()
    try:
        started = time.perf_counter()
        futures = []
        for i, m in zip(range(n), itertools.cycle(values), strict=False):
            futures.append(await producer.send(topic, m.value, key=m.key, partition=i % PARTITIONS))
        await asyncio.gather(*futures)
        return time.perf_counter() - started
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, n: int, timeout: float) -> float:
    consumer = kafka_clients.aio_consumer(
        bootstrap_servers=bootstrap,
        enable_auto_commit=False,
        max_partition_fetch_bytes=8 * 1024 * 1024,
        fetch_max_bytes=64 * 1024 * 1024,
    )
    tps = [TopicPartition(topic, p) for p in range(PARTITIONS)]
    consumer.assign(tps)
    await consumer.start()
    try:
        await consumer.seek_to_beginning(*tps)
        started = time.perf_counter()
        seen = 0
        while seen < n:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"consumed {seen:,} of {n:,} raw messages in {timeout:g}s")
            batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
            seen += sum(len(records) for records in batches.values())
        return time.perf_counter() - started
    finally:
        await consumer.stop()


def measure(
    bootstrap: str, topic: str, values: Sequence[Message], n: int, timeout: float
) -> RawRate:
    """Produce n messages (cycling through values) to a fresh topic, then consume them all."""
    create_topic(bootstrap, topic)
    produce_s = asyncio.run(_produce(bootstrap, topic, values, n))
    consume_s = asyncio.run(_consume(bootstrap, topic, n, timeout))
    mean = sum(len(m.value) for m in values) / max(len(values), 1)
    return RawRate(n, n / produce_s, n / consume_s, mean)
