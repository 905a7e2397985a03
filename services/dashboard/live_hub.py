"""One watcher per dashboard process: it polls the read model's change counter (one row),
and when the projector has committed a change it computes, once per view class, the rows
that changed and pushes the same fragment to every open page of that class."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from starlette.concurrency import run_in_threadpool

from readmodel import changes

from . import audit
from .authz import Principal
from .context import Context
from .live_views import SchoolView, View, ZoneView, school_rows, zone_rows

log = logging.getLogger("flagstream.dashboard.live")

# What a stream is told when it must end (its session ended, or it fell too far behind).
CLOSE = "close"


@dataclass(eq=False)
class Subscriber:
    """One open page: who, which view class, the version it has been sent up to."""

    who: Principal
    token: str
    view: View
    sent: int
    queue: asyncio.Queue[str] = field(default_factory=lambda: asyncio.Queue(maxsize=64))
    checked: float = field(default_factory=time.monotonic)

    def push(self, message: str) -> None:
        """Queue a message; a page too slow to read its stream is closed, and its browser
        reconnects with the last id it got, so the catch-up sends it what it missed."""
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(CLOSE)


def sse(event: str, seq: int, data: object) -> str:
    """One server-sent event (its data one JSON line)."""
    return f"id: {seq}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class LiveHub:
    """The process's open live pages and the one task that feeds them."""

    def __init__(self, ctx: Context, poll_s: float = 0.1) -> None:
        self.ctx = ctx
        self.poll_s = poll_s
        self._subs: set[Subscriber] = set()
        self._sent: dict[View, dict[str, str]] = {}  # row key -> HTML last sent, per class
        self._seq: int | None = None
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def open_streams(self) -> int:
        return len(self._subs)

    def version(self) -> int:
        """The read model's change counter now."""
        with self.ctx.read() as conn:
            return changes.version(conn).seq

    def join(self, who: Principal, token: str, view: View, since: int) -> Subscriber:
        """Add a page that has seen the read model up to `since` (the version its HTML
        showed, or the last event id it got): it is first sent whatever changed after."""
        self._ensure_running()
        sub = Subscriber(who, token, view, since)
        self._subs.add(sub)
        return sub

    def prime(self, view: View, rows: dict[str, str]) -> None:
        """What a new class's pages show now, so its first change sends only what differs."""
        self._sent.setdefault(view, rows)

    def leave(self, sub: Subscriber) -> None:
        self._subs.discard(sub)
        if not any(s.view == sub.view for s in self._subs):
            self._sent.pop(sub.view, None)

    def _ensure_running(self) -> None:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self._task = loop.create_task(self._watch(), name="live-hub")

    async def _watch(self) -> None:
        while True:
            try:
                await self._tick()
            except Exception:  # a failed read must not end live updates for everyone
                log.exception("live updates: checking the read model failed; retrying")
            await asyncio.sleep(self.poll_s)

    async def _tick(self) -> None:
        seq = await run_in_threadpool(self.version)
        if self._seq is None:
            self._seq = seq
        previous = self._seq
        behind = [s for s in self._subs if s.sent < seq]
        if not behind:
            self._seq = seq
            return
        groups: dict[tuple[View, int], list[Subscriber]] = {}
        for s in behind:
            groups.setdefault((s.view, s.sent), []).append(s)
        sent = await run_in_threadpool(self._compute, groups, seq, previous)
        for key, message in sent.items():
            for s in groups[key]:
                if message:
                    s.push(message)
                s.sent = seq
        self._seq = seq

    def _compute(
        self, groups: dict[tuple[View, int], list[Subscriber]], seq: int, previous: int
    ) -> dict[tuple[View, int], str]:
        """Per (class, version sent) the message its pages get ('' if nothing they show
        changed), each computed once under the scope of one viewer of the class. Pages that
        were sent `previous` get only rows unlike those last sent; a page catching up from
        an older version gets every row changed since."""
        with self.ctx.read() as conn:
            schools = changes.schools_since(conn, min(sent for _v, sent in groups))
        out: dict[tuple[View, int], str] = {}
        for (view, since), subs in groups.items():
            if isinstance(view, SchoolView):
                out[(view, since)] = self._school(view, since, subs, schools, seq, previous)
            elif any(v.seq > since for v in schools.values()):
                out[(view, since)] = self._zone(view, since, subs[0].who, seq, schools, previous)
            else:
                out[(view, since)] = ""
        return out

    def _school(
        self,
        view: SchoolView,
        since: int,
        subs: list[Subscriber],
        schools: dict[str, changes.Version],
        seq: int,
        previous: int,
    ) -> str:
        changed = schools.get(view.urn)
        if changed is None or changed.seq <= since:
            return ""
        who = subs[0].who
        with self.ctx.read_as(who) as conn:
            keys = changes.children_since(conn, view.urn, since)
        rows, gone = school_rows(self.ctx, who, view, keys)
        fresh = self._unlike_last(view, rows, since == previous)
        for k in gone:
            self._sent[view].pop(k, None)
        if not fresh and not gone:
            return ""
        at = {k: keys[k].epoch for k in [*fresh, *gone]}
        self._audit(subs, view, len(fresh))
        return sse("rows", seq, {"seq": seq, "rows": fresh, "gone": gone, "at": at})

    def _zone(
        self,
        view: ZoneView,
        since: int,
        who: Principal,
        seq: int,
        schools: dict[str, changes.Version],
        previous: int,
    ) -> str:
        rows = zone_rows(self.ctx, who, view)
        fresh = self._unlike_last(view, rows, since == previous)
        if not fresh:
            return ""
        at = {k: schools[k].epoch for k in fresh if k in schools}
        return sse("schools", seq, {"seq": seq, "rows": fresh, "gone": [], "at": at})

    def _unlike_last(self, view: View, rows: dict[str, str], current: bool) -> dict[str, str]:
        """The rows unlike those the class's current pages were last sent (all of them for
        a page catching up); remembers them for the next change."""
        last = self._sent.setdefault(view, {})
        if not current:
            return rows
        fresh = {k: html for k, html in rows.items() if last.get(k) != html}
        last.update(fresh)
        return fresh

    def _audit(self, subs: Iterable[Subscriber], view: SchoolView, rows: int) -> None:
        """A row per page sent children's rows, written before they are sent."""
        now = self.ctx.clock()
        with self.ctx.audit_db.begin() as conn:
            for s in subs:
                entry = audit.AuditEntry(
                    now,
                    s.who.username,
                    s.who.role,
                    "live_school_rows",
                    view.page,
                    urn=view.urn,
                    rows=rows,
                )
                audit.append(conn, entry)
