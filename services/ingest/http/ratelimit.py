"""A token bucket per API key, in memory: each key may make `per_minute` requests a minute,
in bursts of up to as many. One process's count; replicas each allow as much."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class RateLimiter:
    """Admits a key's request while its bucket holds a token; 0 per minute: no limit."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._rate, self._clock = per_minute / 60.0, clock
        self._capacity = float(per_minute)
        self._buckets: dict[str, tuple[float, float]] = {}  # key id -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key_id: str) -> float:
        """0.0 when admitted (a token taken); else the seconds until the next token."""
        if self._rate <= 0:
            return 0.0
        now = self._clock()
        with self._lock:
            tokens, at = self._buckets.get(key_id, (self._capacity, now))
            tokens = min(self._capacity, tokens + (now - at) * self._rate)
            if tokens >= 1.0:
                self._buckets[key_id] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key_id] = (tokens, now)
            return (1.0 - tokens) / self._rate

    @staticmethod
    def retry_after(wait_s: float) -> str:
        """The Retry-After header's value: whole seconds, at least 1."""
        return str(max(1, math.ceil(wait_s)))
