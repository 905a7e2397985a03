"""A partner without a UPN on the real stack (docs/families.md): the early-years extension
loaded by every process (FLAGSTREAM_EXTENSIONS=flagstream.early_years); a health-visiting key
sends a check by NHS number; the child, not yet in school, is flagged EY under the number's
key; an enrolment brings the UPN and the NHS number, and the check joins the child's state:
EY on the pupil, the number's own row gone (one child, not two); `flagstream reconcile`
agrees; no NHS number is on any topic."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, select

from flagstream.rules_file import DEFAULT_RULES_FILE
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county
from ingest.db import make_engine as ingest_engine
from ingest.keys import create_key
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import children
from tests.extensions import early_years_loaded
from tests.integration.test_extension_stream import _child_key, _topic_bytes
from tests.integration.test_reconcile_cli import _flagstream

NHS = "9434765919"  # synthetic, with a valid check digit


@pytest.fixture
def early_years(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    rules = tmp_path / "rules.toml"
    rules.write_text(DEFAULT_RULES_FILE.read_text() + "\n[flags.EY]\nenabled = true\n")
    monkeypatch.setenv("FLAGSTREAM_EXTENSIONS", "flagstream.early_years")
    monkeypatch.setenv("FLAGSTREAM_RULES_FILE", str(rules))
    with early_years_loaded():  # here too: the stack makes the topics from this process
        yield


def _flags(engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        rows = conn.execute(select(children.c.child_key, children.c.flags)).all()
    return {k: (flags or "").split(",") for k, flags in rows}


def test_an_nhs_keyed_record_joins_the_child_once_the_enrolment_arrives(
    early_years: None, tmp_path: Path
) -> None:
    county = make_county("tiny", seed=5)
    pupil = next(p for p in county.pupils if p.nc_year <= 1)
    checked = date.today() - timedelta(days=40)
    with Stack(tmp_path / "stack", partitions=3) as stack:
        health = create_key(ingest_engine(stack.ingest_database_url), "health-visiting", "health")
        check = {
            "nhs_number": "943 476 5919",
            "setting": "EY900123",
            "zone": "North",
            "check_ref": "HV-2-YEAR-0042",
            "checked_on": checked.isoformat(),
            "on_track": "false",
        }
        with httpx.Client(
            base_url=stack.ingest_url.replace(stack.api_key, health), timeout=60
        ) as c:
            r = c.post(
                "/v1/streams/early_years",
                json={"records": [check, {**check, "nhs_number": "9434765918"}]},
            )
        assert r.status_code == 202, r.text
        assert (r.json()["accepted"], r.json()["rejected"]) == (1, 1)
        assert "invalid_nhs_number" in r.text and NHS not in r.text

        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        nhs_key = _child_key(stack, f"nhs:{NHS}")  # the same keyed hash ingest makes
        assert "EY" in _flags(engine)[nhs_key]  # not yet in school: flagged on its own key

        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            schools = [
                {"urn": s.urn, "name": s.name, "phase": s.phase, "pyramid": s.pyramid,
                 "zone": s.zone}
                for s in county.schools if s.urn == pupil.urn
            ]  # fmt: skip
            assert client.post("/v1/schools", json={"schools": schools}).status_code == 202
            enrolment = {
                "upn": pupil.upn, "urn": pupil.urn, "nc_year": pupil.nc_year, "sex": pupil.sex,
                "month_of_birth": pupil.month_of_birth, "joined_on": pupil.joined_on.isoformat(),
                "nhs_number": NHS,
            }  # fmt: skip
            r = client.post("/v1/enrolments", json={"enrolments": [enrolment]})
            assert r.status_code == 202 and r.json()["accepted"] == 1, r.text
        stack.wait_caught_up(projected, timeout=120)
        flags = _flags(engine)
        engine.dispose()
        assert "EY" in flags[_child_key(stack, pupil.upn)]  # the check joined the child
        assert nhs_key not in flags  # one child, not two

        done = _flagstream(stack.env(), "reconcile", "--as-of", checked.isoformat())
        assert done.returncode == 0, done.stdout + done.stderr
        assert "no differences" in done.stdout
        data = _topic_bytes(stack)
        assert NHS.encode() not in data and b"943 476 5919" not in data
        assert b"HV-2-YEAR-0042" not in data
