"""Orchestrates `flagstream bench`: every stage in one run, on one embedded broker (plus a
fresh one for the rebuild), in an order that keeps the stages from competing for the cores."""

from __future__ import annotations

import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flagstream.codec import Codec
from flagstream.settings import Settings
from flagstream.topics import Topics, create_topics
from flagstream_tools.bench import dashboard as dashboard_stage
from flagstream_tools.bench import e2e, inputs, raw, stages
from flagstream_tools.bench.handler_only import handler_rate
from flagstream_tools.bench.presets import SIZES, BenchPreset
from flagstream_tools.bench.rebuild import rebuild
from flagstream_tools.bench.report import machine, table, write_json
from flagstream_tools.bench.resources import (
    PARTITIONS,
    ServiceEnv,
    check_postgres,
    create_database,
    drop_database,
)
from flagstream_tools.bench.restart import restarts
from flagstream_tools.broker import EmbeddedBroker, free_port, wait_for_port
from flagstream_tools.processes import ServiceProcess, peak_rss_mb
from ingest.pseudonymise import Pseudonymiser
from readmodel.db import make_engine


@dataclass(frozen=True, slots=True)
class BenchOptions:
    """What `flagstream bench` was asked to do."""

    preset: BenchPreset
    seed: int
    rate: float
    workdir: Path
    json_path: Path
    postgres_admin_url: str
    profile: bool = False


def _say(text: str) -> None:
    print(text, flush=True)


def _broker_peak(broker: EmbeddedBroker) -> float | None:
    proc = getattr(broker, "_proc", None)  # EmbeddedBroker does not expose its pid
    return peak_rss_mb(proc.pid) if proc is not None else None


def run_bench(options: BenchOptions) -> dict[str, Any]:
    """Run every stage; print the table; write and return the figures."""
    began = time.monotonic()
    if options.postgres_admin_url:
        check_postgres(options.postgres_admin_url)
    size = SIZES[options.preset]
    workdir = options.workdir.resolve()
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    logs = workdir / "logs"
    f: dict[str, Any] = {"preset": options.preset, "seed": options.seed, "machine": machine()}
    codec, key, topics = Codec(), secrets.token_hex(32), Topics()
    work = inputs.workload(options.preset, options.seed, codec, key)
    f["events"] = work.events
    f["event_mix"] = dict(work.kinds)
    profile = workdir / "profile" / "handler.prof" if options.profile else None
    f["handler_events"], f["flagger_handler_events_per_s"] = handler_rate(
        work, codec, Settings().rules(), PARTITIONS, profile
    )
    _say(f"  flagger handler alone: {f['flagger_handler_events_per_s']:,.0f} events/s")

    procs: dict[str, ServiceProcess] = {}
    pg_name = ""
    broker = EmbeddedBroker(log_path=logs / "broker.log").start()
    try:
        create_topics(broker.bootstrap, topics, PARTITIONS)
        env = ServiceEnv(workdir, broker.bootstrap, key)
        _say(f"[1/8] raw aiokafka rates on the embedded broker {broker.bootstrap}")
        singles = [m for m in work.canonical if m.events == 1][:5000]
        batches = [m for m in work.canonical if m.kind == "attendance_mark"]
        single = raw.measure(
            broker.bootstrap, "bench.raw-single", singles, size.raw_messages, size.timeout_s
        )
        n_batches = max(200, min(len(batches), size.raw_messages // 20))
        batch = raw.measure(broker.bootstrap, "bench.raw-batch", batches, n_batches, size.timeout_s)
        per_batch = sum(m.events for m in batches) / max(len(batches), 1)
        f |= {
            "raw_produce_per_s": single.produce_per_s,
            "raw_consume_per_s": single.consume_per_s,
            "raw_single_bytes": single.mean_bytes,
            "raw_produce_batches_per_s": batch.produce_per_s,
            "raw_consume_batches_per_s": batch.consume_per_s,
            "raw_batch_bytes": batch.mean_bytes,
            "raw_marks_per_batch": per_batch,
            "raw_consume_marks_per_s": batch.consume_per_s * per_batch,
        }
        _say(
            f"  single events: produce {single.produce_per_s:,.0f}/s, "
            f"consume {single.consume_per_s:,.0f}/s; register batches: "
            f"produce {batch.produce_per_s:,.0f}/s, consume {batch.consume_per_s:,.0f}/s"
        )

        _say("[2/8] naive per-event Faust agent (one table update + one send per event)")
        marks = inputs.single_marks(work, codec, size.naive_events)
        naive, f["naive_faust_peak_rss_mb"] = stages.run_naive(
            broker.bootstrap, marks, workdir, size.timeout_s
        )
        f["naive_faust_events_per_s"] = naive.per_s
        _say(f"  {naive.per_s:,.0f} events/s")

        _say("[3/8] flagger on the realistic mix (the real `flagstream flagger` process)")
        f["preload_s"] = stages.produce(
            broker.bootstrap, work.messages, "preloading canonical topics"
        )
        procs["flagger"] = ServiceProcess.flagstream("flagger", env(), logs).start()
        rate = stages.run_flagger(
            procs["flagger"],
            broker.bootstrap,
            topics,
            env.ports["flagger"],
            work.events,
            size.timeout_s,
        )
        f["flagger_events_per_s"] = rate.per_s
        f["flagger_s"] = rate.seconds
        f["flagger_vs_naive"] = rate.per_s / naive.per_s if naive.per_s else None
        _say(f"  {rate.per_s:,.0f} events/s ({rate.seconds:,.1f}s)")

        _say("[4/8] projector on SQLite (the real `flagstream projector` process)")
        procs["projector"] = ServiceProcess.flagstream("projector", env(), logs).start()
        f |= _project("sqlite", procs["projector"], env, broker.bootstrap, size.timeout_s)

        _say(f"[5/8] end to end through ingest at {options.rate:,.0f} marks/s offered")
        api_key = env.api_key(r.urn for r in work.later)
        procs["ingest"] = ServiceProcess.flagstream("ingest", env(), logs).start()
        wait_for_port("127.0.0.1", env.ports["ingest"], 60.0, "ingest")
        engine = make_engine(env()["FLAGSTREAM_DATABASE_URL"])
        try:
            fresh = e2e.measure(
                f"http://127.0.0.1:{env.ports['ingest']}",
                api_key,
                engine,
                work.later,
                options.rate,
                size.timeout_s,
                Pseudonymiser(key.encode()),
            )
        finally:
            engine.dispose()
        f |= {
            "e2e_p50_ms": fresh.percentile(50),
            "e2e_p95_ms": fresh.percentile(95),
            "e2e_p99_ms": fresh.percentile(99),
            "e2e_max_ms": max(fresh.samples_ms, default=0.0),
            **{
                f"e2e_{part}_p{p}_ms": fresh.percentile(p, samples)
                for part, samples in (
                    ("to_flagger", fresh.to_flagger_ms),
                    ("after_flagger", fresh.after_flagger_ms),
                )
                for p in (50, 99)
            },
            "e2e_rows": len(fresh.samples_ms),
            "e2e_rows_missing": fresh.missing,
            "e2e_marks": fresh.marks,
            "e2e_offered_marks_per_s": fresh.offered_per_s,
            "e2e_poll_ms": e2e.POLL_S * 1000,
        }
        _say(
            f"  p50 {f['e2e_p50_ms']:,.0f} ms, p95 {f['e2e_p95_ms']:,.0f} ms, "
            f"p99 {f['e2e_p99_ms']:,.0f} ms over {len(fresh.samples_ms):,} rows"
        )
        _say(
            f"  202 -> flagger: p50 {f['e2e_to_flagger_p50_ms']:,.0f} ms, p99 "
            f"{f['e2e_to_flagger_p99_ms']:,.0f} ms; flagger -> committed row: p50 "
            f"{f['e2e_after_flagger_p50_ms']:,.0f} ms, p99 {f['e2e_after_flagger_p99_ms']:,.0f} ms"
        )

        _say("[6/8] flagger restart after SIGKILL at the end of the term: RocksDB, then memory")
        f |= restarts(procs, env, logs, broker.bootstrap, work, size.timeout_s)

        _say("[7/8] projector on PostgreSQL (fresh database, dropped afterwards)")
        if options.postgres_admin_url:
            pg_name, pg_url = create_database(options.postgres_admin_url)
            env.ports["projector"] = free_port()
            procs["projector-pg"] = ServiceProcess.flagstream(
                "projector", env(pg_url), logs, "projector-pg"
            ).start()
            f |= _project(
                "postgres", procs["projector-pg"], env, broker.bootstrap, size.timeout_s, pg_url
            )
        else:
            f["projector_rows_per_s_postgres"] = None
            _say("  skipped (--postgres '')")
        f["broker_peak_rss_mb"] = _broker_peak(broker)
    finally:
        names = {
            "flagger": "flagger_peak_rss_mb",
            "projector": "projector_peak_rss_mb_sqlite",
            "projector-pg": "projector_peak_rss_mb_postgres",
            "ingest": "ingest_peak_rss_mb",
        }
        for name, proc in procs.items():
            proc.stop()
            f[names.get(name, name.replace("-", "_") + "_peak_rss_mb")] = proc.peak_mb
        broker.stop()
        if pg_name:
            drop_database(options.postgres_admin_url, pg_name)

    # On the SQLite read model the stages above left, with the pipeline stopped: the clients,
    # the dashboard and the driver have the two cores to themselves.
    _say("[7b/8] dashboard: signed-in users with a live school or zone page open")
    f |= dashboard_stage.measure(env, workdir, logs, options.preset, size.timeout_s)

    _say("[8/8] rebuild: fresh flagger and projector on a fresh broker holding the same topics")
    f |= rebuild(work, workdir / "rebuild", key, size.timeout_s)
    f["flagger_peak_rss_mb"] = max(
        f.get("flagger_peak_rss_mb") or 0.0, f.get("rebuild_flagger_peak_rss_mb") or 0.0
    )
    f["rebuild_s_per_million_events"] = f["rebuild_s"] / work.events * 1e6
    f["bench_s"] = time.monotonic() - began
    _say("")
    _say(table(f))
    write_json(options.json_path, f)
    _say(f"\nfigures: {options.json_path}  logs: {logs}  (bench took {f['bench_s']:,.0f}s)")
    return f


def _project(
    db: str, proc: ServiceProcess, env: ServiceEnv, bootstrap: str, timeout: float, url: str = ""
) -> dict[str, Any]:
    """Run one projector over everything on its topics; its figures under the db's name."""
    ends = stages.projector_input(bootstrap, Topics())
    rate, rows = stages.run_projector(
        proc, env(url)["FLAGSTREAM_DATABASE_URL"], env.ports["projector"], ends, timeout
    )
    rows_per_s = rows / rate.seconds if rate.seconds else 0.0
    _say(
        f"  {rows_per_s:,.0f} rows/s ({rows:,} rows written in {rate.seconds:,.1f}s, from "
        f"{rate.items:,} Kafka records: {rate.per_s:,.0f} records/s)"
    )
    # Rows, not Kafka records: one record may carry a thousand snapshots or partner events.
    return {
        f"projector_rows_per_s_{db}": rows_per_s,
        f"projector_rows_written_{db}": rows,
        f"projector_records_{db}": sum(ends.values()),
        f"projector_records_per_s_{db}": rate.per_s,
    }
