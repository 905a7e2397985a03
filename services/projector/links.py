"""NHS links in the read model (docs/families.md): once an enrolment links an NHS number's key
to a child's key, the number's own rows (a child known only by it, flagged from NHS-keyed
records) go from `children` and `child_flags`, and a later snapshot of it is not written -
the child's records are projected under the child's key, so the read model shows one child."""

from __future__ import annotations

from collections.abc import Collection, Mapping, MutableMapping
from typing import Any

from sqlalchemy import Connection, select

from readmodel.tables import child_flags, child_links, child_places, children

from . import bulk


def apply_links(
    conn: Connection,
    snapshots: MutableMapping[str, Any],
    links: Mapping[str, str],
    places: MutableMapping[str, Any] | None = None,
) -> None:
    """Record the batch's links (a number's first link stands), drop the snapshots and places
    of linked numbers' keys from the batch, and delete the rows of the numbers linked now."""
    places = {} if places is None else places
    if links:
        rows = [{"nhs_key": n, "child_key": c} for n, c in links.items()]
        bulk.write(conn, child_links, rows, "nothing")
        for table in (child_flags, children, child_places):
            bulk.delete_keys(conn, table, "child_key", list(links))
    keys = set(snapshots) | set(places)
    if not keys:
        return
    for nhs_key in _linked(conn, keys):
        snapshots.pop(nhs_key, None)
        places.pop(nhs_key, None)


def _linked(conn: Connection, keys: Collection[str]) -> list[str]:
    """Which of these keys are linked NHS numbers' keys. PostgreSQL joins an unnest of the
    keys: `= ANY(array)` was planned as a scan (24 ms a 500-snapshot batch, 1.3 ms joined)."""
    if conn.dialect.name == "postgresql":
        sql = (
            "SELECT l.nhs_key FROM child_links l "
            "JOIN unnest(%b::varchar[]) AS k(v) ON l.nhs_key = k.v"
        )
        return [row[0] for row in conn.exec_driver_sql(sql, (list(keys),))]
    query = select(child_links.c.nhs_key).where(bulk.one_of(conn, child_links.c.nhs_key, keys))
    return list(conn.scalars(query))
