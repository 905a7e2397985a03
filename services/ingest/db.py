"""Opening ingest's databases (the durable record, the identity store) and writing the
identity and restricted stores."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine

from flagstream import identity, restricted
from flagstream.engine import make_engine as _make_engine
from flagstream.schema import create_tables


def make_engine(url: str) -> Engine:
    """An engine for ingest's databases, always durable: a 202 promises the upload is stored,
    so SQLite keeps full fsync (the read model, rebuilt from the log, relaxes it:
    readmodel.db.make_engine). The one way ingest, its tools and tests open them."""
    return _make_engine(url, durable=True)


def identity_writer(engine: Engine) -> Callable[[list[identity.Identity]], None]:
    """Creates the identity table if missing; returns a function that records identities."""
    create_tables(identity.metadata, engine)

    def write(people: list[identity.Identity]) -> None:
        # One row per child per statement (PostgreSQL refuses to upsert a key twice at once).
        latest = {p.child_key: p for p in people}
        with engine.begin() as conn:
            identity.record(conn, latest.values())

    return write


def restricted_writer(engine: Engine) -> Callable[[list[restricted.Details]], None]:
    """Creates the restricted store's table if missing (it lives in the identity database);
    returns a function that records notifications' details."""
    create_tables(identity.metadata, engine)

    def write(details: list[restricted.Details]) -> None:
        with engine.begin() as conn:
            restricted.record(conn, details)

    return write
