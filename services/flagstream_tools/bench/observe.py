"""What the benchmark watches while a stage runs: counters, stored offsets, progress."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping

import httpx
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from projector.writer import stored_offsets

POLL_S = 0.2
MAX_POLL_S = 1.0
# Each poll scrapes a service's /metrics or reads the database; on two cores a 0.2 s poll
# cost the flagger ~4.5% of its rate on a Dorset run. Once work is seen, the interval grows
# with the time since (1% of it, up to 1 s), so the timing error stays near 1% of what is
# timed; until then it stays POLL_S, the resolution Rate.at_least assumes.


def counter(port: int, name: str = "flagstream_events_in_total") -> int:
    """Sum of a Prometheus counter over its labels, scraped from a service's /metrics."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return 0
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            total += float(line.rsplit(" ", 1)[1])
    return int(total)


def gauge(port: int, sample: str) -> float | None:
    """One sample (name with its labels, as exposed) from a service's /metrics, or None."""
    try:
        text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return None
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def committed(engine: Engine, ends: Mapping[tuple[str, int], int]) -> int:
    """Records of these partitions (up to their ends) the projector has committed; 0 before
    its schema exists."""
    try:
        with engine.connect() as conn:
            stored = stored_offsets(conn)
    except SQLAlchemyError:
        return 0
    return sum(min(max(stored.get(tp, 0), 0), end) for tp, end in ends.items())


class Line:
    """One status line per stage: redrawn on a terminal, every few seconds otherwise."""

    def __init__(self, label: str) -> None:
        self._label, self._tty = label, sys.stderr.isatty()
        self._started = self._last = time.monotonic()

    def show(self, done: int, total: int, unit: str) -> None:
        """Draw progress with rate and an estimate of the time left."""
        now = time.monotonic()
        if now - self._last < (0.5 if self._tty else 5.0) and done < total:
            return
        self._last = now
        elapsed = now - self._started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = f", ~{(total - done) / rate:,.0f}s left" if rate > 0 and done < total else ""
        pct = 100.0 * done / total if total else 100.0
        text = (
            f"  {self._label}: {done:,}/{total:,} {unit} ({pct:.0f}%, {rate:,.0f}/s, "
            f"{elapsed:,.0f}s{left})"
        )
        sys.stderr.write(f"\r{text}\033[K" if self._tty else text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        """End the line on a terminal."""
        if self._tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def wait(
    label: str,
    total: int,
    unit: str,
    done: Callable[[], int],
    timeout: float,
    check: Callable[[], None] = lambda: None,
) -> tuple[float, float, int]:
    """Poll until done() >= total; returns (first time done() > 0, time it reached total,
    done() at that first sighting), times from time.monotonic()."""
    line = Line(label)
    deadline = time.monotonic() + timeout
    first: float | None = None
    at_first = 0
    try:
        while True:
            check()
            n = done()
            now = time.monotonic()
            if n > 0 and first is None:
                first, at_first = now, n
            line.show(n, total, unit)
            if n >= total:
                return (first if first is not None else now), now, at_first
            if now > deadline:
                raise TimeoutError(
                    f"{label}: {n:,} of {total:,} {unit} after {timeout:g}s; "
                    "see the service logs in the bench workdir"
                )
            since = 0.0 if first is None else now - first
            time.sleep(min(MAX_POLL_S, max(POLL_S, since / 100)))
    finally:
        line.close()
