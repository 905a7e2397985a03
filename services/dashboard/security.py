"""Login rate limiting, CSRF tokens and CSV formula-injection neutralising."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable, MutableMapping
from typing import Any

# CSV formula-injection neutralising is the kernel's, shared with every CSV export.
from flagstream.csv_cells import neutralise as neutralise


class LoginLimiter:
    """At most `max_failures` failed logins per user name and per client in `window_s`.

    Memory is bounded: a key is forgotten once its newest failure is older than the window,
    and at most `max_keys` keys are kept (the one whose latest failure is oldest goes first),
    so a flood of made-up user names cannot grow the process.
    """

    def __init__(
        self,
        max_failures: int = 5,
        window_s: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_keys = max_keys
        self._clock = clock
        # Ordered by each key's latest failure, oldest first, so expiry pops from the front.
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._failures)

    def _expire(self, now: float) -> None:
        while self._failures:
            key, q = next(iter(self._failures.items()))
            if q[-1] > now - self.window_s:
                return
            del self._failures[key]

    def retry_after(self, *keys: str) -> int:
        """Seconds until another attempt is allowed (0 = allowed now)."""
        now = self._clock()
        with self._lock:
            self._expire(now)
            wait = 0.0
            for key in keys:
                q = self._failures.get(key)
                if q is None:
                    continue
                recent = [t for t in q if t > now - self.window_s]
                if len(recent) >= self.max_failures:
                    wait = max(wait, recent[-self.max_failures] + self.window_s - now)
            return int(wait) + 1 if wait > 0 else 0

    def failed(self, *keys: str) -> None:
        now = self._clock()
        with self._lock:
            self._expire(now)
            for key in keys:
                q = self._failures.pop(key, None) or deque(maxlen=self.max_failures)
                q.append(now)
                self._failures[key] = q  # now the newest
                while len(self._failures) > self.max_keys:
                    self._failures.popitem(last=False)

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


def csrf_ok(session: MutableMapping[str, Any], submitted: str | None) -> bool:
    """True when the form carried the session's token (constant-time compare)."""
    expected = session.get("csrf")
    return (
        isinstance(expected, str)
        and isinstance(submitted, str)
        and hmac.compare_digest(expected.encode(), submitted.encode())
    )
