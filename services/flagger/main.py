"""Composition root of the flagger."""

from __future__ import annotations

import gc
from typing import Any

import aiokafka  # type: ignore[import-untyped]
import faust

from flagstream.codec import Codec
from flagstream.metrics import serve, service_metrics
from flagstream.settings import Settings

from .app import create_app
from .log_end import read_to_fetched_end


def _cap_fetch_wait(max_ms: int) -> None:
    """Faust builds its aiokafka consumer with fetch_max_wait_ms=1500 and no setting to change
    it; an idle fetch then holds new input back for up to 1.5 s. Cap it for this process."""
    original = aiokafka.AIOKafkaConsumer.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        kwargs["fetch_max_wait_ms"] = min(int(kwargs.get("fetch_max_wait_ms", 500)), max_ms)
        original(self, *args, **kwargs)

    aiokafka.AIOKafkaConsumer.__init__ = init  # type: ignore[method-assign]


# CPython collects its youngest generation every 700 new containers; the flagger allocates
# a few dozen per child step and keeps its children's state, so young collections kept
# re-scanning survivors: ~6-7% of the handler's time (gc.callbacks, small preset), ~1% at
# 10,000. Memory is unaffected: the flagger's garbage is freed by reference counting.
GC_THRESHOLD = (10_000, 10, 10)


def run(settings: Settings, loglevel: str = "warn") -> None:
    """Run the Faust worker until interrupted; /metrics on the flagger metrics port."""
    gc.set_threshold(*GC_THRESHOLD)
    _cap_fetch_wait(100)
    read_to_fetched_end(settings.require_kafka().split(","))
    metrics = service_metrics("flagger")
    serve(metrics, settings.flagger_metrics_port)
    app = create_app(settings, Codec(settings.schemas_dir), metrics)
    settings.flagger_data_dir.mkdir(parents=True, exist_ok=True)
    worker(app, loglevel).execute_from_commandline()


def worker(app: faust.App, loglevel: str) -> faust.Worker:
    """The Faust worker, without its terminal spinner: the spinner sets the root logger to
    DEBUG, so every debug() call in aiokafka and Faust (several per message sent) builds a
    log record - ~10% of the flagger's time. Without it the root logger keeps `loglevel`."""
    built = faust.Worker(app, loglevel=loglevel, quiet=True)
    built.spinner = None
    return built
