"""Partner events grouped into one message per partition.

Kafka's and Faust's costs are per message (about half a millisecond each in the flagger),
so a request of many records - a census load, a day's assessments - is published as one
ChildEventsRecorded per partition rather than one message per record. A partition's events
keep their order; a lone event is published as itself. A partition's group too big for one
message (the broker's message.max.bytes) is cut into several, each at most max_bytes.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from .codec import Codec
from .domain.events import ChildEventsRecorded
from .topics import partition_for

# ~120 bytes an event: ~120 KB a message, well under Kafka's default 1 MB limit.
MAX_EVENTS_PER_MESSAGE: Final = 1_000
MAX_MESSAGE_BYTES: Final = 1_000_000  # Kafka's default message.max.bytes, less its overhead
# A cut by count is aimed this far under the limit: a smaller message carries more overhead
# per event (a mark batch repeats its contexts), so the whole's bytes per event underestimate.
_AIM: Final = 0.9

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Batch:
    """One message for a partition: keyed by its first child, so the default partitioner
    agrees with the explicit partition."""

    partition: int
    key: bytes
    value: bytes
    events: int


def split(
    items: Sequence[T], encode: Callable[[Sequence[T]], bytes], max_bytes: int
) -> list[tuple[Sequence[T], bytes]]:
    """Items (at least one) -> (run, encoded run) in order, each value at most max_bytes.

    The whole is encoded once; only if it is too big is it cut by count, from its bytes per
    item, and a run still too big halved. An item too big on its own is still one message.
    """
    value = encode(items)
    if len(value) <= max_bytes or len(items) == 1:
        return [(items, value)]
    n = max(1, int(max_bytes * _AIM * len(items) / len(value)))
    todo = [items[i : i + n] for i in range(0, len(items), n)][::-1]  # a stack, first on top
    out: list[tuple[Sequence[T], bytes]] = []
    while todo:
        run = todo.pop()
        value = encode(run)
        if len(value) <= max_bytes or len(run) == 1:
            out.append((run, value))
        else:
            half = len(run) // 2
            todo += [run[half:], run[:half]]
    return out


def by_partition(
    codec: Codec, events: Sequence[Any], partitions: int, max_bytes: int = MAX_MESSAGE_BYTES
) -> list[Batch]:
    """Events keyed by child_key -> one message per partition (or more: at most
    MAX_EVENTS_PER_MESSAGE events and max_bytes each)."""
    groups: dict[int, list[Any]] = defaultdict(list)
    for e in events:
        groups[partition_for(e.child_key, partitions)].append(e)

    def envelope(run: Sequence[tuple[Any, bytes]]) -> bytes:
        # Each event is encoded once; a cut re-encodes only the envelope around their bytes.
        if len(run) == 1:
            return run[0][1]
        return codec.encode(
            ChildEventsRecorded(batch_id=uuid.uuid4(), events=[value for _, value in run])
        )

    out: list[Batch] = []
    for p, group in sorted(groups.items()):
        for i in range(0, len(group), MAX_EVENTS_PER_MESSAGE):
            chunk = [(e, codec.encode(e)) for e in group[i : i + MAX_EVENTS_PER_MESSAGE]]
            for run, value in split(chunk, envelope, max_bytes):
                out.append(Batch(p, run[0][0].child_key.encode(), value, len(run)))
    return out
