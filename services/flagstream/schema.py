"""Creating tables when several processes may start at once on the same database."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine, MetaData, Table
from sqlalchemy.exc import OperationalError, ProgrammingError


def create_tables(
    metadata: MetaData, engine: Engine, tables: Sequence[Table] | None = None, tries: int = 3
) -> None:
    """metadata.create_all, tolerating another process creating the same table between
    the existence check and the CREATE (e.g. ingest and the validator starting together)."""
    for attempt in range(tries):
        try:
            metadata.create_all(engine, tables=tables)
            return
        except (OperationalError, ProgrammingError) as exc:
            if "already exists" not in str(exc) or attempt == tries - 1:
                raise
