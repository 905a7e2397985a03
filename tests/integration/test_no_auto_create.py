"""On the embedded broker, an aiokafka client asking about a topic creates it - unless the
flagger's workaround is applied (flagger/kafka_quirks.py). When the first test fails, the
quirk is gone and the workaround may go."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaClient  # type: ignore[import-untyped]
from aiokafka.protocol.metadata import MetadataRequest  # type: ignore[import-untyped]
from kafka import KafkaAdminClient

from flagger import kafka_quirks
from flagstream_tools.broker import EmbeddedBroker

pytestmark = pytest.mark.integration


def _ask_about(bootstrap: str, topic: str) -> None:
    async def ask() -> None:
        client = AIOKafkaClient(bootstrap_servers=bootstrap)
        await client.bootstrap()
        try:
            client.add_topic(topic)
            await asyncio.wait_for(client.force_metadata_update(), 10)
        finally:
            await client.close()

    asyncio.run(ask())


def _exists(bootstrap: str, topic: str) -> bool:
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        return topic in set(admin.list_topics())
    finally:
        admin.close()


def test_without_the_workaround_asking_creates_the_topic(broker: EmbeddedBroker) -> None:
    topic = f"quirk-{uuid.uuid4().hex[:8]}"
    _ask_about(broker.bootstrap, topic)
    assert _exists(broker.bootstrap, topic), "auto-creation is gone: the workaround may go"


def test_with_the_workaround_asking_creates_nothing(
    broker: EmbeddedBroker, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(MetadataRequest, "__init__", MetadataRequest.__init__)  # undone after
    kafka_quirks.never_auto_create_topics()
    topic = f"quirk-{uuid.uuid4().hex[:8]}"
    _ask_about(broker.bootstrap, topic)
    assert not _exists(broker.bootstrap, topic)
