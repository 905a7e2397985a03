"""NHS links in the read model (docs/families.md): once an enrolment links an NHS number's key
to a child's key, the number's own rows (a child known only by it, flagged from NHS-keyed
records) go from `children` and `child_flags`, and a later snapshot of it is not written -
the child's records are projected under the child's key, so the read model shows one child."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
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
    query = select(child_links.c.nhs_key).where(bulk.one_of(conn, child_links.c.nhs_key, keys))
    for nhs_key in conn.scalars(query):
        snapshots.pop(nhs_key, None)
        places.pop(nhs_key, None)
