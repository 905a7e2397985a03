"""Composition root of the projector."""

from __future__ import annotations

import logging
import signal
from types import FrameType

from flagstream import kafka_clients
from flagstream.codec import Codec
from flagstream.metrics import serve, service_metrics
from flagstream.settings import ProjectorSettings
from flagstream.topics import Topics
from readmodel.db import create_schema, make_engine

from .consumer import Projector
from .logcheck import LogReset

log = logging.getLogger("flagstream.projector")
EXIT_LOG_RESET = 3


def run(settings: ProjectorSettings) -> None:
    """Project until SIGTERM/SIGINT; /metrics on the projector metrics port."""
    kafka_clients.use(settings)
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
        partitions=settings.partitions,
        on_reset=settings.on_reset,
        on_undecodable=settings.on_undecodable,
        reflag_after_days=settings.reflag_after_days,
    )

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        projector.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        projector.run()
    except LogReset as exc:
        projector.health.log_resets.labels("projector").inc()
        log.critical(
            "log reset under the running projector (%s): exiting; started again it refuses, or "
            "with FLAGSTREAM_ON_RESET=rebuild rebuilds the read model (docs/operations.md)",
            exc,
        )
        raise SystemExit(EXIT_LOG_RESET) from None
