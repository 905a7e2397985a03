"""End-to-end freshness: registers through the ingest HTTP API at a paced offered load,
timed from each 202 to the moment the committed read model shows the day for each child.

A register for day D moves each of its children's `as_of` in the `children` table to D
(the flagger evaluates as of the latest event date), and no child's row reaches D before
the first register with its mark for D is sent, so `as_of >= D` marks the committed effect
of that register exactly; the poll interval (POLL_S) bounds the error. Children are
followed by child_key (a pupil who moves school that day appears in two registers: the
first one sent starts the clock). Repeated registers are sent but start no clock.

Each latency is also split at the moment the flagger evaluated the child (the row's
`updated_at`, the snapshot's `recorded_at`, wall clock on this machine): before it is
ingest, its outbox, the broker and the flagger's fetch; after it, the flagger's output
window, the broker, the projector's fetch and transaction, and the bench's poll.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import httpx
from sqlalchemy import Engine, select

from flagstream_tools.bench.observe import Line
from flagstream_tools.demo.sender import register_body
from flagstream_tools.generator import Register
from readmodel.tables import children

POLL_S = 0.05


CHUNK = 5_000  # child keys per query (well under SQLite's bound-parameter limit)


@dataclass(slots=True)
class Freshness:
    """Latency of every child row from the 202 of the register that changed it."""

    samples_ms: list[float] = field(default_factory=list)
    to_flagger_ms: list[float] = field(default_factory=list)  # 202 -> flagger evaluated
    after_flagger_ms: list[float] = field(default_factory=list)  # flagger -> committed row
    marks: int = 0
    offered_per_s: float = 0.0
    missing: int = 0

    def percentile(self, p: float, samples: Sequence[float] | None = None) -> float:
        """Nearest-rank percentile in ms of the samples (default: the whole latency)."""
        samples = self.samples_ms if samples is None else samples
        if not samples:
            return 0.0
        ordered = sorted(samples)
        return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _wall(at: datetime) -> float:
    """Epoch seconds of a stored timestamp (SQLite gives it back without its zone: UTC)."""
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp()


def _send(
    url: str,
    api_key: str,
    regs: Sequence[Register],
    rate: float,
    waiting: dict[tuple[str, date], list[str]],
    sent: dict[date, dict[str, tuple[float, float]]],
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
                now, wall = time.monotonic(), time.time()
                if response.status_code != 202 or response.json()["rejected"]:
                    raise RuntimeError(
                        f"ingest answered {response.status_code}: {response.text[:300]}"
                    )
                marks += len(reg.marks)
                with lock:
                    clocks = sent.setdefault(reg.day, {})
                    for child in waiting.pop((reg.urn, reg.day), ()):
                        clocks.setdefault(child, (now, wall))
            result.marks = marks
            result.offered_per_s = marks / max(time.monotonic() - started, 1e-9)
    except BaseException as exc:  # handed to the main thread
        errors.append(exc)


def measure(
    url: str,
    api_key: str,
    engine: Engine,
    regs: Sequence[Register],
    rate: float,
    timeout: float,
    child_key: Callable[[str], str],
) -> Freshness:
    """Send regs at `rate` marks/s from a thread; poll the read model until every child's
    row shows its day (or timeout after the last send)."""
    waiting: dict[tuple[str, date], list[str]] = {}
    expected: set[tuple[str, date]] = set()
    for reg in regs:
        if (reg.urn, reg.day) in waiting:
            continue  # a repeated register
        keys = {child_key(m.upn) for m in reg.marks if m.date == reg.day}
        waiting[(reg.urn, reg.day)] = sorted(keys)
        expected |= {(k, reg.day) for k in keys}
    total = len(expected)
    sent: dict[date, dict[str, tuple[float, float]]] = {}
    result, lock = Freshness(), threading.Lock()
    errors: list[BaseException] = []
    sender = threading.Thread(
        target=_send,
        args=(url, api_key, regs, rate, waiting, sent, lock, result, errors),
        daemon=True,
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
                pending = {day: dict(clocks) for day, clocks in sent.items() if clocks}
            fresh: list[tuple[date, str, datetime]] = []
            with engine.connect() as conn:
                for day, clocks in pending.items():
                    ids = list(clocks)
                    for i in range(0, len(ids), CHUNK):
                        query = select(children.c.child_key, children.c.updated_at).where(
                            children.c.as_of >= day, children.c.child_key.in_(ids[i : i + CHUNK])
                        )
                        fresh += [(day, k, at) for k, at in conn.execute(query)]
            now, wall = time.monotonic(), time.time()
            with lock:
                for day, key, evaluated in fresh:
                    started = sent[day].pop(key, None)
                    if started is not None:
                        result.samples_ms.append((now - started[0]) * 1000.0)
                        flagger = _wall(evaluated)
                        result.to_flagger_ms.append((flagger - started[1]) * 1000.0)
                        result.after_flagger_ms.append((wall - flagger) * 1000.0)
                        done += 1
            line.show(done, total, "rows fresh")
            time.sleep(POLL_S)
    finally:
        line.close()
    sender.join(timeout=60.0)
    if errors:
        raise errors[0]
    return result
