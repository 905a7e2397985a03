"""Composition root of the flagger."""

from __future__ import annotations

import faust

from flagstream.codec import Codec
from flagstream.metrics import serve, service_metrics
from flagstream.settings import Settings

from .app import create_app


def run(settings: Settings, loglevel: str = "warn") -> None:
    """Run the Faust worker until interrupted; /metrics on the flagger metrics port."""
    metrics = service_metrics("flagger")
    serve(metrics, settings.flagger_metrics_port)
    app = create_app(settings, Codec(settings.schemas_dir), metrics)
    settings.flagger_data_dir.mkdir(parents=True, exist_ok=True)
    worker = faust.Worker(app, loglevel=loglevel, quiet=True)
    worker.execute_from_commandline()
