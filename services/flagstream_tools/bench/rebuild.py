"""The rebuild stage: the flagger and the read model built again from the canonical log."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flagstream.topics import Topics, create_topics
from flagstream_tools.bench import stages
from flagstream_tools.bench.resources import PARTITIONS, ServiceEnv
from flagstream_tools.bench.workload import Workload
from flagstream_tools.broker import EmbeddedBroker
from flagstream_tools.processes import ServiceProcess


def rebuild(work: Workload, workdir: Path, key: str, timeout: float) -> dict[str, Any]:
    """A fresh flagger and projector on a fresh broker holding the same topics: how long the
    whole state and read model take to rebuild from the log, and their peak memory."""
    topics = Topics()
    logs = workdir / "logs"
    broker = EmbeddedBroker(log_path=logs / "broker.log").start()
    flagger = projector = None
    try:
        create_topics(broker.bootstrap, topics, PARTITIONS)
        stages.produce(broker.bootstrap, work.messages, "refilling canonical topics")
        env = ServiceEnv(workdir, broker.bootstrap, key)
        started = time.monotonic()
        flagger = ServiceProcess.flagstream("flagger", env(), logs).start()
        projector = ServiceProcess.flagstream("projector", env(), logs).start()
        stages.run_flagger(
            flagger, broker.bootstrap, topics, env.ports["flagger"], work.events, timeout
        )
        flagger_done = time.monotonic() - started
        ends = stages.projector_input(broker.bootstrap, topics)
        stages.run_projector(
            projector, env()["FLAGSTREAM_DATABASE_URL"], env.ports["projector"], ends, timeout
        )
        return {
            "rebuild_s": time.monotonic() - started,
            "rebuild_flagger_s": flagger_done,
            "rebuild_flagger_peak_rss_mb": flagger.sample(),
            "rebuild_projector_peak_rss_mb": projector.sample(),
        }
    finally:
        for proc in (flagger, projector):
            if proc is not None:
                proc.stop()
        broker.stop()
