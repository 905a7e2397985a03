"""Evidence of outcomes on a small hand-built read model (SQLite): every figure computed
by hand below. Children k1..k3 at Alpha (North) were flagged in Autumn 2024/25, cleared on
2024-11-01 and raised again 364, 365 and 366 days later; k4 at Beta (South) was flagged
and cleared once, never re-flagged; k5 has a SAFEGUARD re-flag that no aggregate may count.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, insert

from dashboard.evidence_charts import Reference, bar_chart
from flagstream.term_calendar import england
from readmodel import evidence
from readmodel.db import create_schema, make_engine
from readmodel.national import ReferenceDataError, load_reference
from readmodel.tables import (
    child_flags,
    children,
    flag_history,
    outcomes,
    rolls,
    school_days,
    schools,
)

AT = datetime(2025, 11, 15, tzinfo=UTC)
CLEARED = date(2024, 11, 1)
FIRST = date(2024, 10, 1)
K = {n: f"k{n}" * 32 for n in range(1, 7)}


def _interval(
    n: int, urn: str, flag: str, raised: date, cleared: date | None, prev: date | None
) -> dict[str, Any]:
    return {
        "raised_event_id": f"{n}-{flag}-{raised}",
        "child_key": K[n],
        "urn": urn,
        "flag": flag,
        "raised_on": raised,
        "raised_reason": "r",
        "rule_version": "v",
        "cleared_on": cleared,
        "cleared_reason": "c" if cleared else None,
        "cleared_rule_version": "v" if cleared else None,
        "days_raised": (cleared - raised).days if cleared else None,
        "previous_cleared_on": prev,
        "reflagged_within_12m": False,  # the query decides from the dates itself
    }


def _child(n: int, urn: str, year: int, flags: list[str]) -> dict[str, Any]:
    return {
        "child_key": K[n], "urn": urn, "nc_year": year, "sex": "F", "as_of": AT.date(),
        "possible_sessions": 100, "absent_sessions": 5, "attendance_pct": 95.0,
        "indicators": len(flags), "flags": ",".join(flags), "rule_version": "v",
        "updated_at": AT,
    }  # fmt: skip


def build(engine: Engine, create: bool = True) -> None:
    """The hand-built read model (the same rows on SQLite and PostgreSQL)."""
    if create:
        create_schema(engine)
    again = CLEARED + timedelta(days=364)
    with engine.begin() as conn:
        conn.execute(
            insert(schools),
            [
                {"urn": "100001", "name": "Alpha", "phase": "primary", "pyramid": "P",
                 "zone": "North", "updated_at": AT},
                {"urn": "200001", "name": "Beta", "phase": "primary", "pyramid": "Q",
                 "zone": "South", "updated_at": AT},
            ],
        )  # fmt: skip
        rows = []
        for n, flag, days in ((1, "ATTEND", 364), (2, "ATTEND", 365), (3, "FAMILY", 366)):
            rows.append(_interval(n, "100001", flag, FIRST, CLEARED, None))
            rows.append(_interval(n, "100001", flag, CLEARED + timedelta(days), None, CLEARED))
        rows.append(_interval(4, "200001", "ATTEND", date(2025, 9, 10), date(2025, 10, 1), None))
        rows.append(_interval(5, "100001", "SAFEGUARD", FIRST, CLEARED, None))
        rows.append(_interval(5, "100001", "SAFEGUARD", again, None, CLEARED))
        conn.execute(insert(flag_history), rows)
        conn.execute(
            insert(outcomes),
            [
                {"event_id": f"o{i}", "child_key": K[n], "urn": urn, "response": "1:1",
                 "status": status, "recorded_by": "dsl", "recorded_on": on,
                 "recorded_at": datetime(on.year, on.month, on.day, 12, tzinfo=UTC)}
                for i, (n, urn, on, status) in enumerate([
                    (1, "100001", date(2025, 11, 5), "Some progress"),  # 5 days after
                    (1, "100001", date(2025, 11, 20), "Good progress"),
                    (2, "100001", date(2025, 11, 11), "Resolved"),  # 10 days after
                    (3, "100001", date(2025, 10, 1), "No progress"),  # before its raise
                    (4, "200001", date(2025, 9, 17), "No progress"),  # 7 days after
                ])
            ],
        )  # fmt: skip
        conn.execute(
            insert(rolls),
            [
                {"child_key": K[n], "urn": "100001" if n != 4 else "200001",
                 "joined_on": date(2020, 9, 1), "left_on": None}
                for n in (1, 2, 3, 4, 5, 6)
            ],
        )  # fmt: skip
        # Register days of both autumns; none of Summer 2024/25 reached the read model.
        conn.execute(insert(school_days), [{"day": date(2024, 10, 1)}, {"day": date(2025, 11, 14)}])
        conn.execute(
            insert(children),
            [
                _child(1, "100001", 5, ["ATTEND", "FSM"]),
                _child(2, "100001", 5, ["ATTEND"]),
                _child(6, "100001", 3, ["SEN"]),
                _child(4, "200001", 2, ["ATTEND"]),
            ],
        )
        conn.execute(
            insert(child_flags),
            [
                {"child_key": K[n], "flag": f, "urn": u, "reason": "r", "tier": "",
                 "since": FIRST}
                for n, u, f in [(1, "100001", "ATTEND"), (1, "100001", "FSM"),
                                (2, "100001", "ATTEND"), (6, "100001", "SEN"),
                                (6, "100001", "SAFEGUARD"), (4, "200001", "ATTEND")]
            ],
        )  # fmt: skip


@pytest.fixture(scope="module")
def conn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Connection]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('ev') / 'read.db'}")
    build(engine)
    with engine.connect() as c:
        yield c


def check_figures(conn: Connection) -> None:
    """Every query's hand-computed answer (shared with the PostgreSQL run)."""
    cal = england()
    found = evidence.rereferrals(conn, cal)
    got = {(r.group, r.term): (r.flagged, r.reflagged, r.rate) for r in found}
    assert got == {
        ("North", "Autumn 2024/25"): (3, 0, 0.0),
        ("North", "Autumn 2025/26"): (3, 2, 66.7),  # 364 and 365 days count, 366 does not
        ("South", "Autumn 2025/26"): (1, 0, 0.0),  # cleared, never re-flagged
    }
    by_school = evidence.rereferrals(conn, cal, zone="North")
    assert {(r.group, r.group_name, r.term, r.reflagged) for r in by_school} == {
        ("100001", "Alpha", "Autumn 2024/25", 0),
        ("100001", "Alpha", "Autumn 2025/26", 2),
    }
    assert [r.group for r in evidence.rereferrals(conn, cal, urn="200001")] == ["200001"]

    flow = evidence.response_flow(conn, date(2025, 9, 3), date(2025, 12, 19))
    assert [(f.urn, f.flagged, f.responded, f.progressed, f.median_days) for f in flow] == [
        ("100001", 3, 2, 2, 7.5),  # k1 5 days, k2 10 days; k3's outcome predates its flag
        ("200001", 1, 1, 0, 7.0),
    ]

    term, trends = evidence.term_trends(conn, cal, date(2025, 11, 15))
    assert term is not None and term.name == "Autumn 2025/26"
    figures = {
        (t.urn, t.flag): (
            t.this.flagged, t.this.on_roll, t.this.rate,
            t.previous.rate if t.previous else None,
            (t.last_year.flagged, t.last_year.rate) if t.last_year else None,
        )
        for t in trends
    }  # fmt: skip
    assert figures == {
        ("100001", "ATTEND"): (2, 5, 40.0, None, (2, 40.0)),  # Summer 2024/25: no data
        ("100001", "FAMILY"): (1, 5, 20.0, None, (1, 20.0)),
        ("200001", "ATTEND"): (1, 1, 100.0, None, (0, 0.0)),
    }
    zones = {(t.urn, t.flag): t.this.flagged for t in evidence.by_zone(trends)}
    assert zones == {("North", "ATTEND"): 2, ("North", "FAMILY"): 1, ("South", "ATTEND"): 1}

    shown = ["ATTEND", "FSM", "SEN", "SAFEGUARD"]
    groups = {g.group: g for g in evidence.group_rates(conn, shown, zone="North")}
    assert list(groups) == ["All pupils", "FSM eligible", "SEN support", "Year 3", "Year 5"]
    assert (groups["All pupils"].pupils, groups["All pupils"].rate("ATTEND")) == (3, 66.7)
    assert groups["All pupils"].flagged == {"ATTEND": 2, "FSM": 1, "SEN": 1}  # no SAFEGUARD
    assert groups["FSM eligible"].rate("ATTEND") == 100.0
    assert groups["SEN support"].rate("ATTEND") == 0.0
    assert groups["Year 5"].flagged["ATTEND"] == 2
    lower = evidence.group_rates(conn, ["attend", "safeguard"], zone="North")
    assert lower[0].flagged == {"attend": 2}


def test_queries_on_a_hand_built_read_model(conn: Connection) -> None:
    check_figures(conn)


@pytest.mark.parametrize(("days", "counts"), [(364, True), (365, True), (366, False)])
def test_the_twelve_month_window(days: int, counts: bool) -> None:
    assert evidence.is_rereferral(CLEARED + timedelta(days), CLEARED) is counts
    assert evidence.is_rereferral(CLEARED, None) is False


def test_the_packaged_reference_file_loads_with_its_sources() -> None:
    ref = load_reference()
    pa = ref.for_flag("ATTEND", "Autumn")
    assert pa is not None and pa.percent == 19.1 and "Pupil absence" in pa.source
    whole = ref.for_flag("ATTEND", "Spring")
    assert whole is not None and whole.percent == 18.7
    assert ref.for_flag("fsm") == ref.for_flag("FSM") and ref.for_flag("ATTAIN") is None
    whole_year = {f.flag: f.percent for f in ref.figures if not f.term}
    assert whole_year == {"ATTEND": 18.7, "FSM": 25.7, "SEN": 14.2}
    assert all(f.url.startswith("https://") and f.published for f in ref.figures)


def test_figures_within_a_pupil_group_are_apart_from_the_all_pupils_ones() -> None:
    ref = load_reference()
    fsm = ref.for_group("ATTEND", "FSM eligible", "Autumn")
    assert fsm is not None and fsm.percent == 31.7 and fsm.published == "January 2025"
    spring = ref.for_group("ATTEND", "SEN support", "Spring")  # only an autumn figure: shown
    assert spring is not None and spring.percent == 29.0 and "autumn" in spring.label
    assert (
        ref.for_group("ATTEND", "Year 3") is None and ref.for_group("FSM", "FSM eligible") is None
    )
    assert ref.for_flag("ATTEND", "Autumn").percent == 19.1  # type: ignore[union-attr]


def test_a_missing_or_invalid_reference_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReferenceDataError, match="does not exist"):
        load_reference(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("entered = 2026-01-01\n[[figure]]\nkey = 'x'\n")
    with pytest.raises(ReferenceDataError, match="figure 1: missing flag"):
        load_reference(bad)
    bad.write_text("not = [toml")
    with pytest.raises(ReferenceDataError, match="not valid TOML"):
        load_reference(bad)
    text = load_reference().path.read_text().replace("percent = 18.7", "percent = 187")
    bad.write_text(text)
    with pytest.raises(ReferenceDataError, match="percent must be a number from 0 to 100"):
        load_reference(bad)


def test_the_chart_has_axes_labels_a_legend_and_the_reference_line() -> None:
    chart = bar_chart(
        "Re-referrals <by zone>",
        ["North", "South"],
        {"Autumn 2024/25": [0.0, None], "Autumn 2025/26": [66.7, 0.0]},
        "Per 100 flagged",
        "Zone",
        [Reference(18.7, "England 2024/25")],
    )
    svg = chart.svg
    assert svg.startswith("<svg") and "<title>Re-referrals &lt;by zone&gt;</title>" in svg
    assert "<desc>" in svg and "reference line England 2024/25 at 18.7" in chart.summary
    assert svg.count('class="axis"') == 2
    assert ">Per 100 flagged</text>" in svg and ">Zone</text>" in svg  # axis labels
    assert ">North</text>" in svg and ">South</text>" in svg  # category ticks
    assert [t in svg for t in (">0</text>", ">20</text>", ">80</text>")] == [True] * 3
    assert 'class="reference"' in svg and 'stroke-dasharray="6 4"' in svg
    assert "England 2024/25 (18.7)</text>" in svg
    assert 'class="legend"' in svg and ">Autumn 2025/26</text>" in svg
    assert svg.count("<rect") == 3 + 2  # three bars (None draws none), two legend keys
    assert "style=" not in svg and "<script" not in svg  # strict CSP
