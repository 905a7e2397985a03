"""The demo's closing report: five flags per zone, projected beside the batch oracle."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Engine

from flagstream.domain.rules import RuleConfig
from flagstream.settings import Settings
from flagstream_tools.eventlog import EventLog
from flagstream_tools.oracle import recompute_children
from flagstream_tools.reconcile import (
    Difference,
    by_zone,
    differences,
    from_oracle,
    from_read_model,
    ledger_lines,
    render_differences,
    render_ledger,
    render_zones,
)
from readmodel.queries import county_trend
from readmodel.tables import children, restricted_flags


@dataclass(frozen=True, slots=True)
class Reconciled:
    """The per-zone table and the children whose projected flags differ from the oracle's."""

    table: str
    differences: list[Difference]
    projected_children: int

    def render(self) -> str:
        """The table, then the differences (or that there are none)."""
        return f"{self.table}\n{render_differences(self.differences)}"


def reconcile(engine: Engine, log: EventLog, rules: RuleConfig, as_of: date) -> Reconciled:
    """Recompute from the log with plain code; compare with the read model child by child."""
    flags = sorted(rules.flags)
    # The services' term calendar (FLAGSTREAM_TERM_CALENDAR), as the flagger's.
    calendar = Settings().calendar()
    expected = from_oracle(recompute_children(log.events, as_of, rules, calendar=calendar))
    with engine.connect() as conn:
        projected = from_read_model(conn, children, flags, restricted_flags)
    table = render_zones(
        by_zone(projected, log.zones, flags), by_zone(expected, log.zones, flags), flags
    )
    return Reconciled(table, differences(expected, projected), len(projected))


def ledger(ingest_database_url: str, log: EventLog) -> tuple[str, bool]:
    """Ingest's ledger beside the records read off the topics; True when all reconcile."""
    from ingest.ledger import ingest_ledger
    from readmodel.db import make_engine

    lines = ledger_lines(ingest_ledger(make_engine(ingest_database_url)), log.on_topics)
    return render_ledger(lines), all(line.ok for line in lines)


def trend(engine: Engine, width: int = 40) -> str:
    """Children with any flag per simulated school day, as a small bar chart."""
    with engine.connect() as conn:
        rows: Sequence[tuple[date, int]] = county_trend(conn)
    if not rows:
        return "(no trend rows yet)"
    top = max(n for _, n in rows) or 1
    return "\n".join(
        f"{day:%a %d %b}  {n:>6,}  {'#' * max(1, round(width * n / top))}" for day, n in rows
    )
