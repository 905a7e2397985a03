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
