"""The Prometheus metrics every service exposes, one registry per service instance.

Names are the same in every service; Prometheus' `job` label tells the services apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True, slots=True)
class ServiceMetrics:
    """Events in and out, rejections by stable reason code, and processing latency."""

    registry: CollectorRegistry
    events_in: Counter
    events_out: Counter
    rejected: Counter
    latency: Histogram
    up: Gauge


def service_metrics(service: str, registry: CollectorRegistry | None = None) -> ServiceMetrics:
    """Create the standard metric set for a service in its own registry."""
    registry = registry or CollectorRegistry()
    up = Gauge(
        "flagstream_service_info", "1 while the service runs", ["service"], registry=registry
    )
    up.labels(service).set(1)
    return ServiceMetrics(
        registry=registry,
        events_in=Counter(
            "flagstream_events_in", "Events received, by kind", ["kind"], registry=registry
        ),
        events_out=Counter(
            "flagstream_events_out", "Events emitted, by kind", ["kind"], registry=registry
        ),
        rejected=Counter(
            "flagstream_rejected",
            "Records rejected, by stable reason code",
            ["reason"],
            registry=registry,
        ),
        latency=Histogram(
            "flagstream_processing_seconds",
            "Time to process one request or message, by stage",
            ["stage"],
            registry=registry,
            buckets=LATENCY_BUCKETS,
        ),
        up=up,
    )


def serve(metrics: ServiceMetrics, port: int, host: str = "0.0.0.0") -> None:
    """Serve /metrics on a port in a background thread."""
    start_http_server(port, addr=host, registry=metrics.registry)


def _log_resets(registry: CollectorRegistry) -> Counter:
    return Counter(
        "flagstream_log_resets",
        "Times the service found its topics new or recreated (a reset log)",
        ["service"],
        registry=registry,
    )


@dataclass(frozen=True, slots=True)
class OutboxMetrics:
    """An outbox drainer's health: depth, age of the oldest unsent record, errors, parked."""

    depth: Gauge
    oldest_age: Gauge
    drainer_up: Gauge
    errors: Counter
    parked: Counter
    replay_remaining: Gauge
    log_resets: Counter


def outbox_metrics(registry: CollectorRegistry) -> OutboxMetrics:
    """The outbox metric set (label `outbox`: ingest or validator) in a service's registry."""
    return OutboxMetrics(
        depth=Gauge(
            "flagstream_outbox_depth",
            "Records accepted but not yet on the broker (of this log)",
            ["outbox"],
            registry=registry,
        ),
        oldest_age=Gauge(
            "flagstream_outbox_oldest_age_seconds",
            "Age of the oldest record not yet on the broker (0 when none)",
            ["outbox"],
            registry=registry,
        ),
        drainer_up=Gauge(
            "flagstream_outbox_drainer_up",
            "1 while the drainer thread runs and its last pass finished recently",
            ["outbox"],
            registry=registry,
        ),
        errors=Counter(
            "flagstream_outbox_errors",
            "Drainer passes that failed, by stable reason (broker_unavailable, database, ...)",
            ["outbox", "reason"],
            registry=registry,
        ),
        parked=Counter(
            "flagstream_outbox_parked",
            "Records the broker refused for good, parked with their reason",
            ["outbox", "reason"],
            registry=registry,
        ),
        replay_remaining=Gauge(
            "flagstream_record_replay_remaining",
            "Records of the durable record still to publish onto a new or reset log",
            ["outbox"],
            registry=registry,
        ),
        log_resets=_log_resets(registry),
    )


@dataclass(frozen=True, slots=True)
class ConsumerMetrics:
    """A consumer's health: undecodable input, a stop, lag and read-model state."""

    undecodable: Counter
    stopped: Gauge
    lag: Gauge
    rebuilding: Gauge
    late_registers: Gauge
    log_resets: Counter


def consumer_metrics(registry: CollectorRegistry) -> ConsumerMetrics:
    """The consumer metric set in a service's registry (flagger, projector)."""
    return ConsumerMetrics(
        undecodable=Counter(
            "flagstream_undecodable",
            "Messages that could not be decoded, by topic (stopped on, or quarantined)",
            ["topic"],
            registry=registry,
        ),
        stopped=Gauge(
            "flagstream_consumer_stopped",
            "1 while the consumer has stopped on input it cannot use, by reason",
            ["reason"],
            registry=registry,
        ),
        lag=Gauge(
            "flagstream_consumer_lag_records",
            "Records not yet consumed, by consumer (negative: committed past the log end, "
            "a reset log)",
            ["consumer"],
            registry=registry,
        ),
        rebuilding=Gauge(
            "flagstream_read_model_rebuilding",
            "1 while the read model is being rebuilt or is known to be stale",
            registry=registry,
        ),
        late_registers=Gauge(
            "flagstream_registers_late_schools",
            "Schools on the read model whose latest register is older than the latest school day",
            registry=registry,
        ),
        log_resets=_log_resets(registry),
    )
