"""The benchmark's figures: machine facts, the printed table with ratios and targets, JSON."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# The targets: (key, comparison, value).
TARGETS: dict[str, tuple[str, float]] = {
    "flagger_vs_naive": (">=", 20.0),
    "projector_rows_per_s_sqlite": (">=", 20_000.0),
    "projector_rows_per_s_postgres": (">=", 10_000.0),
    "e2e_p99_ms": ("<", 1_000.0),
    "flagger_peak_rss_mb": ("<", 500.0),
}
REQUIRED = (
    "raw_consume_per_s",
    "raw_produce_per_s",
    "naive_faust_events_per_s",
    "flagger_events_per_s",
    "projector_rows_per_s_sqlite",
    "projector_rows_per_s_postgres",
    "e2e_p50_ms",
    "e2e_p95_ms",
    "e2e_p99_ms",
    "rebuild_s",
    "flagger_restart_s_rocksdb",
    "flagger_restart_s_memory",
    "events",
    "flagger_peak_rss_mb",
)


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "cores": os.cpu_count(),
        "cpu_model": model or platform.processor(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_avg_at_start": list(os.getloadavg()),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": commit,
    }


def _verdict(key: str, figures: dict[str, Any]) -> str:
    value = figures.get(key)
    if key not in TARGETS or value is None:
        return ""
    op, target = TARGETS[key]
    met = value >= target if op == ">=" else value < target
    return f"{op} {target:,.0f}: {'met' if met else 'NOT met'}"


def _row(label: str, value: Any, unit: str, note: str = "") -> str:
    text = "-" if value is None else f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
    return f"{label:<38} {text:>14} {unit:<10} {note}"


def table(f: dict[str, Any]) -> str:
    """The human summary: each figure, its ratio to the raw limit or the naive peer, targets."""
    raw_marks = f.get("raw_consume_marks_per_s") or 0.0
    naive = f.get("naive_faust_events_per_s") or 0.0

    def share(v: float | None, of: float, what: str) -> str:
        if not v or not of:
            return ""
        return f"{v / of:,.2f}x {what}" if v >= of else f"{100 * v / of:,.1f}% of {what}"

    lines = [
        f"{'figure':<38} {'value':>14} {'unit':<10} ratio / target",
        "-" * 100,
        _row(
            "raw produce, single events", f.get("raw_produce_per_s"), "msg/s", "aiokafka, acks=all"
        ),
        _row("raw consume, single events", f.get("raw_consume_per_s"), "msg/s"),
        _row(
            "raw produce, register batches",
            f.get("raw_produce_batches_per_s"),
            "msg/s",
            f"{f.get('raw_marks_per_batch', 0):,.0f} marks each",
        ),
        _row(
            "raw consume, register batches",
            f.get("raw_consume_batches_per_s"),
            "msg/s",
            f"= {raw_marks:,.0f} marks/s",
        ),
        _row("naive Faust agent", naive, "events/s", "1 table update + 1 send per event"),
        _row(
            "flagger (realistic mix)",
            f.get("flagger_events_per_s"),
            "events/s",
            f"{share(f.get('flagger_events_per_s'), naive, 'naive')}; "
            f"{share(f.get('flagger_events_per_s'), raw_marks, 'raw marks limit')}; "
            + _verdict("flagger_vs_naive", f),
        ),
        _row(
            "flagger handler alone (no Kafka)",
            f.get("flagger_handler_events_per_s"),
            "events/s",
            "in-process, dict table",
        ),
        _row(
            "projector, SQLite",
            f.get("projector_rows_per_s_sqlite"),
            "rows/s",
            _verdict("projector_rows_per_s_sqlite", f),
        ),
        _row(
            "projector, PostgreSQL",
            f.get("projector_rows_per_s_postgres"),
            "rows/s",
            _verdict("projector_rows_per_s_postgres", f),
        ),
        _row(
            "end to end p50",
            f.get("e2e_p50_ms"),
            "ms",
            f"at {f.get('e2e_offered_marks_per_s', 0):,.0f} marks/s offered",
        ),
        _row("end to end p95", f.get("e2e_p95_ms"), "ms"),
        _row("end to end p99", f.get("e2e_p99_ms"), "ms", _verdict("e2e_p99_ms", f)),
        _row(
            "rebuild (flagger + read model)",
            f.get("rebuild_s"),
            "s",
            f"{f.get('events', 0):,} events; ~{f.get('rebuild_s_per_million_events', 0):,.0f} s "
            "per million events (Dorset term ~6.3M marks: target < 600 s)",
        ),
        *(
            _row(
                f"flagger restart, {label}",
                f.get(f"flagger_restart_s_{store}"),
                "s",
                f"SIGKILL -> start -> consuming; table recovery "
                f"{f.get(f'flagger_recovery_s_{store}') or 0:,.1f} s, "
                f"{f.get(f'flagger_restart_changelog_read_{store}') or 0:,} of "
                f"{f.get(f'flagger_restart_changelog_records_{store}') or 0:,} changelog records",
            )
            for store, label in (("rocksdb", "RocksDB"), ("memory", "memory"))
        ),
        _row(
            "flagger peak RSS",
            f.get("flagger_peak_rss_mb"),
            "MiB",
            _verdict("flagger_peak_rss_mb", f),
        ),
        _row(
            "projector peak RSS (SQLite / PG)",
            f.get("projector_peak_rss_mb_sqlite"),
            "MiB",
            f"PostgreSQL {f.get('projector_peak_rss_mb_postgres') or 0:,.0f} MiB",
        ),
        _row("ingest peak RSS", f.get("ingest_peak_rss_mb"), "MiB"),
        _row("naive Faust peak RSS", f.get("naive_faust_peak_rss_mb"), "MiB"),
        _row("broker peak RSS", f.get("broker_peak_rss_mb"), "MiB", "Tansu keeps all in memory"),
    ]
    return "\n".join(lines)


def write_json(path: Path, figures: dict[str, Any]) -> None:
    """Write the figures (sorted keys, so runs diff cleanly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, sort_keys=True) + "\n")
