"""The fenced aiokafka workarounds do what they say, and the quirks they work around still
exist (when one of these tests says a quirk is gone, remove its workaround)."""

from __future__ import annotations

from typing import Any

import aiokafka  # type: ignore[import-untyped]
import pytest
from aiokafka.protocol.metadata import (  # type: ignore[import-untyped]
    MetadataRequest,
    MetadataRequest_v1,
    MetadataRequest_v4,
    MetadataRequest_v5,
)

from flagger import kafka_quirks


@pytest.fixture
def restored(monkeypatch: pytest.MonkeyPatch) -> None:
    """Undo the process-wide patches after the test."""
    monkeypatch.setattr(MetadataRequest, "__init__", MetadataRequest.__init__)
    monkeypatch.setattr(aiokafka.AIOKafkaConsumer, "__init__", aiokafka.AIOKafkaConsumer.__init__)


def test_aiokafka_still_asks_brokers_to_create_topics() -> None:
    built = MetadataRequest(["t"]).build(MetadataRequest_v4)
    assert built.allow_auto_topic_creation is True, (
        "aiokafka no longer asks for auto-creation by default: remove "
        "kafka_quirks.never_auto_create_topics"
    )


@pytest.mark.usefixtures("restored")
def test_metadata_requests_ask_for_no_auto_creation() -> None:
    kafka_quirks.never_auto_create_topics()
    kafka_quirks.never_auto_create_topics()  # applying twice wraps once
    for version in (MetadataRequest_v4, MetadataRequest_v5):
        assert MetadataRequest(["t"]).build(version).allow_auto_topic_creation is False
    assert MetadataRequest(["t"], True).build(MetadataRequest_v4).allow_auto_topic_creation
    assert MetadataRequest(["t"]).build(MetadataRequest_v1).topics == ["t"]
    assert MetadataRequest().build(MetadataRequest_v4).topics is None  # all topics, as before


@pytest.mark.usefixtures("restored")
def test_consumers_fetch_wait_is_capped() -> None:
    seen: dict[str, Any] = {}

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        seen.update(kwargs)

    aiokafka.AIOKafkaConsumer.__init__ = init
    kafka_quirks.cap_fetch_wait(100)
    aiokafka.AIOKafkaConsumer(fetch_max_wait_ms=1500)
    assert seen["fetch_max_wait_ms"] == 100
    aiokafka.AIOKafkaConsumer(fetch_max_wait_ms=10)
    assert seen["fetch_max_wait_ms"] == 10


@pytest.fixture
def end_offsets_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        aiokafka.AIOKafkaConsumer, "end_offsets", aiokafka.AIOKafkaConsumer.end_offsets
    )


@pytest.mark.usefixtures("restored", "end_offsets_restored")
def test_the_end_offsets_workaround_is_applied_on_the_embedded_broker_only() -> None:
    listed = aiokafka.AIOKafkaConsumer.end_offsets
    assert "read_to_fetched_end" not in kafka_quirks.apply(["127.0.0.1:1"], embedded=False)
    assert aiokafka.AIOKafkaConsumer.end_offsets is listed  # Kafka: Faust's recovery as is
    assert "read_to_fetched_end" in kafka_quirks.apply(["127.0.0.1:1"], embedded=True)
    assert aiokafka.AIOKafkaConsumer.end_offsets is not listed
