"""`flagstream bench` cannot rot: the tiny preset runs every stage for real (embedded broker,
real services, PostgreSQL) and the JSON holds every figure with a sane value."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flagstream_tools.bench.report import REQUIRED
from flagstream_tools.cli import main

pytestmark = [pytest.mark.integration, pytest.mark.postgres]


def test_tiny_bench_writes_every_figure(tmp_path: Path, postgres_url: str) -> None:
    out = tmp_path / "bench.json"
    # postgres_url is a fresh database; the bench creates (and drops) its own beside it.
    code = main(
        [
            "bench",
            "--preset",
            "tiny",
            "--workdir",
            str(tmp_path / "run"),
            "--json",
            str(out),
            "--postgres",
            postgres_url,
        ]
    )
    assert code == 0
    figures = json.loads(out.read_text())
    missing = [key for key in REQUIRED if figures.get(key) is None]
    assert missing == []
    for key in REQUIRED:
        assert figures[key] > 0, key
    assert figures["e2e_p50_ms"] <= figures["e2e_p95_ms"] <= figures["e2e_p99_ms"]
    assert figures["e2e_rows_missing"] == 0
    assert figures["e2e_rows"] > 0
    # The split at the flagger's evaluation: a row is committed after it was evaluated.
    assert 0 < figures["e2e_after_flagger_p50_ms"] <= figures["e2e_after_flagger_p99_ms"]
    assert figures["e2e_to_flagger_p50_ms"] <= figures["e2e_to_flagger_p99_ms"]
    assert figures["projector_records_per_s_sqlite"] > 0
    assert figures["events"] == sum(
        n for kind, n in figures["event_mix"].items() if kind != "school"
    )
    assert figures["raw_consume_per_s"] > figures["naive_faust_events_per_s"]
    assert figures["machine"]["cores"] >= 1
    assert figures["rebuild_s"] < 120
