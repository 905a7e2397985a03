"""Live pages over real HTTP: the dashboard served by uvicorn, streams read by httpx, changes
written by the projector's own writer into the seeded read model. A subscribed page receives
the row a projector commit changed; every view class gets only what it may see; a page of
another school gets nothing; a signed-out session's stream ends; the table answers 304."""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from dashboard.app import create_app
from dashboard.context import Context
from flagstream.domain import events as ev
from flagstream_tools.broker import free_port, wait_for_port
from projector.writer import Consumed, project
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, csrf_of, seeded_context

A1, A2, A3, _B1, C1 = (c[0] for c in seed.CHILDREN)
_offsets = iter(range(1000, 10**6))


@dataclass
class Server:
    url: str
    ctx: Context


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp: Path = tmp_path_factory.mktemp("live")
    ctx = seeded_context(tmp, live_recheck_seconds=0.5, live_stream_seconds=30.0)
    port = free_port()
    app = create_app(ctx, "s" * 40, secure_cookies=False)
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    wait_for_port("127.0.0.1", port, 20, "dashboard")
    try:
        yield Server(f"http://127.0.0.1:{port}", ctx)
    finally:
        srv.should_exit = True
        thread.join(10)


def signed_in(server: Server, username: str) -> httpx.Client:
    client = httpx.Client(base_url=server.url, timeout=10)
    token = csrf_of(client.get("/login").text)
    data = {"username": username, "password": seed.PASSWORD, "csrf_token": token}
    assert client.post("/login", data=data).status_code in (200, 303)
    return client


@dataclass
class Stream:
    """A page's event stream read in a thread: (event, data) pairs as they arrive."""

    client: httpx.Client
    path: str
    events: queue.Queue[tuple[str, Any]] = field(default_factory=queue.Queue)
    opened: threading.Event = field(default_factory=threading.Event)

    def start(self) -> Stream:
        threading.Thread(target=self._read, daemon=True).start()
        assert self.opened.wait(10), f"{self.path} did not open"
        return self

    def _read(self) -> None:
        event = ""
        try:
            with self.client.stream("GET", self.path, timeout=None) as reply:
                self.events.put(("status", reply.status_code))
                for line in reply.iter_lines():
                    if line.startswith("retry:"):
                        self.opened.set()
                    elif line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        self.events.put((event, json.loads(line[6:])))
        except httpx.HTTPError:
            pass
        finally:
            self.opened.set()
            self.events.put(("closed", None))

    def next(self, kind: str, timeout: float = 5.0) -> Any:
        """The data of the next event of this kind (failing after `timeout`)."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            try:
                got, data = self.events.get(timeout=left)
            except queue.Empty:
                break
            if got == kind:
                return data
        raise AssertionError(f"no {kind!r} event on {self.path} within {timeout}s")

    def drained(self) -> list[tuple[str, Any]]:
        out = []
        while not self.events.empty():
            out.append(self.events.get_nowait())
        return out


def snapshot(key: str, urn: str, year: int, flags: list[ev.ActiveFlag]) -> Consumed:
    now = seed.NOW
    event = ev.ChildFlagsSnapshot(
        event_id=uuid.uuid4(),
        source="flagger",
        occurred_at=now,
        recorded_at=now,
        child_key=key,
        urn=urn,
        nc_year=year,
        sex="F",
        as_of=seed.TODAY,
        possible_sessions=40,
        absent_sessions=8,
        flags=flags,
        rule_version="2026.1",
    )
    return Consumed("flagstream.child-flags", 0, next(_offsets), event)


def commit(ctx: Context, *records: Consumed) -> float:
    with ctx.read_model.begin() as conn:
        project(conn, list(records))
    return time.time()


def test_a_commit_reaches_each_class_with_only_what_it_may_see(server: Server) -> None:
    pages = {
        "dsl": Stream(signed_in(server, "dsl"), "/live/schools/100001").start(),
        "staff": Stream(signed_in(server, "staff"), "/live/schools/100001").start(),
        "north": Stream(signed_in(server, "north"), "/live/schools/100001").start(),
        "other": Stream(signed_in(server, "other"), "/live/schools/200001").start(),
        "zone": Stream(signed_in(server, "boss"), "/live/zones/North%20Zone").start(),
    }
    time.sleep(0.3)  # the hub has read the version each page started from
    before = len(audit_rows(server.ctx.audit_db))
    raised = [
        ev.ActiveFlag(flag="ATTEND", reason="attendance 80.0%", raised_on=date(2026, 10, 2)),
        ev.ActiveFlag(flag="SAFEGUARD", reason="notification", raised_on=date(2026, 10, 2)),
    ]
    committed = commit(server.ctx, snapshot(A3, "100001", 6, raised))

    dsl = pages["dsl"].next("rows")
    assert time.time() - committed < 2.0
    assert list(dsl["rows"]) == [A3] and dsl["gone"] == []
    row = dsl["rows"][A3]
    assert "Cole" in row and "UPN C823456789012" in row and "DSL only, since 2026-10-02" in row
    assert dsl["at"][A3] == pytest.approx(committed, abs=2.0)

    staff = pages["staff"].next("rows")["rows"][A3]
    assert "Cole" in staff and "UPN" not in staff
    assert "DSL only" not in staff and "notification" not in staff
    assert staff.count("&#9679; Yes") == 1  # ATTEND only: the sealed flag is not there at all

    north = pages["north"].next("rows")["rows"][A3]
    assert "Cole" not in north and f"Child {A3[:8]}" in north and "DSL only" not in north

    zone = pages["zone"].next("schools")
    assert list(zone["rows"]) == ["100001"]  # the one school whose counts changed
    assert "Cole" not in zone["rows"]["100001"]

    time.sleep(0.5)
    assert [e for e, _ in pages["other"].drained() if e in ("rows", "schools")] == []
    rows = [
        r for r in audit_rows(server.ctx.audit_db)[before:] if r["action"] == "live_school_rows"
    ]
    assert sorted(str(r["username"]) for r in rows) == ["dsl", "north", "staff"]
    assert {(r["urn"], r["rows"], r["page"]) for r in rows} == {
        ("100001", 1, "/live/schools/100001")
    }


def test_a_change_nobody_can_see_is_not_sent_and_a_move_removes_the_row(server: Server) -> None:
    staff = Stream(signed_in(server, "staff"), "/live/schools/100001").start()
    other = Stream(signed_in(server, "other"), "/live/schools/200001").start()
    time.sleep(0.3)
    # A2 moves to Southmere First: gone from 100001's page, new on 200001's.
    commit(server.ctx, snapshot(A2, "200001", 3, []))
    assert staff.next("rows")["gone"] == [A2]
    assert list(other.next("rows")["rows"]) == [A2]


def test_reconnect_catches_up_from_the_last_event_id(server: Server) -> None:
    client = signed_in(server, "staff")
    with server.ctx.read() as conn:
        from readmodel.changes import version

        seq = version(conn).seq
    commit(server.ctx, snapshot(A1, "100001", 5, []))  # while the page was away
    page = Stream(client, f"/live/schools/100001?since={seq}").start()
    caught = page.next("rows")
    assert A1 in caught["rows"] and caught["seq"] > seq


def test_a_signed_out_session_ends_its_stream(server: Server) -> None:
    client = signed_in(server, "staff")
    page = Stream(client, "/live/schools/100001").start()
    token = csrf_of(client.get("/schools/100001").text)
    client.post("/logout", data={"csrf_token": token})
    page.next("ended", timeout=5.0)
    page.next("closed", timeout=5.0)
    again = client.get("/live/schools/100001")
    assert again.status_code == 401


def test_out_of_scope_stream_is_403_like_absent(server: Server) -> None:
    client = signed_in(server, "other")
    real, absent = client.get("/live/schools/100001"), client.get("/live/schools/999999")
    assert (real.status_code, absent.status_code) == (403, 403) and real.text == absent.text
    zone = signed_in(server, "north")
    assert zone.get("/live/zones/South%20Zone").status_code == 403


def test_the_table_fragment_answers_304_until_the_read_model_changes(server: Server) -> None:
    client = signed_in(server, "staff")
    first = client.get("/schools/100001/table")
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    before = len(audit_rows(server.ctx.audit_db))
    same = client.get("/schools/100001/table", headers={"If-None-Match": tag})
    assert (same.status_code, same.content) == (304, b"")
    assert len(audit_rows(server.ctx.audit_db)) == before  # nothing shown, nothing to audit
    other_query = client.get("/schools/100001/table?year=5", headers={"If-None-Match": tag})
    assert other_query.status_code == 200
    assert (
        signed_in(server, "dsl")
        .get("/schools/100001/table", headers={"If-None-Match": tag})
        .status_code
        == 200
    )  # another viewer's tag is never theirs
    commit(server.ctx, snapshot(A1, "100001", 5, []))
    changed = client.get("/schools/100001/table", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
