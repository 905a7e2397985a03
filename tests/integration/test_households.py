"""The family around the child on the real stack (embedded broker, ingest, Faust flagger,
projector): a family-support case on a household raises FAMILY for siblings at two schools,
the brother's enrolment naming the household arriving only after the case; a case naming only
a household (no UPN) reaches the child enrolled in it later; `flagstream reconcile` (the
oracle from the topics) agrees and the ledger balances - each case counted once; the household
reference is on no topic (docs/families.md)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select

from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county
from flagstream_tools.generator.households import enrolment_json
from flagstream_tools.generator.model import Pupil
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import children
from tests.integration.test_extension_stream import _child_key, _topic_bytes
from tests.integration.test_reconcile_cli import _flagstream

HOUSEHOLD = "HH-DORSET-0042"


def _enrolment(p: Pupil, household: str | None) -> dict[str, object]:
    return {**enrolment_json(p), "household_ref": household}


def test_a_household_case_raises_family_for_siblings_at_two_schools(tmp_path: Path) -> None:
    county = make_county("tiny", seed=5)
    sister = county.pupils[0]
    brother = next(p for p in county.pupils if p.urn != sister.urn)
    other = next(p for p in county.pupils if p.urn == sister.urn and p is not sister)
    outsider = next(p for p in county.pupils if p.urn == sister.urn and p not in (sister, other))
    opened = date.today() - timedelta(days=20)
    with Stack(tmp_path / "stack", partitions=3) as stack:
        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            schools = [
                {"urn": s.urn, "name": s.name, "phase": s.phase, "pyramid": s.pyramid,
                 "zone": s.zone}
                for s in county.schools
            ]  # fmt: skip
            assert client.post("/v1/schools", json={"schools": schools}).status_code == 202
            first = [
                _enrolment(sister, HOUSEHOLD),
                _enrolment(other, None),
                _enrolment(outsider, None),
            ]
            r = client.post("/v1/enrolments", json={"enrolments": first})
            assert r.status_code == 202 and r.json()["accepted"] == 3, r.text
            case = {
                "upn": sister.upn,
                "case_id": "SF-2026-17",
                "opened_on": opened.isoformat(),
                "outcome_areas": ["housing", "finance"],
                "household_ref": HOUSEHOLD,
            }
            r = client.post("/v1/family-cases", json={"records": [case]})
            assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
            # A case on a second household naming no child (no UPN held), before any child.
            alone = {**case, "upn": None, "case_id": "SF-2026-18", "household_ref": "HH-0043"}
            r = client.post("/v1/family-cases", json={"records": [alone]})
            assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
            # The brother's school names the household after the case was opened; the other
            # pupil's school names the second household.
            late = [_enrolment(brother, HOUSEHOLD.lower()), _enrolment(other, "HH-0043")]
            r = client.post("/v1/enrolments", json={"enrolments": late})
            assert r.status_code == 202 and r.json()["accepted"] == 2, r.text
            assert HOUSEHOLD not in r.text

        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        key = {p.upn: _child_key(stack, p.upn) for p in (sister, brother, other, outsider)}
        with engine.connect() as conn:
            rows = conn.execute(select(children.c.child_key, children.c.urn, children.c.flags))
            flagged = {k: (urn, (flags or "").split(",")) for k, urn, flags in rows}
        engine.dispose()
        assert "FAMILY" in flagged[key[sister.upn]][1]
        assert "FAMILY" in flagged[key[brother.upn]][1]
        assert flagged[key[sister.upn]][0] != flagged[key[brother.upn]][0]  # two schools
        assert "FAMILY" in flagged[key[other.upn]][1]  # by the case naming only the household
        assert "FAMILY" not in flagged.get(key[outsider.upn], ("", []))[1]  # in no household

        done = _flagstream(stack.env(), "reconcile", "--as-of", opened.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no differences" in done.stdout
        assert b"HH-DORSET-0042" not in _topic_bytes(stack)
        assert b"hh-dorset-0042" not in _topic_bytes(stack)
