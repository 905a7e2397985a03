"""Refused requests in the ingest ledger, and `flagstream keys create/list`."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagstream_tools.cli import build_parser, main
from ingest.db import make_engine
from ingest.keys import SCOPES, KeyStore, Partner
from ingest.ledger import ingest_ledger

from .test_ingest_support import NOW, UPN, Ingest, enrol, make_ingest


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path, max_records=2)


def test_refused_requests_are_counted_per_source_and_day(ingest: Ingest) -> None:
    mark = {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}
    body = {"marks": [mark]}
    path = "/v1/schools/100001/register"
    enrol(ingest, UPN, "100001")  # on the school's roll: its key may send the pupil's marks
    assert ingest.client.post(path, json=body).status_code == 401
    wrong = {"Authorization": "Bearer fsk_0.nope"}
    assert ingest.client.post(f"{path}?source=spoofed", json=body, headers=wrong).status_code == 401
    assert ingest.post("/v1/schools/100002/register", body, "school").status_code == 403
    assert ingest.post(f"{path}?source=acme", {"marks": [mark] * 3}, "school").status_code == 413
    assert ingest.post(path, body, "school").status_code == 202

    rows = {(r.source, r.kind): r for r in ingest_ledger(ingest.store.engine)}
    assert set(rows) == {
        ("unauthenticated", "attendance_mark"),  # the client's own source is not trusted
        ("mis:100002", "attendance_mark"),
        ("acme:100001", "attendance_mark"),
        ("mis:100001", "attendance_mark"),
        ("census", "enrolment"),
    }
    assert dict(rows[("unauthenticated", "attendance_mark")].refusals) == {"unauthenticated": 2}
    assert dict(rows[("mis:100002", "attendance_mark")].refusals) == {"out_of_scope": 1}
    too_many = rows[("acme:100001", "attendance_mark")]
    assert (too_many.refused, too_many.received) == (1, 0)  # its records were never read
    ok = rows[("mis:100001", "attendance_mark")]
    assert (ok.received, ok.accepted, ok.refused) == (1, 1, 0) and ok.balanced
    assert {r.day for r in rows.values()} == {NOW.date()}
    assert ingest_ledger(ingest.store.engine, since=NOW.date().replace(day=NOW.day + 1)) == []


def test_keys_create_prints_the_key_once_and_list_shows_no_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ingest.db'}"
    monkeypatch.setenv("FLAGSTREAM_INGEST_DATABASE_URL", url)
    args = ["keys", "create", "--partner", "Acme MIS", "--scope", "school", "--urn", "100001"]
    assert main(args) == 0
    key = capsys.readouterr().out.strip()
    key_id = key[4:].partition(".")[0]
    found = KeyStore(make_engine(url)).authenticate(key)
    assert found == Partner("Acme MIS", "school", "100001", key_id)
    assert main(["keys", "create", "--partner", "x", "--scope", "school"]) == 2
    assert main(["keys", "create", "--partner", "x", "--scope", "root"]) == 2
    assert main(["keys", "create", "--partner", "x", "--scope", "school", "--urn", "12"]) == 2
    assert "no key created" in capsys.readouterr().err
    assert main(["keys", "create", "--partner", "police", "--scope", "police"]) == 0
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "Acme MIS" in listing and "100001" in listing and "police" in listing
    secret = key.partition(".")[2]
    assert secret not in listing and key.split(".")[0][4:] in listing  # the id, not the secret


def test_keys_help_names_every_scope() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    keys = sub.choices["keys"]  # type: ignore[index]
    scope_help = next(a.help for a in keys._actions if a.dest == "scope")
    assert all(scope in (scope_help or "") for scope in SCOPES)
