"""Composition root of the projector."""

from __future__ import annotations

import signal
from types import FrameType

from flagstream.codec import Codec
from flagstream.metrics import serve, service_metrics
from flagstream.settings import Settings
from flagstream.topics import Topics

from .consumer import Projector
from .db import create_schema, make_engine


def run(settings: Settings) -> None:
    """Project until SIGTERM/SIGINT; /metrics on the projector metrics port."""
    engine = make_engine(settings.database_url)
    create_schema(engine)
    metrics = service_metrics("projector")
    serve(metrics, settings.projector_metrics_port)
    projector = Projector(
        settings.require_kafka(),
        Topics(settings.topic_prefix),
        engine,
        Codec(settings.schemas_dir),
        metrics,
        batch_size=settings.projector_batch_size,
    )

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        projector.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    projector.run()
