"""Driving one flagger process on a Stack's broker: start it with chosen settings, kill it,
read its metrics, its changelog and (once it is dead) its RocksDB files."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import httpx
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import MemberToRemove
from rocksdict import AccessType, Options, Rdict

from flagstream import kafka_clients
from flagstream.lag import end_offsets
from flagstream.topics import FLAGGER_APP_ID
from flagstream_tools.broker import wait_for_port
from flagstream_tools.demo.stack import Stack
from flagstream_tools.processes import ServiceProcess

T = TypeVar("T")
OFFSET_KEY = b"__faust\0offset__"  # where Faust's RocksDB store keeps its persisted offset


def start_flagger(stack: Stack, name: str = "flagger", **env: str) -> ServiceProcess:
    """Start the stack's flagger (the last one must be dead) with extra FLAGSTREAM_*
    settings; wait for its /metrics."""
    log = stack.workdir / "logs" / f"{name}.log"
    proc = ServiceProcess(["flagger"], {**stack.env(), **env}, log).start()
    stack.services["flagger"] = proc  # stack.stop() stops it; wait_caught_up checks it
    try:
        wait_for_port("127.0.0.1", stack.flagger_metrics_port, 60.0, name)
    except TimeoutError as exc:
        raise RuntimeError(f"{exc}\n{proc.tail()}") from exc
    return proc


def kill(proc: ServiceProcess, bootstrap: str | None = None) -> None:
    """SIGKILL: nothing flushed, nothing committed on the way out. With `bootstrap`, also
    remove the dead worker from the flagger's consumer group, as Kafka would once its
    session timed out: the embedded broker keeps a dead member in a Stable group for good,
    and a worker joining beside it was sometimes left without part of the partitions
    (about one restart in three here; docs/operations.md#flagstreamflaggerstalled)."""
    assert proc.pid is not None and proc.alive(), proc.tail()
    os.kill(proc.pid, signal.SIGKILL)
    proc.stop()  # reaps it (already dead: nothing is sent)
    if bootstrap is not None:
        evict_group_members(bootstrap)


def evict_group_members(bootstrap: str) -> list[str]:
    """Remove every member of the flagger's group (the caller killed them all)."""
    client = kafka_clients.admin(bootstrap_servers=bootstrap)
    try:
        # Tansu answers authorized operations kafka-python cannot map to its enum.
        client._process_acl_operations = lambda group: group  # type: ignore[attr-defined]
        group = client.describe_groups([FLAGGER_APP_ID])[FLAGGER_APP_ID]
        members = [m["member_id"] for m in group.get("members") or []]
        if members:
            client.remove_group_members(
                FLAGGER_APP_ID, [MemberToRemove(member_id=m) for m in members]
            )
        return members
    finally:
        client.close()


def metric(port: int, sample: str) -> float | None:
    """One sample (name with its labels, as exposed) from a service's /metrics."""
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return None


def wait_until(check: Callable[[], T | None], timeout: float, what: str) -> T:
    """Poll until check() gives something truthy; bounded."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what}: not after {timeout:g}s")
        time.sleep(0.25)


def read_log(bootstrap: str, topic: str) -> tuple[dict[int, int], dict[int, dict[bytes, bytes]]]:
    """A topic's end per partition, and the latest value of each key per partition."""
    ends = {p: end for (_t, p), end in end_offsets(bootstrap, [topic]).items()}
    latest: dict[int, dict[bytes, bytes]] = {p: {} for p in ends}
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    try:
        parts = [TopicPartition(topic, p) for p in ends]
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        deadline = time.monotonic() + 60
        while any(consumer.position(tp) < ends[tp.partition] for tp in parts):
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} to its end")
            for tp, records in consumer.poll(timeout_ms=200).items():
                for r in records:
                    if r.offset < ends[tp.partition] and r.key is not None:
                        latest[tp.partition][r.key] = r.value
    finally:
        consumer.close()
    return ends, latest


def rocksdb_partitions(
    data_dir: Path, table: str
) -> dict[int, tuple[int | None, dict[bytes, bytes]]]:
    """Each partition's persisted offset and records in Faust's RocksDB files for a table
    (the process owning them must be dead, or read-only access sees an older state)."""
    found: dict[int, tuple[int | None, dict[bytes, bytes]]] = {}
    for path in sorted(data_dir.rglob(f"{table}-*.db")):
        partition = int(path.name.removesuffix(".db").rsplit("-", 1)[1])
        db = Rdict(str(path), options=Options(raw_mode=True), access_type=AccessType.read_only())
        try:
            records = {bytes(k): bytes(v) for k, v in db.items()}
        finally:
            db.close()
        offset = records.pop(OFFSET_KEY, None)
        found[partition] = (int(offset) if offset is not None else None, records)
    return found
