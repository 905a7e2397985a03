"""Log ends that are true on the embedded broker too, for Faust's table recovery.

Faust reads a changelog partition on assignment only up to the end offset that
ListOffsets(latest) reports. Tansu 0.6 reports the base offset of the partition's last
record batch there, not the offset after its last record (tests/integration/
test_log_end.py shows it), so a worker taking over a partition stopped short: the children
in the last batch of each changelog partition started again from empty or older state.
A Fetch response's high watermark is right on Tansu and on Kafka, so the end used is
the larger of the two; on Kafka they agree and recovery is unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

import aiokafka  # type: ignore[import-untyped]
from aiokafka import TopicPartition

from flagstream import kafka_clients

FETCH_TIMEOUT_S = 30.0


async def fetched_ends(bootstrap: list[str], listed: Mapping[Any, int]) -> dict[Any, int]:
    """Each partition's end offset raised to the high watermark of a fetch from there."""
    tps = {TopicPartition(tp.topic, tp.partition): tp for tp in listed}
    if not tps:
        return {}
    consumer = kafka_clients.aio_consumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=10
    )
    await consumer.start()
    try:
        consumer.assign(list(tps))
        for tp, original in tps.items():
            consumer.seek(tp, max(listed[original] or 0, 0))
        deadline = time.monotonic() + FETCH_TIMEOUT_S
        while any(consumer.highwater(tp) is None for tp in tps):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no fetch response for {sorted(tps)} in {FETCH_TIMEOUT_S}s")
            await consumer.getmany(timeout_ms=100)
        return {
            original: max(listed[original] or 0, consumer.highwater(tp))
            for tp, original in tps.items()
        }
    finally:
        await consumer.stop()


def read_to_fetched_end(bootstrap: list[str]) -> None:
    """Make aiokafka's `end_offsets` (Faust's recovery highwaters) use `fetched_ends`."""
    listed_ends = aiokafka.AIOKafkaConsumer.end_offsets

    async def end_offsets(self: Any, partitions: Iterable[Any]) -> dict[Any, int]:
        return await fetched_ends(bootstrap, await listed_ends(self, partitions))

    aiokafka.AIOKafkaConsumer.end_offsets = end_offsets  # type: ignore[method-assign]
