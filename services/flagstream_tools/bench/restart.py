"""The flagger's restart at the end of the term: killed (SIGKILL) once caught up, started
again on the RocksDB store, then on the memory store, each timed until it consumes again."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flagstream import kafka_clients
from flagstream.lag import end_offsets
from flagstream.topics import Topics
from flagstream_tools.bench.observe import counter, gauge, wait
from flagstream_tools.bench.resources import PARTITIONS, ServiceEnv
from flagstream_tools.bench.stages import flagger_backlog
from flagstream_tools.bench.workload import Message, Workload
from flagstream_tools.processes import ServiceProcess

RESTART_POLL_S = 0.1
TICKS_HANDLED = 'flagstream_events_in_total{kind="day_ended"}'


@dataclass(frozen=True, slots=True)
class Restart:
    """A flagger started after its predecessor was SIGKILLed: how long until it consumed again
    and committed, what it says its table recovery took, and how much changelog it read."""

    consuming_s: float  # process start -> the repeated tick handled in every partition
    committed_s: float  # process start -> its group committed that tick everywhere
    recovery_s: float | None  # its own figure: partitions assigned -> table recovered
    changelog_read: int  # changelog records it read back into its table
    changelog_records: int  # records on the changelog when it started


def restart_flagger(
    old: ServiceProcess,
    new: ServiceProcess,
    bootstrap: str,
    topics: Topics,
    port: int,
    tick: Sequence[Message],
    timeout: float,
) -> Restart:
    """SIGKILL `old` (caught up), publish a tick it already handled - the same bytes again, in
    every partition: it changes no child, so the measure is the restart alone - start `new`
    and time it until it has handled the tick everywhere (its table recovered and its agent
    consuming), then until its group has committed it."""
    if flagger_backlog(bootstrap, topics):
        raise RuntimeError("the flagger is not caught up: a restart now would time its backlog")
    old.kill()
    changelog = sum(end_offsets(bootstrap, [topics.flagger_changelog]).values())
    producer = kafka_clients.producer(bootstrap_servers=bootstrap, acks="all")
    try:
        for m in tick:
            producer.send(m.topic, value=m.value, key=m.key, partition=m.partition).get(30)
    finally:
        producer.close()
    started = time.monotonic()
    new.start()
    deadline = started + timeout
    consuming = committed_s = 0.0
    while not committed_s:
        new.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{new.name} not consuming again after {timeout:g}s")
        if not consuming and counter(port, TICKS_HANDLED) >= len(tick):
            consuming = time.monotonic() - started
        if consuming and flagger_backlog(bootstrap, topics) == 0:
            committed_s = time.monotonic() - started
        time.sleep(RESTART_POLL_S)
    new.sample()  # its peak RSS is reported when the bench stops it
    return Restart(
        consuming_s=consuming,
        committed_s=committed_s,
        recovery_s=gauge(port, "flagstream_flagger_recovery_seconds"),
        changelog_read=int(gauge(port, "flagstream_flagger_changelog_read_total") or 0),
        changelog_records=changelog,
    )


def restarts(
    procs: dict[str, ServiceProcess],
    env: ServiceEnv,
    logs: Path,
    bootstrap: str,
    work: Workload,
    timeout: float,
) -> dict[str, Any]:
    """Kill the caught-up flagger and time its successor: on the RocksDB store (its files
    from the run so far, plus the changelog's tail), then on the memory store (the whole
    changelog); each but the last is killed in turn."""
    last_tick = [m for m in work.canonical if m.kind == "day_ended"][-PARTITIONS:]

    def caught_up() -> int:
        return int(flagger_backlog(bootstrap, Topics()) == 0)

    wait("flagger caught up before the restart", 1, "", caught_up, timeout, procs["flagger"].check)
    figures: dict[str, Any] = {}
    old = procs["flagger"]
    for store in ("rocksdb", "memory"):
        name = f"flagger-restart-{store}"
        new = ServiceProcess.flagstream(
            "flagger", env(FLAGSTREAM_FLAGGER_STORE=f"{store}://"), logs, name
        )
        procs[name] = new
        r = restart_flagger(old, new, bootstrap, Topics(), env.ports["flagger"], last_tick, timeout)
        figures |= {
            f"flagger_restart_s_{store}": r.consuming_s,
            f"flagger_restart_committed_s_{store}": r.committed_s,
            f"flagger_recovery_s_{store}": r.recovery_s,
            f"flagger_restart_changelog_read_{store}": r.changelog_read,
            f"flagger_restart_changelog_records_{store}": r.changelog_records,
        }
        print(
            f"  {store}: consuming again {r.consuming_s:,.1f}s after start, committed at "
            f"{r.committed_s:,.1f}s; table recovery {r.recovery_s or 0:,.1f}s reading "
            f"{r.changelog_read:,} of {r.changelog_records:,} changelog records",
            flush=True,
        )
        old = new
    return figures
