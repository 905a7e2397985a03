"""Input the flagger cannot use is stopped on or quarantined, never skipped; a reset log
exits at once. In memory: fake messages, a fake producer, a fake log watch."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from flagger.app import EXIT_LOG_RESET, Poison, exit_if_log_reset, quarantine_to
from flagstream.metrics import ConsumerMetrics, consumer_metrics


@dataclass
class FakeMessage:
    topic: str = "flagstream.child-events"
    partition: int = 2
    offset: int = 41
    key: bytes | None = b"child-a"
    value: bytes | None = b"\xde\xad not avro"


def health() -> tuple[ConsumerMetrics, CollectorRegistry]:
    registry = CollectorRegistry()
    return consumer_metrics(registry), registry


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def make(mode: Any) -> tuple[Poison, list[str], CollectorRegistry]:
    calls: list[str] = []
    metrics, registry = health()

    async def quarantine(message: Any, reason: str) -> None:
        calls.append(f"quarantine {message.offset} {reason}")

    async def flush() -> None:
        calls.append("flush")

    return Poison(mode, metrics, quarantine, flush), calls, registry


async def test_stop_flushes_what_came_before_then_takes_no_more_input(
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison, calls, registry = make("stop")
    stopped = asyncio.ensure_future(poison(FakeMessage(), "not_single_object"))
    await asyncio.sleep(0.05)
    assert not stopped.done()  # the agent never gets past it (the message is never acked)
    assert calls == ["flush"]
    assert sample(registry, "flagstream_consumer_stopped", reason="undecodable") == 1
    assert sample(registry, "flagstream_undecodable_total", topic=FakeMessage.topic) == 1
    [record] = [r for r in caplog.records if r.levelname == "CRITICAL"]
    line = record.getMessage()
    assert "flagstream.child-events[2]@41" in line and "not_single_object" in line
    assert "not avro" not in line  # never the message's bytes
    poison.resume.set()
    await asyncio.wait_for(stopped, 1)


async def test_quarantine_parks_the_message_and_goes_on() -> None:
    poison, calls, registry = make("quarantine")
    await asyncio.wait_for(poison(FakeMessage(), "unknown_fingerprint"), 1)
    assert calls == ["quarantine 41 unknown_fingerprint"]  # nothing flushed early
    assert sample(registry, "flagstream_undecodable_total", topic=FakeMessage.topic) == 1
    assert not sample(registry, "flagstream_consumer_stopped", reason="undecodable")


async def test_a_quarantined_copy_has_the_original_bytes_and_where_they_came_from() -> None:
    sent: list[tuple[str, dict[str, Any]]] = []

    class FakeProducer:
        async def send_and_wait(self, topic: str, **kwargs: Any) -> None:
            sent.append((topic, kwargs))

    producer = FakeProducer()
    await quarantine_to("flagstream.quarantine", lambda: producer)(FakeMessage(), "truncated")
    [(topic, kwargs)] = sent
    assert topic == "flagstream.quarantine"
    assert kwargs["partition"] == 0
    assert kwargs["value"] == FakeMessage.value and kwargs["key"] == FakeMessage.key
    assert dict(kwargs["headers"]) == {
        "source_topic": b"flagstream.child-events",
        "source_partition": b"2",
        "source_offset": b"41",
        "reason": b"truncated",
    }


class FakeWatch:
    def __init__(self, answer: str | None) -> None:
        self.answer = answer

    async def changed(self) -> str | None:
        return self.answer


async def test_a_log_reset_exits_at_once(caplog: pytest.LogCaptureFixture) -> None:
    metrics, registry = health()
    exits: list[int] = []
    await exit_if_log_reset(FakeWatch(None), metrics, exits.append)  # type: ignore[arg-type]
    assert exits == []
    await exit_if_log_reset(
        FakeWatch("flagstream.attendance was recreated"),  # type: ignore[arg-type]
        metrics,
        exits.append,
    )
    assert exits == [EXIT_LOG_RESET] == [3]
    assert sample(registry, "flagstream_log_resets_total", service="flagger") == 1
    assert any(
        r.levelname == "CRITICAL"
        and r.getMessage()
        == "log reset: flagstream.attendance was recreated; exiting so the flagger is rebuilt "
        "(docs/operations.md)"
        for r in caplog.records
    )
