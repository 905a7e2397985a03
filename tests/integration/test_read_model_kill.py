"""Exactly-once effect: SIGKILL the projector at random points; the tables equal a clean run's."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from kafka import KafkaProducer
from sqlalchemy import Engine, create_engine, select, text

from flagstream.codec import Codec
from flagstream.domain.events import DayEnded, EnrolmentRecorded, SchoolRecorded
from flagstream.lag import behind, end_offsets
from flagstream.metrics import service_metrics
from flagstream.topics import Topics, create_topics, partition_for
from flagstream_tools.broker import EmbeddedBroker, free_port
from projector.consumer import Projector, source_topics
from projector.writer import stored_offsets
from readmodel.change_tables import CHANGE_TABLES
from readmodel.db import create_schema, make_engine
from readmodel.tables import metadata, read_model_status
from tests.conftest import PG_ADMIN_URL
from tests.integration.test_read_model_queries import change, env, marks, outcome, snap

CODEC = Codec()
PARTITIONS = 3
START = date(2025, 9, 8)


def stream(
    seed: int, kids: int = 240, days: int = 12
) -> list[tuple[str, str | None, int | None, Any]]:
    """(topic attribute, key, partition, event): a county's flagger output and sources."""
    rng = random.Random(seed)
    urns = [f"1000{i:02d}" for i in range(6)]
    out: list[tuple[str, str | None, int | None, Any]] = []
    for i, urn in enumerate(urns):
        school = SchoolRecorded(
            **env(), urn=urn, name=f"School {i}", phase="PRIMARY",
            pyramid=f"P{i % 3}", zone=f"Zone {i % 2}",
        )  # fmt: skip
        out.append(("schools", urn, None, school))
    school_of = {f"k{n:04d}": urns[n % len(urns)] for n in range(kids)}
    for key, urn in school_of.items():
        joined = START + timedelta(days=rng.randrange(3))
        enrol = EnrolmentRecorded(
            **env(joined), child_key=key, urn=urn, nc_year=5, sex="M",
            month_of_birth="2015-03", joined_on=joined,
        )  # fmt: skip
        out.append(("enrolments", key, None, enrol))
    raised: dict[str, set[str]] = {k: set() for k in school_of}
    for d in range(days):
        day = START + timedelta(days=d + d // 5 * 2)  # weekdays only
        for p in range(PARTITIONS):
            owned = [k for k in school_of if partition_for(k, PARTITIONS) == p]
            for urn in urns:
                kids_here = [k for k in owned if school_of[k] == urn]
                if kids_here:
                    out.append(("attendance", None, p, marks(urn, day, *kids_here)))
        for key, urn in school_of.items():
            for flag in ("ATTEND", "FSM", "SEN", "NEET"):
                if rng.random() < 0.08:
                    kind = "CLEARED" if flag in raised[key] else "RAISED"
                    raised[key] ^= {flag}
                    out.append(("flag_changes", key, None, change(key, urn, flag, kind, day)))
            if rng.random() < 0.03:
                status = rng.choice(["No progress", "Some progress", "Further risk"])
                out.append(("outcomes", key, None, outcome(key, "1:1", status, day)))
            flags = [(f, "") for f in sorted(raised[key])]
            out.append(("child_flags", key, None, snap(key, urn, day, *flags)))
        for p in range(PARTITIONS):
            out.append(("clock", None, p, DayEnded(**env(day, 23), day=day)))
    return out


def publish(
    bootstrap: str, topics: Topics, records: list[tuple[str, str | None, int | None, Any]]
) -> None:
    producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    for attr, key, partition, event in records:
        producer.send(
            getattr(topics, attr),
            key=key.encode() if key else None,
            value=CODEC.encode(event),
            partition=partition,
        )
    producer.flush(timeout=60)
    producer.close()


def caught_up(bootstrap: str, topics: Topics, engine: Engine) -> bool:
    with engine.connect() as conn:
        return behind(end_offsets(bootstrap, source_topics(topics)), stored_offsets(conn)) == 0


def committed(engine: Engine) -> int:
    with engine.connect() as conn:
        return sum(stored_offsets(conn).values())


# The killed (subprocess) and the clean (in-process) projector count re-flags alike.
REFLAG_AFTER_DAYS = 28


def start(bootstrap: str, topics: Topics, url: str) -> subprocess.Popen[bytes]:
    env_ = {
        **os.environ,
        "FLAGSTREAM_KAFKA_BOOTSTRAP": bootstrap,
        "FLAGSTREAM_TOPIC_PREFIX": topics.prefix,
        "FLAGSTREAM_DATABASE_URL": url,
        "FLAGSTREAM_PROJECTOR_BATCH_SIZE": "40",
        "FLAGSTREAM_PARTITIONS": str(PARTITIONS),
        "FLAGSTREAM_PROJECTOR_METRICS_PORT": str(free_port()),
        "FLAGSTREAM_REFLAG_AFTER_DAYS": str(REFLAG_AFTER_DAYS),  # the clean run's too
    }
    cmd = [sys.executable, "-m", "flagstream_tools.cli", "projector"]
    return subprocess.Popen(cmd, env=env_, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    with engine.connect() as conn:
        return {
            t.name: sorted(tuple(r) for r in conn.execute(select(t)))
            for t in metadata.sorted_tables
            # the runs' own times and commit counts, not projected rows
            if t is not read_model_status and t.name not in CHANGE_TABLES
        }


@pytest.fixture
def second_url(database_url: str, tmp_path: Any) -> Iterator[str]:
    """A second, empty database of the same kind for the clean run."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'clean.db'}"
        return
    name = f"flagstream_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_sigkill_at_random_points_then_resume_equals_a_clean_run(
    broker: EmbeddedBroker, database_url: str, second_url: str
) -> None:
    topics = Topics(f"kill{uuid.uuid4().hex[:8]}")
    create_topics(broker.bootstrap, topics, partitions=PARTITIONS)
    publish(broker.bootstrap, topics, stream(seed=11, days=40))
    rng = random.Random()
    engine = make_engine(database_url)
    create_schema(engine)
    kills = 0
    deadline = time.monotonic() + 150
    while kills < 4 and not caught_up(broker.bootstrap, topics, engine):
        before = committed(engine)
        proc = start(broker.bootstrap, topics, database_url)
        # Wait for it to commit something, then kill it at a random moment mid-batch.
        while committed(engine) == before:
            assert proc.poll() is None, "the projector exited before it was killed"
            assert time.monotonic() < deadline, "projector made no progress"
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
        kills += 1
    assert kills >= 3, "the run finished before it could be killed three times: add data"
    proc = start(broker.bootstrap, topics, database_url)
    try:
        while not caught_up(broker.bootstrap, topics, engine):
            assert proc.poll() is None, "the restarted projector exited"
            assert time.monotonic() < deadline, "the restarted projector did not catch up"
            time.sleep(0.2)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=20)

    clean = make_engine(second_url)
    create_schema(clean)
    projector = Projector(
        broker.bootstrap, topics, clean, CODEC, service_metrics("projector"),
        reflag_after_days=REFLAG_AFTER_DAYS,
    )  # fmt: skip
    projector._assign()
    while not caught_up(broker.bootstrap, topics, clean):
        projector.poll_once(timeout_ms=200)
        assert time.monotonic() < deadline + 60, "clean run did not catch up"
    killed, expected = dump(engine), dump(clean)
    assert expected["daily_counts"] and expected["flag_history"] and expected["outcomes"]
    for table in expected:
        assert killed[table] == expected[table], f"{table} differs after {kills} kills"
    engine.dispose()
    clean.dispose()
