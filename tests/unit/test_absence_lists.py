"""A school's severe, persistent and at-risk absence lists (dashboard/absence_lists.py)."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import Engine, update

from dashboard.absence_bands import banded
from flagstream.domain.rules.attend import AttendSettings
from readmodel.tables import children
from tests.browser import seed
from tests.unit.test_dashboard import audit_rows, client_for, seeded_context

A1, A2, A3, B1, _C1 = (c[0] for c in seed.CHILDREN)


def _absent(engine: Engine, key: str, absent: int) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(children).where(children.c.child_key == key).values(absent_sessions=absent)
        )


def _section(page: str, band: str) -> str:
    found = re.search(rf'<section aria-labelledby="band-{band}">(.*?)</section>', page, re.S)
    assert found is not None, band
    return found.group(1)


def test_the_school_lists_pupils_by_band_with_their_figures(tmp_path: Path) -> None:
    ctx = seeded_context(tmp_path, clock=lambda: seed.NOW)
    _absent(ctx.read_model, A2, 3)  # 3 of 40: 7.5%, at risk
    _absent(ctx.read_model, A3, 25)  # 25 of 40: severe
    page = client_for(ctx, "staff").get("/schools/100001/absence")
    assert page.status_code == 200
    severe, persistent, at_risk = (
        _section(page.text, b) for b in ("severe", "persistent", "at_risk")
    )
    assert "Cole" in severe and "62.5" in severe
    assert "Amelia Ashdown" in persistent and "15.0" in persistent and "Attend" in persistent
    assert "Ben Barrow" in at_risk and "7.5" in at_risk
    assert "Ben" not in severe + persistent and "Dev" not in page.text  # another school's
    # The child page names the band and links to it.
    staff = client_for(ctx, "staff")
    assert (
        'absence#band-at_risk">at risk of persistent absence' in staff.get(f"/children/{A2}").text
    )
    assert "absence#band-persistent" in staff.get(f"/children/{A1}").text
    rows = [r for r in audit_rows(ctx.audit_db) if r["action"] == "view_absence_lists"]
    assert len(rows) == 1 and rows[0]["urn"] == "100001"
    # The bands are the rules file's: with at risk from 8% Ben is on no list.
    ctx.attend = AttendSettings(at_risk_pct=8.0)
    again = client_for(ctx, "staff").get("/schools/100001/absence").text
    assert "Ben Barrow" not in again and "at risk from 8%" in again
    # A zone user sees the list with pseudonymous references, not names.
    zone = client_for(ctx, "north").get("/schools/100001/absence").text
    assert "Amelia" not in zone and A1 in zone


def test_another_school_sees_nothing_as_if_it_did_not_exist(tmp_path: Path) -> None:
    ctx = seeded_context(tmp_path, clock=lambda: seed.NOW)
    client = client_for(ctx, "other")
    assert (
        client.get("/schools/100001/absence").status_code
        == client.get("/schools/999999/absence").status_code
    )


def test_banded_needs_the_minimum_sessions_and_orders_by_absence() -> None:
    rows = [
        {"child_key": k, "possible_sessions": p, "absent_sessions": a, "flags": ""}
        for k, p, a in (("x", 10, 9), ("y", 100, 12), ("z", 100, 30), ("w", 100, 5))
    ]
    got = banded(rows, AttendSettings())
    assert [r["child_key"] for r in got["persistent"]] == ["z", "y"]
    assert [r["child_key"] for r in got["at_risk"]] == ["w"] and got["severe"] == []
