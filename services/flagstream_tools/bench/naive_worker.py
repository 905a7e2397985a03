"""The baseline peer: a naive faust-streaming agent, one table update and one send per event.

Run as `python -m flagstream_tools.bench.naive_worker`; settings come from BENCH_NAIVE_* variables
set by the benchmark. When it has seen BENCH_NAIVE_EVENTS events it writes the first and
last event times to BENCH_NAIVE_RESULT.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import faust

from flagger.main import worker
from flagstream import kafka_clients


def create_app(bootstrap: str, source: str, sink: str, expected: int, result: Path) -> faust.App:
    """The agent as a tutorial would write it: per event, bump a counter and forward it."""
    app = kafka_clients.faust_app(
        "flagstream-bench-naive",
        bootstrap,
        store="memory://",
        datadir=str(result.parent / "naive-data"),
        key_serializer="raw",
        value_serializer="raw",
        web_enabled=False,
        consumer_auto_offset_reset="earliest",
        broker_rebalance_timeout=3.0,
        broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0,
        topic_partitions=6,
    )
    inbound = app.topic(source, partitions=6)
    outbound = app.topic(sink, partitions=6)
    counts = app.Table(
        "naive-counts",
        default=int,
        partitions=6,
        schema=faust.Schema(key_serializer="raw", value_serializer="json"),
    )
    seen = {"n": 0, "first": 0.0}

    @app.agent(inbound)
    async def naive(stream: Any) -> None:
        async for key, value in stream.items():
            counts[key] += 1
            await outbound.send(key=key, value=value)
            seen["n"] += 1
            if seen["n"] == 1:
                seen["first"] = time.time()
            if seen["n"] == expected:
                last = time.time()
                result.write_text(json.dumps({"first": seen["first"], "last": last, "n": expected}))

    return app


def main() -> None:
    """Run the worker until SIGTERM."""
    result = Path(os.environ["BENCH_NAIVE_RESULT"])
    app = create_app(
        os.environ["BENCH_NAIVE_BOOTSTRAP"],
        os.environ["BENCH_NAIVE_SOURCE"],
        os.environ["BENCH_NAIVE_SINK"],
        int(os.environ["BENCH_NAIVE_EVENTS"]),
        result,
    )
    # Built as the flagger's worker is (no terminal spinner, so no DEBUG logging), so the
    # baseline pays none of the logging cost the flagger no longer pays.
    worker(app, "warn").execute_from_commandline()


if __name__ == "__main__":
    main()
