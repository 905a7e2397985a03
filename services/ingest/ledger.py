"""Per source and day: received = accepted + rejected, how many accepted records the outbox
has published, and how many requests were refused whole (401, 403, 413, ...: their records
were never read, so they are not in received). `flagstream reconcile` prints these beside
what the flagger consumed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, Engine, Select, func, select

from flagstream.schema import create_tables

from .store import ledger, metadata, refusals, transfers


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One source's records of one kind on one day (the day ingest received them)."""

    source: str
    day: date
    kind: str
    received: int
    accepted: int
    rejected: int
    published: int
    refused: int = 0  # requests refused whole, not records
    refusals: tuple[tuple[str, int], ...] = ()  # (reason, requests), e.g. ("out_of_scope", 2)
    held: int = 0  # accepted records held as pending transfers: not published until confirmed

    @property
    def balanced(self) -> bool:
        """received = accepted + rejected."""
        return self.received == self.accepted + self.rejected

    @property
    def queued(self) -> int:
        """Accepted records not yet published: still in the outbox (broker away, or draining)
        or held as pending transfers (`held`)."""
        return self.accepted - self.published


def _between(
    query: Select[Any], column: ColumnElement[date], since: date | None, until: date | None
) -> Select[Any]:
    if since is not None:
        query = query.where(column >= since)
    if until is not None:
        query = query.where(column <= until)
    return query


def ingest_ledger(
    engine: Engine, since: date | None = None, until: date | None = None
) -> list[LedgerRow]:
    """The ledger of ingest's database (FLAGSTREAM_INGEST_DATABASE_URL), by day, source, kind.
    A source whose requests were all refused (e.g. `unauthenticated`) has a row with only
    `refused` set."""
    create_tables(metadata, engine, [ledger, refusals, transfers])
    counts: dict[tuple[date, str, str], list[int]] = {}
    refused: dict[tuple[date, str, str], list[tuple[str, int]]] = {}
    held: dict[tuple[date, str, str], int] = {}
    with engine.connect() as conn:
        t = transfers.c
        query = select(t.day, t.source, t.kind, func.count()).where(t.status == "pending")
        for day, source, kind, n in conn.execute(
            _between(query.group_by(t.day, t.source, t.kind), t.day, since, until)
        ):
            held[(day, source, kind)] = n
        for r in conn.execute(_between(select(ledger), ledger.c.day, since, until)):
            counts[(r.day, r.source, r.kind)] = [r.received, r.accepted, r.rejected, r.published]
        query = select(refusals).order_by(refusals.c.reason)
        for r in conn.execute(_between(query, refusals.c.day, since, until)):
            refused.setdefault((r.day, r.source, r.kind), []).append((r.reason, r.requests))
    rows = []
    for day, source, kind in sorted(counts.keys() | refused.keys()):
        received, accepted, rejected, published = counts.get((day, source, kind), [0, 0, 0, 0])
        reasons = tuple(refused.get((day, source, kind), []))
        rows.append(
            LedgerRow(
                source,
                day,
                kind,
                received,
                accepted,
                rejected,
                published,
                refused=sum(n for _, n in reasons),
                refusals=reasons,
                held=held.get((day, source, kind), 0),
            )
        )
    return rows
