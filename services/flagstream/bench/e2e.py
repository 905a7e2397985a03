"""End-to-end freshness: registers through the ingest HTTP API at a paced offered load,
timed from each 202 to the moment the committed read model shows the day for each child.

A register for day D moves each of its children's `as_of` in the `children` table to D
(the flagger evaluates as of the latest event date), and no row reaches D before its first
register for D is sent, so `as_of >= D` marks the committed effect of that register exactly;
the poll interval (POLL_S) bounds the error. Repeated registers (the MIS resending one) are
sent but not timed: their effect is already there.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import httpx
from sqlalchemy import Engine, func, select

from projector.tables import children

from ..demo.sender import register_body
from ..generator import Register
from .observe import Line

POLL_S = 0.05


@dataclass(slots=True)
class _Tracked:
    """One (school, day): when its 202 came back, how many children it moves, how many have."""

    expected: int
    sent_at: float | None = None
    seen: int = 0


@dataclass(slots=True)
class Freshness:
    """Latency of every child row from the 202 of the register that changed it."""

    samples_ms: list[float] = field(default_factory=list)
    marks: int = 0
    offered_per_s: float = 0.0
    missing: int = 0

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile in ms (0 with no samples)."""
        if not self.samples_ms:
            return 0.0
        ordered = sorted(self.samples_ms)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _send(
    url: str,
    api_key: str,
    regs: Sequence[Register],
    rate: float,
    tracked: dict[tuple[str, date], _Tracked],
    lock: threading.Lock,
    result: Freshness,
    errors: list[BaseException],
) -> None:
    bodies = [(r, register_body(r)) for r in regs]
    try:
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(base_url=url, timeout=60.0, headers=headers) as client:
            started = time.monotonic()
            marks = 0
            for reg, body in bodies:
                due = started + marks / rate
                if (pause := due - time.monotonic()) > 0:
                    time.sleep(pause)
                response = client.post(f"/v1/schools/{reg.urn}/register", json=body)
                now = time.monotonic()
                if response.status_code != 202 or response.json()["rejected"]:
                    raise RuntimeError(
                        f"ingest answered {response.status_code}: {response.text[:300]}"
                    )
                marks += len(reg.marks)
                with lock:
                    t = tracked.get((reg.urn, reg.day))
                    if t is not None and t.sent_at is None:
                        t.sent_at = now
            result.marks = marks
            result.offered_per_s = marks / max(time.monotonic() - started, 1e-9)
    except BaseException as exc:  # handed to the main thread
        errors.append(exc)


def measure(
    url: str, api_key: str, engine: Engine, regs: Sequence[Register], rate: float, timeout: float
) -> Freshness:
    """Send regs at `rate` marks/s from a thread; poll the read model until every row is fresh."""
    tracked: dict[tuple[str, date], _Tracked] = {}
    for reg in regs:
        if (reg.urn, reg.day) not in tracked:
            fresh = {m.upn for m in reg.marks if m.date == reg.day}
            tracked[(reg.urn, reg.day)] = _Tracked(len(fresh))
    total = sum(t.expected for t in tracked.values())
    result, lock = Freshness(), threading.Lock()
    errors: list[BaseException] = []
    sender = threading.Thread(
        target=_send, args=(url, api_key, regs, rate, tracked, lock, result, errors), daemon=True
    )
    line = Line(f"end to end at {rate:,.0f} marks/s")
    sender.start()
    deadline = time.monotonic() + timeout + sum(len(r.marks) for r in regs) / rate
    done = 0
    try:
        while done < total:
            if errors:
                raise errors[0]
            if time.monotonic() > deadline:
                result.missing = total - done
                break
            with lock:
                pending = {
                    k: t
                    for k, t in tracked.items()
                    if t.sent_at is not None and t.seen < t.expected
                }
            by_day: dict[date, list[str]] = defaultdict(list)
            for urn, day in pending:
                by_day[day].append(urn)
            with engine.connect() as conn:
                counts = {
                    (urn, day): int(n)
                    for day, urns in by_day.items()
                    for urn, n in conn.execute(
                        select(children.c.urn, func.count())
                        .where(children.c.as_of >= day, children.c.urn.in_(urns))
                        .group_by(children.c.urn)
                    )
                }
            now = time.monotonic()
            for key, t in pending.items():
                n = min(counts.get(key, 0), t.expected)
                if n > t.seen:
                    assert t.sent_at is not None
                    result.samples_ms += [(now - t.sent_at) * 1000.0] * (n - t.seen)
                    done += n - t.seen
                    t.seen = n
            line.show(done, total, "rows fresh")
            time.sleep(POLL_S)
    finally:
        line.close()
    sender.join(timeout=60.0)
    if errors:
        raise errors[0]
    return result
