"""The projector's checks that its read model belongs to the log, and the read model's status.

At start (`check_log`): the topics must be as `flagstream topics create` makes them; the
topic ids it read from are kept in `read_model_status`, so topics recreated since (a reset
broker) or a stored offset past a partition's end mean the read model belongs to another
log. With FLAGSTREAM_ON_RESET=refuse (the default) the projector stops and says what to run;
with `rebuild` it empties every read-model table and its offsets in one transaction and
builds them again from the start of the log, marked `rebuilding` until complete.

While running (`StatusWatch`, a thread): every few seconds it measures the flagger's lag and
its own (never floored at zero: a committed offset past the log end is a reset log), the
schools whose register is late, and - while rebuilding - whether the keepers of the durable
record have finished replaying it; the rebuild is complete when they have and both lags are
zero. It also notices topics recreated under a running projector. The dashboard shows a
banner from this row while the read model is rebuilding or the check is old.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, select

from flagstream import replays
from flagstream.lag import end_offsets, group_offsets
from flagstream.metrics import ConsumerMetrics
from flagstream.topics import (
    FLAGGER_APP_ID,
    Topics,
    TopicsNotReady,
    check_topics,
    describe,
    specs_named,
)
from readmodel.status import Status, read_status, write_status
from readmodel.tables import freshness, metadata, read_model_status, school_days, schools

from .writer import stored_offsets

log = logging.getLogger("flagstream.projector")
EXIT_REFUSED = 2
CHECK_EVERY_S = 5.0


class LogReset(RuntimeError):
    """The topics were recreated, or an offset is past a partition's end."""


def clear_read_model(conn: Connection) -> None:
    """Every read-model row and stored offset, gone in the caller's transaction."""
    for table in reversed(metadata.sorted_tables):
        if table is not read_model_status:
            conn.execute(delete(table))


def specs(topics: Topics, sources: Sequence[str], partitions: int) -> list[Any]:
    """The topics the projector reads, and the replay markers."""
    return specs_named(topics, partitions, [*sources, topics.record_replays])


def problems(
    kept: Status | None,
    offsets: Mapping[tuple[str, int], int],
    ids: Mapping[str, str],
    ends: Mapping[tuple[str, int], int],
) -> list[str]:
    """What says the stored read model does not belong to this log (empty: it does)."""
    found = []
    if offsets and kept is not None:
        changed = sorted(t for t in ids if kept.log_topics.get(t, ids[t]) != ids[t])
        if changed:
            found.append(f"topics new or recreated since it was built: {', '.join(changed)}")
    past = sorted(f"{t}[{p}]" for (t, p), o in offsets.items() if o > ends.get((t, p), 0))
    if past:
        found.append(f"stored offsets past the log end on {', '.join(past)}")
    return found


def check_log(
    bootstrap: str,
    topics: Topics,
    sources: Sequence[str],
    partitions: int,
    engine: Engine,
    on_reset: str,
    health: ConsumerMetrics | None = None,
) -> dict[str, str]:
    """Refuse, or rebuild, a read model that belongs to another log. Returns the topic ids."""
    try:
        found = check_topics(bootstrap, specs(topics, sources, partitions))
    except TopicsNotReady as exc:
        log.critical("%s", exc)
        _refused(engine, "the topics are missing or wrong; the projector is waiting for them")
        raise SystemExit(EXIT_REFUSED) from None
    ids = {t: found[t].topic_id or "" for t in sources}
    ends = end_offsets(bootstrap, sources)
    with engine.connect() as conn:
        kept, offsets = read_status(conn), stored_offsets(conn)
    wrong = problems(kept, offsets, ids, ends)
    now = datetime.now(UTC)
    if wrong:
        if health is not None:
            health.log_resets.labels("projector").inc()
        what = "; ".join(wrong)
        if on_reset != "rebuild":
            log.critical(
                "the read model does not belong to this log (%s). Nothing was written. If the "
                "log was reset and the durable record republished, start the projector once "
                "with `flagstream projector --rebuild` (or FLAGSTREAM_ON_RESET=rebuild) to "
                "build the read model again from the log; see docs/operations.md",
                what,
            )
            _refused(engine, f"the log was reset ({what}); the read model awaits a rebuild")
            raise SystemExit(EXIT_REFUSED)
        log.warning("rebuilding the read model from the whole log: %s", what)
        with engine.begin() as conn:
            clear_read_model(conn)
            write_status(conn, state="rebuilding", since=now, detail=f"log reset: {what}",
                   log_topics=ids)  # fmt: skip
    elif not offsets:
        with engine.begin() as conn:
            detail = "being built from the log for the first time"
            write_status(conn, state="rebuilding", since=now, detail=detail, log_topics=ids)
    else:
        with engine.begin() as conn:
            write_status(conn, log_topics=ids)
            if kept is None or kept.state == "stale":
                write_status(conn, state="current", since=now, detail="")
    return ids


def _refused(engine: Engine, detail: str) -> None:
    """Mark the read model stale while the projector refuses to run (best effort)."""
    try:
        with engine.begin() as conn:
            kept = read_status(conn)
            if kept is None or kept.state == "current":
                since = datetime.now(UTC)
                topics = kept.log_topics if kept is not None else {}
                write_status(conn, state="stale", since=since, detail=detail, log_topics=topics)
    except Exception:  # the database itself may be what is away
        log.debug("could not mark the read model stale", exc_info=True)


def late_registers(conn: Connection) -> int:
    """Schools whose latest register is older than the latest school day."""
    latest = conn.scalar(select(func.max(school_days.c.day)))
    if latest is None:
        return 0
    fresh = (
        select(freshness.c.urn)
        .where(freshness.c.source == "register", freshness.c.data_as_of >= latest)
        .scalar_subquery()
    )
    return int(conn.scalar(select(func.count()).where(schools.c.urn.not_in(fresh))) or 0)


def lag(ends: Mapping[tuple[str, int], int], done: Mapping[tuple[str, int], int]) -> int:
    """Records not yet consumed, summed - never floored: done past an end counts negative."""
    return sum(end - max(done.get(tp, 0), 0) for tp, end in ends.items())


class StatusWatch:
    """A thread that keeps `read_model_status` and the health gauges current."""

    def __init__(
        self,
        bootstrap: str,
        topics: Topics,
        sources: Sequence[str],
        ids: Mapping[str, str],
        engine: Engine,
        health: ConsumerMetrics | None = None,
        every_s: float = CHECK_EVERY_S,
    ) -> None:
        self._bootstrap, self._topics, self._sources = bootstrap, topics, list(sources)
        self._ids, self._engine, self._health, self._every = dict(ids), engine, health, every_s
        self.reset: str | None = None  # set when the topics changed under the projector
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="status", daemon=True)

    def start(self) -> StatusWatch:
        """Check now and then every few seconds."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """End the thread."""
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # the broker or database away: try again next time
                log.debug("status check failed", exc_info=True)
            self._stop.wait(self._every)

    def check(self) -> Status | None:
        """One check; returns the status written."""
        found = describe(self._bootstrap, self._sources)
        changed = [t for t in self._sources if ((found.get(t) and found[t].topic_id) or "")
                   != self._ids.get(t, "")]  # fmt: skip
        if changed:
            self.reset = f"topics gone or recreated: {', '.join(changed)}"
            return None
        ends = end_offsets(self._bootstrap, self._sources)  # the canonical topics among them
        canonical = {tp: end for tp, end in ends.items() if tp[0] in self._topics.canonical}
        flagger = lag(canonical, group_offsets(self._bootstrap, FLAGGER_APP_ID, canonical))
        with self._engine.connect() as conn:
            kept, offsets, late = read_status(conn), stored_offsets(conn), late_registers(conn)
        own = lag(ends, offsets)
        now = datetime.now(UTC)
        values: dict[str, Any] = dict(
            flagger_lag=flagger, projector_lag=own, late_registers=late, checked_at=now
        )
        if kept is not None and kept.state == "rebuilding":
            markers = replays.read(self._bootstrap, self._topics.record_replays)
            if replays.complete(markers) and flagger == 0 and own == 0:
                values.update(state="current", since=now, detail="")
                log.info("the read model is complete again (rebuilt since %s)", kept.since)
        with self._engine.begin() as conn:
            write_status(conn, **values)
            status = read_status(conn)
        if self._health is not None and status is not None:
            self._health.lag.labels("flagger").set(flagger)
            self._health.lag.labels("projector").set(own)
            self._health.late_registers.set(late)
            self._health.rebuilding.set(1 if status.state == "rebuilding" else 0)
        return status
