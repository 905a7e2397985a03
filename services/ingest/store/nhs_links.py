"""NHS numbers' keyed hashes in ingest's database (docs/families.md): each one's link to a
child's key once an enrolment brought both numbers, and the NHS-keyed records held until
then, read and written in the upload's transaction. Only pseudonyms and encoded events."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Integer,
    LargeBinary,
    String,
    Table,
    delete,
    select,
    update,
)

from flagstream.codec import Codec

from .counts import dialect_insert
from .tables import metadata

log = logging.getLogger("flagstream.ingest")

nhs_keys = Table(
    "ingest_nhs_keys",
    metadata,
    Column("nhs_key", String(64), primary_key=True, comment="Keyed hash of the NHS number"),
    Column("child_key", String(64), nullable=True, comment="The child it is linked to, if any"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("linked_at", DateTime(timezone=True), nullable=True),
    comment="One row per NHS number seen (locked by an upload naming it): its link to a "
    "child's key once an enrolment brought both numbers",
)

nhs_records = Table(
    "ingest_nhs_records",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("nhs_key", String(64), nullable=False, index=True),
    Column("value", LargeBinary, nullable=False, comment="The event, single-object encoded"),
    comment="NHS-keyed records of a number not yet linked, published again under the child's "
    "key when an enrolment links it (then deleted)",
)

NHS_TABLES: Final = (nhs_keys, nhs_records)


def lock(conn: Connection, keys: Iterable[str], now: datetime) -> dict[str, str | None]:
    """Each NHS key's row made and held until the transaction ends (sorted, so uploads never
    deadlock; SQLite serialises writers); nhs_key -> linked child_key or None."""
    names = sorted(set(keys))
    if not names:
        return {}
    stmt = dialect_insert(conn, nhs_keys).on_conflict_do_nothing(index_elements=["nhs_key"])
    conn.execute(stmt, [{"nhs_key": k, "created_at": now} for k in names])
    query = select(nhs_keys.c.nhs_key, nhs_keys.c.child_key).where(nhs_keys.c.nhs_key.in_(names))
    if conn.dialect.name == "postgresql":
        query = query.order_by(nhs_keys.c.nhs_key).with_for_update()
    return {row.nhs_key: row.child_key for row in conn.execute(query)}


def route(conn: Connection, codec: Codec, events: Sequence[Any], now: datetime) -> list[Any]:
    """NHS-keyed events (child_key = the number's hash): those of a linked number re-keyed to
    its child; the others kept, to be published again when an enrolment links them."""
    links = lock(conn, (e.child_key for e in events), now)
    held = [e for e in events if links.get(e.child_key) is None]
    if held:
        rows = [{"nhs_key": e.child_key, "value": codec.encode(e)} for e in held]
        conn.execute(nhs_records.insert(), rows)
    return [
        e if links.get(e.child_key) is None else replace(e, child_key=links[e.child_key])
        for e in events
    ]


def link(conn: Connection, codec: Codec, pairs: Mapping[str, str], now: datetime) -> list[Any]:
    """Link NHS keys to children (nhs_key -> child_key; a number already linked keeps its first
    link); returns the records held for each newly linked number, re-keyed to its child, in
    the order they were accepted."""
    links = lock(conn, pairs, now)
    new = {n: c for n, c in pairs.items() if links.get(n) is None}
    others = sum(1 for n, c in pairs.items() if links.get(n) not in (None, c))
    if others:
        # Two pupils named with one NHS number: a data error at a partner. Said without any
        # identifier; the first link stands (docs/families.md).
        log.warning("%d enrolment(s) named an NHS number already linked to another pupil", others)
    if not new:
        return []
    for n, c in new.items():
        conn.execute(
            update(nhs_keys).where(nhs_keys.c.nhs_key == n).values(child_key=c, linked_at=now)
        )
    query = select(nhs_records).where(nhs_records.c.nhs_key.in_(new)).order_by(nhs_records.c.id)
    rows = list(conn.execute(query))
    conn.execute(delete(nhs_records).where(nhs_records.c.nhs_key.in_(new)))
    return [replace(codec.decode(bytes(r.value)), child_key=new[r.nhs_key]) for r in rows]
