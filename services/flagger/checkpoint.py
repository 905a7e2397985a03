"""The flagger's checkpoint: input held until its effects are durable, and the output it
produced. One flush commits in four numbered steps (Checkpoint.flush):

  1. flush output - the flag changes and each child's latest snapshot, sent and waited for;
  2. write state - every child changed since the last checkpoint, encoded once, into the
     table (its changelog records queued);
  3. flush the producer - wait until the broker has the changelog records, then apply
     them to the local store (store.py, FaustTable.send);
  4. ack input - only now may Faust commit the input's offsets.

A crash between any two steps replays the unacked input onto the state as last written;
derived event ids make the replayed output the same, so sinks drop the repeats.

Two windows set the flagger's pace: output goes out every `send_s`, state is flushed (and
input acked) every `flush_s`. Live, they bound the latency a flag adds and the input a
crash replays. While the flagger is catching up (a rebuild, a restart after an outage) its
input is already old, so latency is set by the backlog, not the windows; windows that grow
with the backlog's age then mean each child's snapshot and state are encoded once per
window rather than once per message - on a Dorset-size replay those encodes were over a
quarter of the flagger's time.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Final

from flagstream.codec import Codec
from flagstream.domain.events import FlagChanged
from flagstream.domain.flagging import StepResult
from flagstream.metrics import ServiceMetrics

from .batches import BatchProducer
from .handler import MessageHandler, Output, snapshot_batch


@dataclass(frozen=True, slots=True)
class Windows:
    """How long output and state changes may wait before they are written."""

    send_s: float
    flush_s: float


# Live, children rarely repeat within a flush window, so its length does not change how many
# states are encoded, only how long each flush holds the agent up: at 2,000 marks/s (~1,000
# children a second) and ~47 us a state, ~0.24 s every 5 s, or ~50 ms every second.
LIVE: Final = Windows(send_s=0.2, flush_s=1.0)
CATCHING_UP_AFTER_S: Final = 10.0  # input older than this (its Kafka timestamp) is a backlog
MAX_WINDOW_S: Final = 30.0  # the longest either window grows while catching up
IDLE_S: Final = 1.0  # no input for this long: write everything now, as live
FLUSH_EVERY: Final = 5_000  # input messages held at most (~9 KB each for registers)


def windows_for(age_s: float) -> Windows:
    """Live windows for fresh input; for a backlog, windows that grow with its age: output
    then waits at most a quarter as long again as its input already has."""
    if age_s <= CATCHING_UP_AFTER_S:
        return LIVE
    return Windows(
        send_s=min(MAX_WINDOW_S, age_s / 4),
        flush_s=min(MAX_WINDOW_S, max(LIVE.flush_s, age_s / 2)),
    )


SNAPSHOTS_PER_MESSAGE: Final = 1_000  # ~170 KB: under Kafka's default 1 MB message limit


@dataclass(frozen=True, slots=True)
class OutputTopics:
    """Where the flagger writes."""

    changes: str
    snapshots: str


class Checkpoint:
    """On flush the changed children are written to the table, the output is sent - one
    snapshot batch per partition, each child's latest snapshot only - and only then is the
    input acked, so Faust never commits an offset whose effects could still be lost."""

    def __init__(
        self,
        handle: MessageHandler,
        codec: Codec,
        metrics: ServiceMetrics,
        topics: OutputTopics,
        output: BatchProducer,
        changelog: Callable[[], Awaitable[int]],
    ) -> None:
        self._handle, self._codec, self._metrics = handle, codec, metrics
        self._topics, self._output, self._changelog = topics, output, changelog
        self.events: list[Any] = []
        self._changes: list[tuple[int, FlagChanged]] = []
        self._snapshots: dict[int, dict[str, StepResult]] = {}
        self.flushed_at = self.sent_at = self.added_at = time.monotonic()
        self.input_age_s = 0.0  # of the latest input with a timestamp

    def add(self, event: Any, partition: int, out: Output | None, produced_at: float) -> None:
        """Hold an input event until flush, with what it produced; produced_at is its Kafka
        timestamp in seconds (0 or less if it has none)."""
        self.events.append(event)
        self.added_at = time.monotonic()
        if produced_at > 0:
            self.input_age_s = time.time() - produced_at
        if out is not None:
            self._changes += [(partition, change) for change in out.changes]
            latest = self._snapshots.setdefault(partition, {})
            for draft in out.drafts:
                latest[draft.state.child_key] = draft

    @property
    def windows(self) -> Windows:
        """The windows in force: by the input's age, or live once input has gone quiet."""
        if time.monotonic() - self.added_at >= IDLE_S:
            return LIVE
        return windows_for(self.input_age_s)

    def due(self) -> bool:
        """Whether enough input or time has passed since the last state flush."""
        return len(self.events) >= FLUSH_EVERY or (
            bool(self.events) and time.monotonic() - self.flushed_at >= self.windows.flush_s
        )

    def send_due(self) -> bool:
        """Whether output has waited long enough to be sent."""
        return bool(self._changes or self._snapshots) and (
            time.monotonic() - self.sent_at >= self.windows.send_s
        )

    async def send(self) -> None:
        """Send the output held so far and wait for the broker (before its input is acked)."""
        started = time.perf_counter()
        changes, self._changes = self._changes, []
        snapshots, self._snapshots = self._snapshots, {}
        for partition, change in changes:
            key = change.child_key.encode()
            self._output.queue(self._topics.changes, partition, key, self._codec.encode(change))
        sent = 0
        for partition, latest in sorted(snapshots.items()):
            batch = [s for r in latest.values() if (s := r.snapshot) is not None]  # latest only
            for i in range(0, len(batch), SNAPSHOTS_PER_MESSAGE):
                value = self._codec.encode(snapshot_batch(batch[i : i + SNAPSHOTS_PER_MESSAGE]))
                self._output.queue(self._topics.snapshots, partition, None, value)
            sent += len(batch)
        await self._output.send()
        self.sent_at = time.monotonic()
        self._metrics.events_out.labels("flag_changed").inc(len(changes))
        self._metrics.events_out.labels("child_flags_snapshot").inc(sent)
        self._metrics.latency.labels("send").observe(time.perf_counter() - started)

    async def flush(self) -> None:
        """Commit a checkpoint: the four steps of the module text, in order."""
        events, self.events = self.events, []
        await self.send()  # 1. flush output
        started = time.perf_counter()
        written = self._handle.flush()  # 2. write state
        # 3. flush the producer: an offset committed before its state is on the broker would
        # lose that state if the partition moved to another worker now.
        await self._changelog()
        for event in events:  # 4. ack input
            event.ack()
        self.flushed_at = time.monotonic()
        self._metrics.events_out.labels("state_flushed").inc(written)
        self._metrics.latency.labels("flush").observe(time.perf_counter() - started)
