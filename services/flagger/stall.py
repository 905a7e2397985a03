"""The flagger noticing it has stalled: input waiting on its own partitions and no progress
for `FLAGSTREAM_FLAGGER_STALL_EXIT_S` - no input message consumed and no changelog record read
back into its table (a long recovery is progress, a recovery that stopped fetching is not).
Then it exits (code EXIT_STALLED) so its supervisor starts it again, which rejoins the group
and fetches afresh; the alert FlagstreamFlaggerStalled says the same to an operator.

Seen on the embedded broker: a worker that joined its group while a SIGKILLed member was
still counted was left assigned but not fetching (docs/operations.md#flagstreamflaggerstalled).
A restart reads from the committed offsets, so exiting loses nothing (the flagger acks only
what it has flushed). The lag is read for the partitions assigned to this worker only, so a
second worker with idle partitions does not exit for the first one's stall."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Collection
from typing import Final

from flagstream.lag import behind, end_offsets, group_offsets

EXIT_STALLED: Final = 4
log = logging.getLogger("flagstream.flagger")
Partitions = Collection[tuple[str, int]]


def committed_lag(bootstrap: str, group: str, partitions: Partitions) -> int:
    """Records on these partitions past the group's committed offsets."""
    if not partitions:
        return 0
    topics = {t for t, _p in partitions}
    ends = {tp: end for tp, end in end_offsets(bootstrap, topics).items() if tp in partitions}
    return behind(ends, group_offsets(bootstrap, group, partitions))


class StallWatch:
    """Tracks when the flagger last made progress."""

    def __init__(
        self,
        limit_s: float,
        assigned: Callable[[], Partitions],
        lag: Callable[[Partitions], int],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit_s, self._assigned, self._lag, self._clock = limit_s, assigned, lag, clock
        self._last = clock()

    def progressed(self) -> None:
        """An input message consumed or a changelog record read back (called per record:
        keep it cheap); also a rebalance's steps, which take their own time."""
        self._last = self._clock()

    async def stalled(self) -> str | None:
        """Why the flagger should exit, or None."""
        if self.limit_s <= 0:
            return None
        idle = self._clock() - self._last
        if idle < self.limit_s:
            return None
        partitions = list(self._assigned())
        waiting = await asyncio.get_running_loop().run_in_executor(None, self._lag, partitions)
        if waiting <= 0:
            self._last = self._clock()  # idle with nothing to do: not a stall
            return None
        return (
            f"{waiting} records waiting on {len(partitions)} assigned partitions and no input "
            f"consumed nor changelog read for {idle:.0f}s"
        )
