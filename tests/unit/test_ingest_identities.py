"""Enrolments' identities reach the identity store before ingest's transaction commits: a 202
means the names are stored too, and a failed identity write accepts nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from flagstream.identity import Identity
from flagstream.topics import Topics
from ingest.db import make_engine
from ingest.intake import Intake, Upload
from ingest.kinds import BY_NAME
from ingest.routing import Router
from ingest.store import Store, know_schools, outbox

from .test_ingest_support import CODEC, KEY, NOW, UPN

ENROLMENT = {
    "upn": UPN, "urn": "100001", "nc_year": 5, "sex": "F", "month_of_birth": "2015-03",
    "joined_on": "2021-09-01", "forename": "Ada", "surname": "Lovelace",
}  # fmt: skip


def _intake(tmp: Path, write: object) -> tuple[Intake, Store]:
    store = Store(make_engine(f"sqlite:///{tmp / 'ingest.db'}"))
    with store.engine.begin() as conn:
        know_schools(conn, ["100001"], None, NOW)
    return Intake(store, Router(Topics("t"), 3, CODEC), KEY, lambda: NOW, write), store  # type: ignore[arg-type]


def _rows(store: Store) -> int:
    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(outbox)) or 0)


def test_a_202_means_the_identity_is_stored(tmp_path: Path) -> None:
    written: list[Identity] = []
    intake, store = _intake(tmp_path, written.extend)
    outcome = intake.submit(Upload(BY_NAME["enrolment"], [ENROLMENT], "mis", "p"))
    assert outcome.status == 202 and outcome.receipt["accepted"] == 1
    assert [(i.upn, i.surname) for i in written] == [(UPN, "Lovelace")]
    assert _rows(store) == 1


def test_a_failed_identity_write_accepts_nothing(tmp_path: Path) -> None:
    def fail(_people: list[Identity]) -> None:
        raise ConnectionError("identity store away")

    intake, store = _intake(tmp_path, fail)
    with pytest.raises(ConnectionError):
        intake.submit(Upload(BY_NAME["enrolment"], [ENROLMENT], "mis", "p"))
    assert _rows(store) == 0  # nothing kept, nothing to publish: the partner's retry is whole
