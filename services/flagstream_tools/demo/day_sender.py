"""The demo's timeline a school day at a time, sent through ingest as partners would."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date

import httpx

from flagstream.codec import Codec
from flagstream_tools.demo.sender import send_child_events, send_registers
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import DayEnded, Item, Register

Day = tuple[date | None, list[Register], list[Item]]


def by_day(items: list[Item]) -> Iterator[Day]:
    """The timeline cut at each DayEnded: (day, registers, other partner records)."""
    regs: list[Register] = []
    others: list[Item] = []
    for item in items:
        if isinstance(item, DayEnded):
            yield item.day, regs, others
            regs, others = [], []
        elif isinstance(item, Register):
            regs.append(item)
        else:
            others.append(item)
    if regs or others:
        yield None, regs, others


@dataclass(slots=True)
class DaySender:
    """Sends a school day through ingest as partners would, then its day-end tick, and waits
    until the pipeline has caught up - as a live day would - so each day's flags and trend
    rows are as of that day."""

    stack: Stack
    client: httpx.Client
    caught_up: Callable[[], None]
    codec: Codec = field(default_factory=Codec)
    marks: int = 0
    records: int = 0
    rejected: int = 0

    def day(self, day: date | None, regs: list[Register], others: list[Item]) -> str:
        marks = send_registers(self.client, regs) if regs else (0, 0)
        records = send_child_events(self.client, others) if others else (0, 0)
        self.marks, self.records = self.marks + marks[0], self.records + records[0]
        self.rejected += marks[1] + records[1]
        if day is not None:
            stack = self.stack
            stack.keep_tick(day, self.codec)
        self.caught_up()
        return (
            f"{day or 'baseline'}  {marks[0]:,} marks, {records[0]:,} partner records"
            f"{', day-end tick' if day else ''}"
        )
