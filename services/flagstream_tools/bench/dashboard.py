"""The benchmark's dashboard stage: signed-in users with a school or zone page open on the
real `flagstream dashboard` process, projected changes written through the projector's own
writer, and the time from each change's commit to its arrival in every page that shows it.

Users are ~70% school staff (every fifth a DSL) spread over the schools and ~30% zone staff
on their zone page. Each change is a snapshot toggling one child's FSM flag, so the school's
row and its zone's counts both change. The clients run as a separate process
(bench/live_clients.py); the dashboard, the clients and this driver share the two cores."""

from __future__ import annotations

import json
import math
import random
import secrets
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from argon2 import PasswordHasher
from sqlalchemy import Engine, select

from dashboard.users import Role, User, write_users
from flagstream.domain import events as ev
from flagstream_tools.bench.resources import ServiceEnv
from flagstream_tools.broker import free_port, wait_for_port
from flagstream_tools.processes import ServiceProcess
from projector.writer import Consumed, project
from readmodel.db import make_engine
from readmodel.tables import child_flags, children, schools

# Users, changes driven, and polling users for the old-way comparison, per preset.
SIZES: dict[str, tuple[int, int, int]] = {"tiny": (40, 8, 10), "small": (400, 40, 100)}
_GAP_S = 0.25  # between two changes
# Cheap hashes for the bench's own users: sign-in cost is not what this stage measures.
_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def _say(text: str) -> None:
    print(text, flush=True)


def _pct(samples: list[float], p: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _users(engine: Engine, n: int, seed: int) -> tuple[list[User], list[dict[str, str]]]:
    with engine.connect() as conn:
        found = sorted(conn.execute(select(schools.c.urn, schools.c.zone)).all())
    urns = [u for u, _z in found]
    zones = sorted({z for _u, z in found})
    users, specs = [], []
    for i in range(n):
        password = secrets.token_hex(8)
        if i % 10 < 7:
            urn = urns[i % len(urns)]
            role: Role = "dsl" if i % 5 == 0 else "school"
            user = User(f"bench{i}", role, urn, _HASHER.hash(password))
            stream, table = f"/live/schools/{urn}", f"/schools/{urn}/table"
        else:
            zone = zones[i % len(zones)]
            user = User(f"bench{i}", "zone", zone, _HASHER.hash(password))
            stream = table = f"/live/zones/{quote(zone)}"
            table = f"/zones/{quote(zone)}"
        users.append(user)
        specs.append(
            {"username": user.username, "password": password, "stream": stream, "table": table}
        )
    random.Random(seed).shuffle(specs)
    return users, specs


def _toggle(engine: Engine, urn: str, rng: random.Random, offset: int) -> float:
    """Write one snapshot through the projector: a child of `urn` with FSM toggled."""
    with engine.begin() as conn:
        keys = list(conn.scalars(select(children.c.child_key).where(children.c.urn == urn)))
        key = rng.choice(keys)
        row = conn.execute(select(children).where(children.c.child_key == key)).one()
        cf = child_flags.c
        flags = [
            ev.ActiveFlag(flag=r.flag, reason=r.reason, raised_on=r.since, tier=r.tier)
            for r in conn.execute(select(child_flags).where(cf.child_key == key))
            if r.flag != "FSM"
        ]
        if "FSM" not in (row.flags or "").split(","):
            flags.append(ev.ActiveFlag(flag="FSM", reason="bench", raised_on=row.as_of))
        now = datetime.now(UTC)
        event = ev.ChildFlagsSnapshot(
            event_id=uuid.uuid4(),
            source="bench",
            occurred_at=now,
            recorded_at=now,
            child_key=key,
            urn=urn,
            nc_year=row.nc_year,
            sex=row.sex,
            as_of=row.as_of,
            possible_sessions=row.possible_sessions,
            absent_sessions=row.absent_sessions,
            flags=flags,
            rule_version=row.rule_version,
            term_start=row.term_start,
            term_possible_sessions=row.term_possible_sessions,
            term_absent_sessions=row.term_absent_sessions,
        )
        project(conn, [Consumed("bench.live-changes", 0, offset, event)])
    return time.time()


def _clients(
    workdir: Path, logs: Path, url: str, mode: str, users: list[dict[str, str]], seconds: float
) -> tuple[ServiceProcess, Path]:
    folder = workdir / f"live-{mode}"
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"url": url, "mode": mode, "users": users, "seconds": seconds}
    spec["result"] = str(folder / "result.json")
    (folder / "spec.json").write_text(json.dumps(spec))
    env = {"BENCH_LIVE_SPEC": str(folder / "spec.json")}
    proc = ServiceProcess(
        [],
        env,
        logs / f"live-{mode}.log",
        name=f"live-{mode}",
        module="flagstream_tools.bench.live_clients",
    ).start()
    return proc, folder


def _await(proc: ServiceProcess, path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        proc.check()
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path.name} not written after {timeout:g}s")
        time.sleep(0.1)


def _run(
    workdir: Path,
    logs: Path,
    url: str,
    mode: str,
    users: list[dict[str, str]],
    engine: Engine,
    changes: int,
    rng: random.Random,
    timeout: float,
    dash: ServiceProcess,
) -> tuple[dict[str, Any], list[tuple[str, float]], float]:
    proc, folder = _clients(workdir, logs, url, mode, users, timeout)
    try:
        _await(proc, folder / "READY", timeout)
        opened = time.time()
        urns = sorted({u["stream"].rsplit("/", 1)[1] for u in users if "/schools/" in u["stream"]})
        made: list[tuple[str, float]] = []
        for i in range(changes):
            urn = urns[i % len(urns)]
            made.append(
                (urn, _toggle(engine, urn, rng, 10**9 + i + (0 if mode == "stream" else 10**6)))
            )
            dash.sample()
            time.sleep(_GAP_S)
        time.sleep(4.0 if mode == "poll" else 1.0)  # the last change's arrivals
        elapsed = time.time() - opened
        (folder / "STOP").write_text("")
        _await(proc, folder / "result.json", 30)
        return json.loads((folder / "result.json").read_text()), made, elapsed
    finally:
        proc.stop()


def measure(
    env: ServiceEnv, workdir: Path, logs: Path, preset: str, timeout: float
) -> dict[str, Any]:
    """Run the stage against the bench's SQLite read model; returns its figures."""
    n_users, n_changes, n_pollers = SIZES.get(preset, SIZES["small"])
    base = env()
    engine = make_engine(base["FLAGSTREAM_DATABASE_URL"])
    users, specs = _users(engine, n_users, 7)
    users_file = workdir / "dashboard-users.json"
    write_users(users_file, users)
    port = free_port()
    dash = ServiceProcess.flagstream(
        "dashboard",
        env(
            FLAGSTREAM_DASHBOARD_USERS_FILE=str(users_file),
            FLAGSTREAM_DASHBOARD_SECRET=secrets.token_hex(32),
            FLAGSTREAM_DASHBOARD_PORT=str(port),
            FLAGSTREAM_DASHBOARD_SECURE_COOKIES="false",
            FLAGSTREAM_DASHBOARD_AUDIT_DATABASE_URL=f"sqlite:///{workdir / 'audit.db'}",
            FLAGSTREAM_DASHBOARD_LOGIN_MAX_FAILURES="100000",
        ),
        logs,
    ).start()
    url = f"http://127.0.0.1:{port}"
    rng = random.Random(11)
    f: dict[str, Any] = {"dashboard_users": n_users}
    try:
        wait_for_port("127.0.0.1", port, 60.0, "dashboard")
        got, made, elapsed = _run(
            workdir, logs, url, "stream", specs, engine, n_changes, rng, timeout, dash
        )
        ms = [s[2] * 1000 for s in got["samples"]]
        f |= {
            "dashboard_changes": len(made),
            "dashboard_arrivals": len(ms),
            "dashboard_p50_ms": _pct(ms, 50),
            "dashboard_p95_ms": _pct(ms, 95),
            "dashboard_p99_ms": _pct(ms, 99),
            "dashboard_max_ms": max(ms, default=0.0),
            "dashboard_events_per_s": len(ms) / elapsed if elapsed else 0.0,
        }
        _say(
            f"  {n_users} signed-in pages streaming, {len(made)} changes, {len(ms):,} arrivals: "
            f"p50 {f['dashboard_p50_ms']:,.0f} ms, p95 {f['dashboard_p95_ms']:,.0f} ms, "
            f"p99 {f['dashboard_p99_ms']:,.0f} ms"
        )
        pollers = [u for u in specs if "/schools/" in u["table"]][:n_pollers]
        got, made, elapsed = _run(
            workdir, logs, url, "poll", pollers, engine, max(2, n_changes // 4), rng, timeout, dash
        )
        polls = got["samples"]
        took = [(end - start) * 1000 for _w, _p, start, end, _s in polls]
        arrivals = []
        for urn, at in made:
            for u in pollers:
                if u["table"] != f"/schools/{urn}/table":
                    continue
                # Each poller of that school sees the change with its first poll after the commit.
                ends = [e for w, _p, s, e, _s in polls if w == u["username"] and s >= at]
                if ends:
                    arrivals.append((min(ends) - at) * 1000)
        f |= {
            "dashboard_poll_users": len(pollers),
            "dashboard_poll_requests_per_s": len(polls) / elapsed if elapsed else 0.0,
            "dashboard_poll_request_p50_ms": _pct(took, 50),
            "dashboard_poll_request_p95_ms": _pct(took, 95),
            "dashboard_poll_arrival_p50_ms": _pct(arrivals, 50),
            "dashboard_poll_arrival_p95_ms": _pct(arrivals, 95),
        }
        _say(
            f"  old way, {len(pollers)} pages polling the table every 3 s: "
            f"{f['dashboard_poll_requests_per_s']:,.1f} requests/s, request p50 "
            f"{f['dashboard_poll_request_p50_ms']:,.0f} ms; change to page p50 "
            f"{f['dashboard_poll_arrival_p50_ms']:,.0f} ms, "
            f"p95 {f['dashboard_poll_arrival_p95_ms']:,.0f} ms"
        )
    finally:
        dash.stop()
        f["dashboard_peak_rss_mb"] = dash.peak_mb
        engine.dispose()
    return f


if __name__ == "__main__":
    sys.exit("run through `flagstream bench` (bench/runner.py)")
