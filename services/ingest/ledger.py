"""Per source and day: received = accepted + rejected, and how many accepted records the
outbox has published. `flagstream reconcile` prints these beside what the flagger consumed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine, select

from .store import ledger


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

    @property
    def balanced(self) -> bool:
        """received = accepted + rejected."""
        return self.received == self.accepted + self.rejected

    @property
    def queued(self) -> int:
        """Accepted records still in the outbox (broker away, or draining)."""
        return self.accepted - self.published


def ingest_ledger(
    engine: Engine, since: date | None = None, until: date | None = None
) -> list[LedgerRow]:
    """The ledger of ingest's database (FLAGSTREAM_INGEST_DATABASE_URL), by day, source, kind."""
    query = select(ledger).order_by(ledger.c.day, ledger.c.source, ledger.c.kind)
    if since is not None:
        query = query.where(ledger.c.day >= since)
    if until is not None:
        query = query.where(ledger.c.day <= until)
    ledger.metadata.create_all(engine, tables=[ledger])
    with engine.connect() as conn:
        return [
            LedgerRow(r.source, r.day, r.kind, r.received, r.accepted, r.rejected, r.published)
            for r in conn.execute(query)
        ]
