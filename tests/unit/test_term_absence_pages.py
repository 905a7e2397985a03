"""Term to date on the dashboard: the child page beside the year to date, and the school's
absence lists banded by the term to date (`?by=term`) with both figures on every row."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import Engine, update

from dashboard.absence_bands import banded, term_to_date
from flagstream.domain.rules.attend import AttendSettings
from flagstream.term_calendar import england, parse_term_calendar
from readmodel.tables import children
from tests.browser import seed
from tests.unit.test_absence_lists import _section
from tests.unit.test_dashboard import audit_rows, client_for, seeded_context

A1, A2, A3, _B1, _C1 = (c[0] for c in seed.CHILDREN)
AUTUMN = date(2026, 9, 2)


def _figures(engine: Engine, key: str, year: tuple[int, int], term: tuple[int, int]) -> None:
    """A child's (absent, possible) year and term to date, as the projector writes them."""
    with engine.begin() as conn:
        conn.execute(
            update(children)
            .where(children.c.child_key == key)
            .values(
                absent_sessions=year[0],
                possible_sessions=year[1],
                term_start=AUTUMN if term[1] else None,
                term_absent_sessions=term[0],
                term_possible_sessions=term[1],
            )
        )


def _seeded(tmp_path: Path):  # type: ignore[no-untyped-def]
    ctx = seeded_context(tmp_path, clock=lambda: seed.NOW)
    _figures(ctx.read_model, A1, (6, 40), (2, 30))  # year: persistent; term: at risk
    _figures(ctx.read_model, A2, (3, 40), (3, 22))  # year: at risk; term: persistent
    _figures(ctx.read_model, A3, (1, 40), (0, 0))  # no term known
    return ctx


def test_the_lists_band_by_the_term_to_date_when_asked(tmp_path: Path) -> None:
    ctx = _seeded(tmp_path)
    staff = client_for(ctx, "staff")
    by_year = staff.get("/schools/100001/absence").text
    assert "Amelia Ashdown" in _section(by_year, "persistent")
    assert "Ben Barrow" in _section(by_year, "at_risk")
    # Every row shows both: Ben's term is 3 of 22 (13.6%) beside his year's 3 of 40 (7.5%).
    ben = _section(by_year, "at_risk")
    assert "3 / 40" in ben and "7.5" in ben and "3 / 22" in ben and "13.6" in ben
    by_term = staff.get("/schools/100001/absence?by=term").text
    assert "Ben Barrow" in _section(by_term, "persistent")
    assert "Amelia Ashdown" in _section(by_term, "at_risk") and "6.7" in by_term
    assert "Cole" not in by_term and "this term to date (Autumn 2026/27" in by_term
    assert 'href="/schools/100001/absence">school year to date</a>' in by_term
    # Anything else is the year to date; each view is audited, saying which.
    assert staff.get("/schools/100001/absence?by=week").text.count("Ben Barrow") == 1
    rows = [r for r in audit_rows(ctx.audit_db) if r["action"] == "view_absence_lists"]
    assert [r["detail"] for r in rows] == ["by year", "by term", "by year"]
    assert [r["rows"] for r in rows] == [2, 2, 2]


def test_scoping_is_the_same_by_term(tmp_path: Path) -> None:
    ctx = _seeded(tmp_path)
    other = client_for(ctx, "other")
    assert (
        other.get("/schools/100001/absence?by=term").status_code
        == other.get("/schools/999999/absence?by=term").status_code
        == 403
    )
    zone = client_for(ctx, "north").get("/schools/100001/absence?by=term").text
    assert "Ben" not in zone and A2 in zone  # pseudonymous references, not names


def test_the_child_page_shows_the_term_beside_the_year(tmp_path: Path) -> None:
    ctx = _seeded(tmp_path)
    staff = client_for(ctx, "staff")
    amelia = staff.get(f"/children/{A1}").text
    assert "school year to date: 85.0% (34 of 40 possible sessions)" in amelia
    assert "Autumn 2026/27 to date (from 2026-09-02): 93.3% (28 of 30 possible sessions)" in amelia
    assert "Term to date: not known yet." in staff.get(f"/children/{A3}").text


def test_term_to_date_names_the_councils_term() -> None:
    row = {"term_start": date(2027, 1, 11), "term_possible_sessions": 10, "term_absent_sessions": 1}
    council = parse_term_calendar(
        '[[half_term]]\nlabel = "Spring 1"\nschool_year = "2026/27"\n'
        "starts = 2027-01-11\nends = 2027-02-12\n"
    )
    got = term_to_date(row, council)
    assert got is not None and (got.name, got.attended, got.attendance_pct) == (
        "Spring 2026/27",
        9,
        90.0,
    )
    assert term_to_date({**row, "term_start": None}, england()) is None


def test_banded_by_term_needs_the_minimum_term_sessions() -> None:
    rows = [
        {"child_key": k, "possible_sessions": 100, "absent_sessions": 12, "flags": "",
         "term_possible_sessions": p, "term_absent_sessions": a}
        for k, p, a in (("x", 19, 10), ("y", 30, 3), ("z", 40, 2))
    ]  # fmt: skip
    got = banded(rows, AttendSettings(), "term")
    assert got["severe"] == [] and [r["child_key"] for r in got["persistent"]] == ["y"]
    assert [(r["child_key"], r["term_pct"], r["year_pct"]) for r in got["at_risk"]] == [
        ("z", 5.0, 12.0)
    ]
