"""The flagger's stall watch: it asks for an exit only when input is waiting on its assigned
partitions and there was no progress (no input consumed, no changelog record read back) for
the limit; an idle worker with nothing waiting is not stalled; 0 switches it off."""

from __future__ import annotations

import asyncio

from flagger.stall import StallWatch

PARTS = [("flagstream.attendance", 0), ("flagstream.attendance", 1)]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def watch(lag: int, limit_s: float = 600.0) -> tuple[StallWatch, Clock, list[list[object]]]:
    clock, asked = Clock(), []

    def waiting(partitions: object) -> int:
        asked.append(list(partitions))  # type: ignore[call-overload]
        return lag

    return StallWatch(limit_s, lambda: PARTS, waiting, clock), clock, asked


def stalled(w: StallWatch) -> str | None:
    return asyncio.run(w.stalled())


def test_input_waiting_and_no_progress_past_the_limit_is_a_stall() -> None:
    w, clock, asked = watch(lag=65)
    clock.now += 599
    assert stalled(w) is None and asked == []  # within the limit: the lag is not even read
    clock.now += 2
    reason = stalled(w)
    assert reason is not None and "65 records waiting on 2 assigned partitions" in reason
    assert asked == [PARTS]


def test_progress_or_nothing_waiting_is_not_a_stall() -> None:
    w, clock, _ = watch(lag=65)
    for _ in range(10):  # a long recovery: changelog records keep arriving
        clock.now += 500
        w.progressed()
        assert stalled(w) is None
    clock.now += 601
    assert stalled(w) is not None  # ... until they stop
    idle, clock2, _ = watch(lag=0)
    clock2.now += 3600
    assert stalled(idle) is None  # nothing waiting: idle, not stalled
    clock2.now += 599
    assert stalled(idle) is None  # and the idle time starts again from that check
    off, clock3, _ = watch(lag=65, limit_s=0)
    clock3.now += 36000
    assert stalled(off) is None
