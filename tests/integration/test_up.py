"""`flagstream up` as a real process on the embedded broker: records sent through ingest with
the key it made reach the read model; stopped by SIGTERM (exit 0) and started again on the
same work folder, it keeps its key and secrets, ingest republishes its durable record onto
the new broker and the read model is rebuilt to the same children and flags; the dashboard
answers and lets the first admin sign in, and a service killed with -9 under it is started
again by the supervisor."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from flagstream_tools.broker import free_port
from flagstream_tools.generator import make_county
from flagstream_tools.generator.households import enrolment_json
from readmodel.db import make_engine
from readmodel.flag_tables import child_flags
from readmodel.status import read_status
from readmodel.tables import children
from tests.unit.test_dashboard import csrf_of

CHILD_COLUMNS = ("child_key", "urn", "nc_year", "sex", "as_of", "indicators", "flags")


def _metrics_base() -> int:
    """A free port with the three above it free too (up's four metrics ports)."""
    while True:
        base = free_port()
        try:
            for port in range(base + 1, base + 4):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue


def _wait(
    what: str, check: Callable[[], Any], proc: subprocess.Popen[bytes], timeout: float
) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        assert proc.poll() is None, f"flagstream up exited with {proc.returncode} ({what})"
        try:
            found = check()
        except Exception:  # the read model not made yet
            found = None
        if found:
            return found
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


class Up:
    """One `flagstream up` process, its output in files."""

    def __init__(self, workdir: Path, ports: list[int], run: int) -> None:
        self.out, self.err = workdir.parent / f"up-{run}.out", workdir.parent / f"up-{run}.err"
        ingest, dashboard, broker, metrics = ports
        argv = [sys.executable, "-m", "flagstream_tools.cli", "up", "--workdir", str(workdir),
                "--ingest-port", str(ingest), "--dashboard-port", str(dashboard),
                "--broker-port", str(broker), "--metrics-port", str(metrics),
                "--partitions", "2"]  # fmt: skip
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLAGSTREAM_SMTP")}
        with open(self.out, "wb") as out, open(self.err, "wb") as err:
            self.proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)

    def said(self, text: str) -> bool:
        return text in self.out.read_text()

    def logged(self, text: str) -> bool:
        return text in self.err.read_text()

    def child(self, command: str) -> int | None:
        """The pid of the `flagstream <command>` process it started."""
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                argv = (entry / "cmdline").read_bytes().split(b"\0")
            except (OSError, IndexError, ValueError):
                continue
            if ppid == self.proc.pid and command.encode() in argv:
                return int(entry.name)
        return None

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)


def _read_model(url: str) -> tuple[set[tuple[Any, ...]], set[tuple[Any, ...]]]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            kids = set(conn.execute(select(*(children.c[c] for c in CHILD_COLUMNS))).tuples())
            flags = set(conn.execute(select(child_flags)).tuples())
    finally:
        engine.dispose()
    return kids, flags


def _caught_up(url: str, after: datetime) -> bool:
    """The projector has measured both lags at zero since `after`."""
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            status = read_status(conn)
    finally:
        engine.dispose()
    return bool(
        status is not None
        and status.checked_at is not None
        and status.checked_at > after
        and status.flagger_lag == 0
        and status.projector_lag == 0
    )


def _family_flags(url: str) -> int:
    return sum(1 for row in _read_model(url)[1] if row[1] == "FAMILY")  # (child_key, flag, ...)


def test_up_keeps_its_work_folder_and_rebuilds_the_same_read_model(tmp_path: Path) -> None:
    workdir = tmp_path / "up"
    ports = [free_port(), free_port(), free_port(), _metrics_base()]
    ingest, dashboard = f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    url = f"sqlite:///{workdir / 'flagstream.db'}"
    up = Up(workdir, ports, 1)
    try:
        _wait("ready", lambda: up.said("ready: the read model is current"), up.proc, 60)
        key = (workdir / "ingest-api-key").read_text().strip()
        secrets = {n: (workdir / n).read_text() for n in ("pseudonym-key", "admin-password")}
        county = make_county("tiny", seed=3)
        pupils = county.pupils[:6]
        schools = [{"urn": s.urn, "name": s.name, "phase": s.phase, "pyramid": s.pyramid,
                    "zone": s.zone} for s in county.schools]  # fmt: skip
        opened = (date.today() - timedelta(days=20)).isoformat()
        cases = [{"upn": p.upn, "case_id": f"SF-{n}", "opened_on": opened,
                  "outcome_areas": ["housing"]} for n, p in enumerate(pupils[:2])]  # fmt: skip
        with httpx.Client(base_url=ingest, headers={"X-API-Key": key}, timeout=30) as client:
            for path, body in (
                ("/v1/schools", {"schools": schools}),
                ("/v1/enrolments", {"enrolments": [enrolment_json(p) for p in pupils]}),
                ("/v1/family-cases", {"records": cases}),
            ):
                r = client.post(path, json=body)
                assert r.status_code == 202 and r.json()["rejected"] == 0, r.text
        _wait("both FAMILY flags", lambda: _family_flags(url) == 2, up.proc, 60)
        seen = datetime.now(UTC)
        _wait("the pipeline caught up", lambda: _caught_up(url, seen), up.proc, 30)
        before = _read_model(url)
        assert len(before[0]) >= 2 and len(before[1]) >= 2
        assert up.stop() == 0
        assert up.said("stopped")
    finally:
        if up.proc.poll() is None:
            up.proc.kill()

    again = Up(workdir, ports, 2)
    try:
        _wait("ready again", lambda: again.said("ready: the read model is current"), again.proc,
              90)  # fmt: skip
        assert again.said("starting again on")
        assert again.said("read model rebuilding")  # the progress of the rebuild was shown
        assert (workdir / "ingest-api-key").read_text().strip() == key
        assert {n: (workdir / n).read_text() for n in secrets} == secrets
        assert _read_model(url) == before
        assert httpx.get(f"{dashboard}/healthz", timeout=10).status_code == 200
        with httpx.Client(base_url=dashboard, timeout=10) as web:  # the first admin's login
            form = {"username": "admin", "password": secrets["admin-password"].strip(),
                    "csrf_token": csrf_of(web.get("/login").text)}  # fmt: skip
            assert web.post("/login", data=form).status_code == 303

        killed = _wait("the dashboard process", lambda: again.child("dashboard"), again.proc, 10)
        os.kill(killed, signal.SIGKILL)
        _wait("the restart logged", lambda: again.logged("dashboard exited with -9"), again.proc,
              10)  # fmt: skip
        restarted = _wait(
            "a new dashboard", lambda: (p := again.child("dashboard")) != killed and p, again.proc,
            10,
        )  # fmt: skip
        assert restarted != killed

        def healthy() -> bool:
            return httpx.get(f"{dashboard}/healthz", timeout=5).status_code == 200

        _wait("the dashboard answering again", healthy, again.proc, 30)
        assert again.stop() == 0
    finally:
        if again.proc.poll() is None:
            again.proc.kill()
