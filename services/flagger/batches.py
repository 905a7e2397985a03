"""Records written as aiokafka produce batches, one run per topic partition, then waited for.

Faust's own send costs ~70 us a record (a FutureMessage, its buffer and callbacks); on a
Dorset-size rebuild that was most of the flagger's time. A produce batch costs a few us a
record. Records keep their order within a partition.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Record = tuple[bytes | None, bytes]  # key, value


@dataclass(frozen=True, slots=True)
class Written:
    """One produce batch the broker acknowledged: where it went, the offset the broker gave
    its first record, and its records in order (the rest follow on consecutively)."""

    topic: str
    partition: int
    base_offset: int
    records: list[Record]

    @property
    def last_offset(self) -> int:
        """The offset of the batch's last record."""
        return self.base_offset + len(self.records) - 1


class BatchProducer:
    """Queues records per topic partition; send() writes them and waits for the broker."""

    def __init__(self, producer: Callable[[], Any]) -> None:
        """producer: returns the started aiokafka producer (Faust starts it after build)."""
        self._producer = producer
        self._queued: dict[tuple[str, int], list[Record]] = {}

    def queue(self, topic: str, partition: int, key: bytes | None, value: bytes) -> None:
        """Hold a record for the next send()."""
        self._queued.setdefault((topic, partition), []).append((key, value))

    def __len__(self) -> int:
        return sum(len(records) for records in self._queued.values())

    async def send(self) -> int:
        """Write every queued record; return once the broker has acknowledged them all."""
        return sum(len(records) for (_topic, _partition, records), _ in await self._send())

    async def send_located(self) -> list[Written]:
        """As send(), returning each batch with the offsets the broker gave it."""
        return [
            Written(topic, partition, int(metadata.offset), records)
            for (topic, partition, records), metadata in await self._send()
        ]

    async def _send(self) -> list[tuple[tuple[str, int, list[Record]], Any]]:
        """Each batch sent, with what its delivery resolved to (aiokafka's RecordMetadata:
        for a batch, `offset` is its first record's)."""
        queued, self._queued = self._queued, {}
        if not queued:
            return []
        producer = self._producer()
        batches: list[tuple[str, int, list[Record]]] = []
        delivered: list[asyncio.Future[Any]] = []
        for (topic, partition), records in sorted(queued.items()):
            batch, held = producer.create_batch(), list[Record]()
            for key, value in records:
                if batch.append(key=key, value=value, timestamp=None) is None:
                    delivered.append(await producer.send_batch(batch, topic, partition=partition))
                    batches.append((topic, partition, held))
                    batch, held = producer.create_batch(), list[Record]()
                    if batch.append(key=key, value=value, timestamp=None) is None:
                        raise ValueError(f"a {len(value)}-byte record exceeds the batch size")
                held.append((key, value))
            delivered.append(await producer.send_batch(batch, topic, partition=partition))
            batches.append((topic, partition, held))
        return list(zip(batches, await asyncio.gather(*delivered), strict=True))
