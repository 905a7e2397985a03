"""No log line, error body or traceback of a failed write carries a UPN, a name, a police
reference or circumstances: the identity store and the outbox are made to refuse every row
(a constraint no row satisfies), everything is logged at DEBUG (SQLAlchemy included), and
every trace is searched for the synthetic values."""

from __future__ import annotations

import ast
import logging
import traceback
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

import ingest.db as ingest_db
from flagstream.domain.upn import make_upn
from flagstream.engine import make_engine
from flagstream.metrics import service_metrics
from flagstream.topics import Topics
from ingest.http.app import create_app
from ingest.intake import Intake, Upload
from ingest.keys import KeyStore, create_key
from ingest.kinds import BY_NAME
from ingest.pseudonymise import Pseudonymiser
from ingest.routing import Router
from ingest.store import Store

from ..conftest import PG_ADMIN_URL
from ..unit.test_ingest_support import CODEC, NOW

UPN = make_upn(835, 4242, 2019, 7)
FORENAME, SURNAME = "Quintessa", "Vandermolen"
POLICE_REFERENCE = "OPENC-SYNTH-990077"
CIRCUMSTANCES = "synthetic-circumstances-marmalade-ladder"
SECRETS = (UPN, FORENAME, SURNAME, POLICE_REFERENCE, CIRCUMSTANCES)
ENROLMENT = {
    "upn": UPN, "urn": "100001", "nc_year": 5, "sex": "F", "month_of_birth": "2015-03",
    "joined_on": "2021-09-01", "forename": FORENAME, "surname": SURNAME,
}  # fmt: skip
NOTIFICATION = {
    "upn": UPN, "urn": "100001", "incident_on": "2025-09-08", "child_present": True,
    "police_reference": POLICE_REFERENCE, "circumstances": CIRCUMSTANCES,
}  # fmt: skip
NOTIFIED = "domestic_abuse_notification"
SERVICES = Path(__file__).resolve().parents[2] / "services"


@pytest.fixture(params=["sqlite", "postgresql"])
def urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[str], str]]:
    """name -> URL of a fresh database on this backend."""
    made: list[str] = []
    if request.param == "sqlite":
        yield lambda name: f"sqlite:///{tmp_path / name}.db"
        return
    request.getfixturevalue("postgres_url")  # starts the cluster if it is stopped
    admin = make_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")

    def fresh(name: str) -> str:
        db = f"flagstream_hyg_{name}_{len(made)}_{id(made) % 100000}"
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{db}"'))
        made.append(db)
        return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{db}"

    try:
        yield fresh
    finally:
        with admin.connect() as conn:
            for db in made:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()


def refuse_rows(engine: Engine, tables: list[str]) -> None:
    """Make every insert into `tables` fail the way a constraint violation does."""
    with engine.begin() as conn:
        for table in tables:
            if conn.dialect.name == "postgresql":
                conn.execute(
                    text(f"ALTER TABLE {table} ADD CONSTRAINT refuse_all CHECK (false) NOT VALID")
                )
            else:
                conn.execute(
                    text(
                        f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} "
                        "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                    )
                )


def leaks(where: str) -> list[str]:
    return [s for s in SECRETS if s.lower() in where.lower()]


def _traceback(call: Callable[[], Any]) -> str:
    """The whole traceback (causes included) `call` raises, as a service would print it."""
    try:
        call()
    except Exception as exc:
        return "".join(traceback.format_exception(exc))
    raise AssertionError("the write was expected to fail")


def test_failed_identity_and_outbox_writes_log_no_personal_data(
    urls: Callable[[str], str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="sqlalchemy")  # its INFO lines carry statements
    store = Store(make_engine(urls("ingest")))
    identity_db = make_engine(urls("identity"))
    writers: dict[str, Any] = {"identities": ingest_db.identity_writer(identity_db)}
    restricted = getattr(ingest_db, "restricted_writer", None)  # the restricted store, if built
    if restricted is not None:
        writers["restricted"] = restricted(identity_db)
    router, pseudonymise = Router(Topics("t"), 3, CODEC), Pseudonymiser(b"k" * 32)
    intake = Intake(store, router, pseudonymise, lambda: NOW, **writers)
    key = create_key(store.engine, "test", "all")
    client = TestClient(
        create_app(intake, KeyStore(store.engine), service_metrics("ingest")),
        raise_server_exceptions=False,
    )
    headers = {"Authorization": f"Bearer {key}"}
    uploads = [
        ("/v1/enrolments", {"enrolments": [ENROLMENT]}, "enrolment"),
        ("/v1/domestic-abuse-notifications", {"records": [NOTIFICATION]}, NOTIFIED),
    ]
    traces: list[str] = []

    def attempt(phase: str, kinds: set[str]) -> None:
        for path, body, kind in uploads:
            if kind not in kinds:
                continue
            answer = client.post(path, json=body, headers=headers)
            assert answer.status_code >= 500, (phase, path, answer.status_code, answer.text)
            traces.append(f"{phase} {path} -> {answer.status_code} {answer.text}")
            records = body.get("enrolments") or body["records"]
            upload = Upload(BY_NAME[kind], records, "test", "test")
            traces.append(_traceback(partial(intake.submit, upload, wait_s=0)))

    # 0. The school and the child are known (ingest binds partner records to the roll), so
    # the writes below fail for the reason the test gives them; these succeed, and are
    # logged at DEBUG too.
    school = {"urn": "100001", "name": "Synthetic Primary", "phase": "primary",
              "pyramid": "P", "zone": "Z"}  # fmt: skip
    for path, body in (("/v1/schools", {"schools": [school]}), uploads[0][:2]):
        answer = client.post(path, json=body, headers=headers)
        assert answer.status_code == 202 and answer.json()["accepted"] == 1, answer.text
    # 1. The outbox refuses every row (the identity store would take them).
    refuse_rows(store.engine, ["ingest_outbox"])
    attempt("outbox", {"enrolment", NOTIFIED})
    with store.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE ingest_outbox DROP CONSTRAINT refuse_all"))
        else:
            conn.execute(text("DROP TRIGGER refuse_ingest_outbox"))
    # 2. The identity store refuses every row (identities, and the restricted store's).
    with identity_db.connect() as conn:
        found = {
            t
            for t in ("identities", "safeguarding_notifications")
            if identity_db.dialect.has_table(conn, t)
        }
    refuse_rows(identity_db, sorted(found))
    attempt("identity", {"enrolment", *([NOTIFIED] if restricted else [])})
    traces.append(_traceback(lambda: writers["identities"]([_identity()])))

    logged = caplog.text + "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    assert "INSERT INTO identities" in logged  # SQLAlchemy's lines were captured
    assert not leaks(logged), f"logged: {leaks(logged)}"
    for trace in traces:
        assert not leaks(trace), f"{leaks(trace)} in:\n{trace}"


def _identity() -> Any:
    from flagstream.identity import Identity

    return Identity("k" * 64, "100001", UPN, FORENAME, SURNAME, NOW)


def test_every_engine_hides_parameters(tmp_path: Path) -> None:
    assert make_engine(f"sqlite:///{tmp_path / 'x.db'}").hide_parameters
    assert make_engine("postgresql+psycopg://u@127.0.0.1:1/x").hide_parameters
    for path in SERVICES.rglob("*.py"):
        if path == SERVICES / "flagstream" / "engine.py":
            continue  # forces hide_parameters on every engine it makes (asserted above)
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("create_engine"):
                hidden = [k for k in node.keywords if k.arg == "hide_parameters"]
                assert hidden and ast.unparse(hidden[0].value) == "True", f"{path}:{node.lineno}"
