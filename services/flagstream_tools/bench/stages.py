"""The measured stages that run real services: preload, flagger, projector, naive Faust."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from flagstream import kafka_clients
from flagstream.lag import behind, end_offsets, group_offsets
from flagstream.topics import FLAGGER_APP_ID, Topics
from flagstream_tools.bench.observe import POLL_S, committed, counter, wait
from flagstream_tools.bench.raw import create_topic
from flagstream_tools.bench.workload import Message
from flagstream_tools.processes import ServiceProcess
from flagstream_tools.progress_bar import Progress
from projector.consumer import source_topics
from readmodel.db import make_engine


@dataclass(frozen=True, slots=True)
class Rate:
    """A stage's throughput: items between the first and the last sighting, and its duration."""

    items: int
    seconds: float

    def at_least(self, items: int) -> Rate:
        """When everything happened between two polls, a lower bound: all in one poll."""
        return self if self.items > 0 and self.seconds > 0 else Rate(items, POLL_S)

    @property
    def per_s(self) -> float:
        """Items per second (0 if nothing was timed)."""
        return self.items / self.seconds if self.seconds > 0 else 0.0


def produce(bootstrap: str, messages: Sequence[Message], label: str) -> float:
    """Send messages to their partitions with kafka-python (acks=all); returns seconds."""
    producer = kafka_clients.producer(
        bootstrap_servers=bootstrap,
        acks="all",
        linger_ms=20,
        batch_size=1024 * 1024,
        max_request_size=8 * 1024 * 1024,
    )
    progress = Progress(f"  {label}", len(messages), "messages")
    started = time.monotonic()
    try:
        for i, m in enumerate(messages, 1):
            producer.send(m.topic, value=m.value, key=m.key, partition=m.partition)
            if i % 2000 == 0:
                progress.advance(2000)
        producer.flush(timeout=600)
        if len(messages) % 2000:
            progress.advance(len(messages) % 2000)
    finally:
        producer.close()
        progress.close()
    return time.monotonic() - started


def flagger_backlog(bootstrap: str, topics: Topics) -> int:
    """Canonical records the flagger's consumer group has not committed."""
    ends = end_offsets(bootstrap, topics.canonical)
    return behind(ends, group_offsets(bootstrap, FLAGGER_APP_ID, ends))


def output_total(bootstrap: str, topics: Topics) -> int:
    """Records on the flagger's output topics (flag changes, snapshots)."""
    return sum(end_offsets(bootstrap, [topics.flag_changes, topics.child_flags]).values())


def projector_input(bootstrap: str, topics: Topics) -> dict[tuple[str, int], int]:
    """End offsets of every partition the projector reads."""
    return end_offsets(bootstrap, source_topics(topics))


def run_flagger(
    flagger: ServiceProcess, bootstrap: str, topics: Topics, port: int, events: int, timeout: float
) -> Rate:
    """Time the flagger from its first consumed event to its last (its events_in counter),
    then wait until its group has committed everything and its output has settled."""
    first, last, at_first = wait(
        "flagger", events, "events", lambda: counter(port), timeout, flagger.check
    )
    flagger.sample()
    deadline = time.monotonic() + timeout
    settled, previous = 0, -1
    while settled < 2:  # the output stops growing and the group offsets are committed
        flagger.check()
        out = output_total(bootstrap, topics)
        lag = flagger_backlog(bootstrap, topics)
        settled = settled + 1 if lag == 0 and out == previous else 0
        previous = out
        if time.monotonic() > deadline:
            raise TimeoutError(f"flagger still {lag:,} records behind after {timeout:g}s")
        time.sleep(0.5)
    return Rate(events - at_first, last - first).at_least(events)


def run_projector(
    projector: ServiceProcess,
    database_url: str,
    port: int,
    ends: Mapping[tuple[str, int], int],
    timeout: float,
) -> tuple[Rate, int]:
    """Time the projector from its first decoded record to the transaction that stores the
    offset of the last one (offsets are committed with the rows); returns the rate in
    records and the rows it wrote (its events_out counter)."""
    records = sum(ends.values())
    engine = make_engine(database_url)
    try:
        started: list[float] = []

        def done() -> int:
            if not started and counter(port) > 0:
                started.append(time.monotonic())
            return committed(engine, ends)

        _first, last, at_first = wait(
            f"projector ({engine.dialect.name})", records, "records", done, timeout, projector.check
        )
        projector.sample()
        rows = counter(port, "flagstream_events_out_total")
        if started:  # its counter moved before the first commit: time from then
            return Rate(records, max(last - started[0], POLL_S)), rows
        return Rate(records - at_first, last - _first).at_least(records), rows
    finally:
        engine.dispose()


def run_naive(
    bootstrap: str, messages: Sequence[Message], workdir: Path, timeout: float
) -> tuple[Rate, float | None]:
    """The naive per-event Faust agent on one-mark messages; returns its rate and peak RSS."""
    source, sink = "bench.naive-in", "bench.naive-out"
    create_topic(bootstrap, source)
    create_topic(bootstrap, sink)
    preload = [Message(source, i % 6, m.key, m.value, 1, m.kind) for i, m in enumerate(messages)]
    produce(bootstrap, preload, "one mark per message")
    result = workdir / "naive-result.json"
    result.unlink(missing_ok=True)
    env = {
        "BENCH_NAIVE_BOOTSTRAP": bootstrap,
        "BENCH_NAIVE_SOURCE": source,
        "BENCH_NAIVE_SINK": sink,
        "BENCH_NAIVE_EVENTS": str(len(messages)),
        "BENCH_NAIVE_RESULT": str(result),
    }
    log = workdir / "logs" / "naive-faust.log"
    worker = ServiceProcess(
        [], env, log, name="naive-faust", module="flagstream_tools.bench.naive_worker"
    ).start()
    try:
        n = len(messages)

        def done() -> int:
            # The worker writes its result at the last event; its last sends may still be
            # buffered in Faust's producer, so the sink's offsets only show progress.
            if result.exists():
                return n
            return min(sum(end_offsets(bootstrap, [sink]).values()), n - 1)

        wait("naive Faust agent", n, "events", done, timeout, worker.check)
        figures = json.loads(result.read_text())
    finally:
        worker.stop()
        peak = worker.peak_mb
    return Rate(int(figures["n"]) - 1, float(figures["last"]) - float(figures["first"])), peak
