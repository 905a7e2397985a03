"""Kafka over TLS on the real embedded broker, with a throwaway CA (trustme): kafka-python's
producer, consumer and admin, aiokafka's producer and consumer and the real flagger process
(Faust) connect through the clients kafka_clients builds from the security settings; a
plaintext client, a client trusting another CA, a hostname the certificate does not name
and (with mutual TLS) a client without a certificate are refused.

Tansu cannot serve TLS itself (flagstream/tls_front.py says why): EmbeddedBroker(cert, key)
puts a TLS terminator in front of it, so every Kafka request of these clients crosses TLS."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import trustme
from kafka import KafkaAdminClient
from kafka.errors import KafkaError

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.kafka_security import KafkaSecurity
from flagstream.lag import end_offsets, group_offsets
from flagstream.topics import FLAGGER_APP_ID, Topics, create_topics, describe, partition_for
from flagstream_tools.broker import EmbeddedBroker
from flagstream_tools.demo.stack import Stack

from .flagger_harness import start_flagger, wait_until

pytestmark = pytest.mark.integration
REFUSED_WITHIN_MS = 4000  # a refused client gives up bootstrapping after this


class Pki:
    """A CA, a broker certificate for 127.0.0.1 and localhost, a client certificate and an
    unrelated CA, as PEM files."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        ca, other = trustme.CA(), trustme.CA()
        self.ca, self.other_ca = folder / "ca.pem", folder / "other-ca.pem"
        ca.cert_pem.write_to_path(self.ca)
        other.cert_pem.write_to_path(self.other_ca)
        self.cert, self.key = self._issue(ca, folder, "broker", "127.0.0.1", "localhost")
        self.wrong_name_cert, self.wrong_name_key = self._issue(
            ca, folder, "elsewhere", "kafka.invalid"
        )
        self.client_cert, self.client_key = self._issue(ca, folder, "client", "flagstream-test")

    @staticmethod
    def _issue(ca: trustme.CA, folder: Path, name: str, *hosts: str) -> tuple[Path, Path]:
        issued = ca.issue_cert(*hosts)
        cert, key = folder / f"{name}.pem", folder / f"{name}-key.pem"
        issued.cert_chain_pems[0].write_to_path(cert)
        issued.private_key_pem.write_to_path(key)
        return cert, key


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return Pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def broker(pki: Pki) -> Iterator[EmbeddedBroker]:
    with EmbeddedBroker(cert=pki.cert, key=pki.key) as b:
        yield b


@pytest.fixture
def tls(pki: Pki, monkeypatch: pytest.MonkeyPatch) -> KafkaSecurity:
    """This process's clients connect with TLS, trusting the throwaway CA (undone after)."""
    monkeypatch.setattr(kafka_clients, "_installed", [])
    return kafka_clients.use(KafkaSecurity(protocol="SSL", cafile=str(pki.ca)))


def _refused(
    bootstrap: str, security: KafkaSecurity, why: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A kafka-python admin with these settings cannot bootstrap, for the reason given."""
    caplog.set_level(logging.WARNING, logger="kafka")  # the demo's and bench's CLI quiet it
    caplog.clear()
    with pytest.raises(KafkaError):
        admin = kafka_clients.admin(
            bootstrap_servers=bootstrap, security=security, bootstrap_timeout_ms=REFUSED_WITHIN_MS
        )
        admin.list_topics()  # not reached: bootstrapping fails first
    assert why in caplog.text


def test_kafka_python_producer_consumer_and_admin_over_tls(
    broker: EmbeddedBroker, tls: KafkaSecurity
) -> None:
    topics = Topics("tls-kp")
    made = create_topics(broker.bootstrap, topics, 2)  # the admin flagstream topics create uses
    assert topics.attendance in made
    assert describe(broker.bootstrap, [topics.attendance])[topics.attendance].partitions == 2
    producer = kafka_clients.producer(bootstrap_servers=broker.bootstrap, acks="all")
    try:
        for i in range(3):
            producer.send(topics.attendance, value=f"m{i}".encode(), partition=i % 2).get(30)
    finally:
        producer.close()
    assert sum(end_offsets(broker.bootstrap, [topics.attendance]).values()) == 3
    consumer = kafka_clients.consumer(
        topics.attendance,
        bootstrap_servers=broker.bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    got: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while len(got) < 3 and time.monotonic() < deadline:
            got += [r.value for rs in consumer.poll(timeout_ms=500).values() for r in rs]
    finally:
        consumer.close()
    assert sorted(got) == [b"m0", b"m1", b"m2"]


def test_a_plaintext_client_is_refused(
    broker: EmbeddedBroker, caplog: pytest.LogCaptureFixture
) -> None:
    _refused(broker.bootstrap, KafkaSecurity(), "socket disconnected", caplog)
    with pytest.raises(KafkaError):  # nor by kafka-python's own defaults
        KafkaAdminClient(bootstrap_servers=broker.bootstrap, bootstrap_timeout_ms=2000)


def test_a_client_trusting_another_ca_is_refused(
    broker: EmbeddedBroker, pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    other = KafkaSecurity(protocol="SSL", cafile=str(pki.other_ca))
    _refused(broker.bootstrap, other, "unable to get local issuer certificate", caplog)


def test_a_certificate_for_another_host_is_refused_unless_hostname_checks_are_off(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    with EmbeddedBroker(cert=pki.wrong_name_cert, key=pki.wrong_name_key) as b:
        trusted = KafkaSecurity(protocol="SSL", cafile=str(pki.ca))
        _refused(b.bootstrap, trusted, "IP address mismatch", caplog)
        unchecked = KafkaSecurity(protocol="SSL", cafile=str(pki.ca), check_hostname=False)
        admin = kafka_clients.admin(bootstrap_servers=b.bootstrap, security=unchecked)
        try:
            assert admin.list_topics() == []
        finally:
            admin.close()


def test_mutual_tls_needs_the_client_certificate(
    pki: Pki, caplog: pytest.LogCaptureFixture
) -> None:
    with EmbeddedBroker(cert=pki.cert, key=pki.key, client_ca=pki.ca) as b:
        no_certificate = KafkaSecurity(protocol="SSL", cafile=str(pki.ca))
        _refused(b.bootstrap, no_certificate, "socket disconnected", caplog)
        mutual = KafkaSecurity(
            protocol="SSL",
            cafile=str(pki.ca),
            certfile=str(pki.client_cert),
            keyfile=str(pki.client_key),
        )
        admin = kafka_clients.admin(bootstrap_servers=b.bootstrap, security=mutual)
        try:
            assert admin.list_topics() == []
        finally:
            admin.close()
        aio = asyncio.run(_aiokafka_round_trip(b.bootstrap, mutual, "tls-mutual"))
        assert aio == [b"0", b"1", b"2"]


async def _aiokafka_round_trip(bootstrap: str, security: KafkaSecurity, topic: str) -> list[bytes]:
    admin = kafka_clients.admin(bootstrap_servers=bootstrap, security=security)
    try:
        from kafka.admin import NewTopic

        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()
    producer = kafka_clients.aio_producer(bootstrap_servers=bootstrap, security=security)
    await producer.start()
    try:
        for i in range(3):
            await producer.send_and_wait(topic, str(i).encode(), partition=0)
    finally:
        await producer.stop()
    consumer = kafka_clients.aio_consumer(
        topic,
        bootstrap_servers=bootstrap,
        security=security,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got: list[bytes] = []
        async with asyncio.timeout(30):
            while len(got) < 3:
                batches = await consumer.getmany(timeout_ms=500)
                got += [r.value for records in batches.values() for r in records]
        return got
    finally:
        await consumer.stop()


def test_aiokafka_producer_and_consumer_over_tls(broker: EmbeddedBroker, pki: Pki) -> None:
    security = KafkaSecurity(protocol="SSL", cafile=str(pki.ca))
    assert asyncio.run(_aiokafka_round_trip(broker.bootstrap, security, "tls-aio")) == [
        b"0",
        b"1",
        b"2",
    ]


def test_aiokafka_trusting_another_ca_is_refused(broker: EmbeddedBroker, pki: Pki) -> None:
    security = KafkaSecurity(protocol="SSL", cafile=str(pki.other_ca))

    async def start() -> None:
        producer = kafka_clients.aio_producer(
            bootstrap_servers=broker.bootstrap, security=security, request_timeout_ms=3000
        )
        try:
            await producer.start()
        finally:
            await producer.stop()

    with pytest.raises(Exception, match=r"(?i)certificate|connect"):
        asyncio.run(start())


def test_the_flagger_runs_over_tls(tmp_path: Path, pki: Pki, tls: KafkaSecurity) -> None:
    """The real `flagstream flagger` (Faust on aiokafka, its guard on kafka-python), given
    only FLAGSTREAM_KAFKA_* TLS settings: it consumes input and writes a child's flags."""
    stack = Stack(tmp_path, partitions=2)
    stack.broker = EmbeddedBroker(cert=pki.cert, key=pki.key, log_path=tmp_path / "broker.log")
    stack.broker.start()
    try:
        stack.create_topics()
        start_flagger(stack, **tls.env())
        t = datetime(2026, 9, 8, 16, tzinfo=UTC)
        marks = [
            ev.AttendanceMarkRecorded(
                event_id=uuid.uuid4(), source="test", occurred_at=t, recorded_at=t,
                child_key="child-tls", urn="100001", date=date(2026, 9, 8), session=s, code="/",
            )
            for s in ("AM", "PM")
        ]  # fmt: skip
        producer = kafka_clients.producer(bootstrap_servers=stack.broker.bootstrap, acks="all")
        try:
            batch = ev.AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks)
            partition = partition_for("child-tls", 2)
            producer.send(stack.topics.attendance, Codec().encode(batch), partition=partition).get(
                30
            )
        finally:
            producer.close()
        bootstrap, canonical = stack.broker.bootstrap, stack.topics.canonical

        def consumed() -> bool:
            ends = end_offsets(bootstrap, canonical)
            committed = group_offsets(bootstrap, FLAGGER_APP_ID, ends)
            out = sum(end_offsets(bootstrap, [stack.topics.child_flags]).values())
            return out > 0 and all(max(committed.get(tp, 0), 0) >= end for tp, end in ends.items())

        wait_until(consumed, 90, "the flagger's output over TLS")
    finally:
        stack.stop()
