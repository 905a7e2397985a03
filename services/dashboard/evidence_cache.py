"""Evidence figures kept for a while: they are term-level aggregates that take a second or
more to compute over a county, and 400 staff opening their school's or zone's screen should
not each recompute them. An entry is reused while the read model has not changed since it
was computed, or for `max_age_s` even if it has (a register arriving every second changes
the read model but hardly a term's re-referral rate); the page says when its figures were
computed. Keyed by the viewer's role and scope as well as the area, so row-level security
(which decides what the figures are computed from) is never crossed by a shared entry."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Entry:
    """Figures, the read-model version they were computed at, and when."""

    figures: dict[str, Any]
    seq: int
    computed_at: datetime
    monotonic: float


class EvidenceCache:
    """A small, thread-safe, least-recently-used map of computed figures."""

    def __init__(self, max_age_s: float = 300.0, size: int = 256) -> None:
        self.max_age_s, self._size = max_age_s, size
        self._entries: OrderedDict[Hashable, Entry] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def get(
        self,
        key: Hashable,
        seq: int,
        compute: Callable[[], dict[str, Any]],
        now: Callable[[], datetime],
    ) -> Entry:
        """The entry for `key` if still good at read-model version `seq`, else computed now."""
        with self._lock:
            found = self._entries.get(key)
            if found is not None and (
                found.seq == seq or time.monotonic() - found.monotonic < self.max_age_s
            ):
                self._entries.move_to_end(key)
                self.hits += 1
                return found
            self.misses += 1
        entry = Entry(compute(), seq, now(), time.monotonic())  # outside the lock: slow
        with self._lock:
            self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self._size:
                self._entries.popitem(last=False)
        return entry
