"""Every Kafka client in services/ is built by flagstream.kafka_clients, with the process's
security settings: no other module calls a client constructor, and the factories pass the
settings (and refuse a call that sets them itself)."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from flagstream import kafka_clients
from flagstream.kafka_security import KafkaSecurity, Unprinted

SERVICES = Path(__file__).resolve().parents[2] / "services"
FACTORY_MODULE = SERVICES / "flagstream" / "kafka_clients.py"
CONSTRUCTORS = frozenset(
    {
        "KafkaProducer",
        "KafkaConsumer",
        "KafkaAdminClient",
        "KafkaClient",
        "AIOKafkaProducer",
        "AIOKafkaConsumer",
        "AIOKafkaClient",
        "AIOKafkaAdminClient",
    }
)
CLIENT_KEYWORDS = frozenset({"bootstrap_servers", "broker", "security_protocol"})


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return f"{_name(func.value)}.{func.attr}"
    return ""


def direct_clients(source: str) -> list[str]:
    """Calls that build a Kafka client (or a Faust app) other than through kafka_clients:
    a client constructor or faust.App by name, or any call passing bootstrap servers,
    brokers or a security protocol that is not a kafka_clients factory."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = _name(node.func)
        last = name.rsplit(".", 1)[-1]
        keywords = {k.arg for k in node.keywords}
        if last in CONSTRUCTORS or name in ("faust.App", "App"):
            found.append(f"line {node.lineno}: {name}(")
        elif keywords & CLIENT_KEYWORDS and not name.startswith("kafka_clients."):
            found.append(f"line {node.lineno}: {name}({', '.join(sorted(keywords))})")
    return found


def test_no_module_builds_a_kafka_client_itself() -> None:
    offenders = {
        str(path.relative_to(SERVICES)): calls
        for path in sorted(SERVICES.rglob("*.py"))
        if path != FACTORY_MODULE and (calls := direct_clients(path.read_text()))
    }
    assert not offenders, (
        "build Kafka clients with flagstream.kafka_clients (producer, consumer, admin, "
        f"aio_producer, aio_consumer, faust_app), so they get the security settings: {offenders}"
    )


@pytest.mark.parametrize(
    "source",
    [
        "from kafka import KafkaProducer\np = KafkaProducer(bootstrap_servers='b')",
        "import kafka\nc = kafka.KafkaConsumer('t')",
        "import aiokafka\nc = aiokafka.AIOKafkaConsumer(bootstrap_servers=b)",
        "import faust\napp = faust.App('id', broker='kafka://b')",
        "client = make_client(bootstrap_servers=b)",
        "app = build(broker=['kafka://b'])",
    ],
)
def test_the_check_finds_a_client_built_directly(source: str) -> None:
    assert direct_clients(source)


def test_the_check_allows_the_factories() -> None:
    source = (
        "from flagstream import kafka_clients\n"
        "p = kafka_clients.producer(bootstrap_servers=b, acks='all')\n"
        "a = kafka_clients.faust_app('id', b, web_enabled=False)\n"
    )
    assert direct_clients(source) == []


class Recorder:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args, self.kwargs = args, kwargs


SASL = KafkaSecurity(
    protocol="SASL_PLAINTEXT", mechanism="PLAIN", username="ingest", password=Unprinted("pw")
)


@pytest.mark.parametrize("factory", ["producer", "consumer", "admin"])
def test_kafka_python_factories_pass_the_process_security(
    factory: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    constructor = {"producer": "KafkaProducer", "consumer": "KafkaConsumer"}.get(
        factory, "KafkaAdminClient"
    )
    monkeypatch.setattr(kafka_clients, constructor, Recorder)
    monkeypatch.setattr(kafka_clients, "_installed", [])
    kafka_clients.use(SASL)
    built = getattr(kafka_clients, factory)(bootstrap_servers="b:9092", client_id="x")
    assert built.kwargs == {"bootstrap_servers": "b:9092", "client_id": "x", **SASL.kafka_python()}
    given = getattr(kafka_clients, factory)(bootstrap_servers="b", security=KafkaSecurity())
    assert given.kwargs["security_protocol"] == "PLAINTEXT"  # an explicit one wins
    with pytest.raises(TypeError):  # a call cannot set its own and so bypass the settings
        getattr(kafka_clients, factory)(bootstrap_servers="b", security_protocol="PLAINTEXT")


def test_aiokafka_factories_pass_the_process_security(monkeypatch: pytest.MonkeyPatch) -> None:
    import aiokafka  # type: ignore[import-untyped]

    monkeypatch.setattr(aiokafka, "AIOKafkaProducer", Recorder)
    monkeypatch.setattr(aiokafka, "AIOKafkaConsumer", Recorder)
    monkeypatch.setattr(kafka_clients, "_installed", [SASL])
    producer = kafka_clients.aio_producer(bootstrap_servers="b")
    consumer = kafka_clients.aio_consumer("topic", bootstrap_servers="b")
    assert producer.kwargs == {"bootstrap_servers": "b", **SASL.aiokafka()}
    assert consumer.args == ("topic",)
    assert consumer.kwargs == {"bootstrap_servers": "b", **SASL.aiokafka()}


def test_without_use_the_environment_is_read_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kafka_clients, "_installed", [])
    monkeypatch.setenv("FLAGSTREAM_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("FLAGSTREAM_KAFKA_SASL_USERNAME", "projector")
    monkeypatch.setenv("FLAGSTREAM_KAFKA_SASL_PASSWORD", "pw")
    first = kafka_clients.current()
    assert (first.protocol, first.username) == ("SASL_PLAINTEXT", "projector")
    monkeypatch.setenv("FLAGSTREAM_KAFKA_SASL_USERNAME", "someone-else")
    assert kafka_clients.current() is first
