"""Sealed by structure: for every viewer but the DSL of the child's current school, every page,
the live table, the huddle page and CSV, the audit page and every count are exactly what they
would be had one police notification never arrived.

Two read models are built from the same events through the real flagger step and the real
projector; the second also receives one Operation Encompass notification (and ingest's
restricted-store row for it). Each viewer requests the same pages from both and must get the
same answers, timestamps and per-request tokens aside. The DSL of the child's school must
see the difference (else the test would prove nothing).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from dashboard.app import create_app
from dashboard.audit import create_audit_schema
from dashboard.context import Context
from dashboard.users import User
from flagger.handler import MessageHandler
from flagstream import identity, restricted
from flagstream.codec import Codec
from flagstream.domain import events as ev
from flagstream.domain.rules import RuleConfig, default_config
from flagstream.domain.rules.attend import AttendSettings
from projector.writer import Consumed, project
from readmodel.db import create_schema, make_engine
from tests.browser import seed

from .factories import T0

CODEC = Codec()
RULES = RuleConfig(
    "sealed-test", {**default_config().flags, "ATTEND": AttendSettings(min_possible_sessions=4)}
)
URN, OTHER_URN = "100001", "200001"
NOTIFIED = "e1" * 32  # no other flag: the hardest child to keep sealed (counts, lists)
KIDS = {
    # child_key: (urn, year, forename, surname, upn, absent?)
    NOTIFIED: (URN, 4, "Nia", "Notified", "N823456789012", False),
    "e2" * 32: (URN, 5, "Omar", "Often-away", "O823456789012", True),
    "e3" * 32: (URN, 6, "Pia", "Present", "P823456789012", False),
    "f1" * 32: (OTHER_URN, 2, "Quin", "Elsewhere", "Q823456789012", True),
}
DAYS = [date(2026, 9, 7) + timedelta(days=d) for d in range(12) if d % 7 < 5]
NOTICE_ON = date(2026, 9, 15)
_ids = iter(range(1, 10_000))


def _env() -> dict[str, Any]:
    """A fixed event id per position, so both runs give shared events the same ids."""
    return {
        "event_id": uuid.UUID(int=next(_ids)),
        "source": "test",
        "occurred_at": T0,
        "recorded_at": T0,
    }


def _events(notify: bool) -> list[Any]:
    """Schools, enrolments, two weeks of registers and ticks, an FSM period and a family
    case; with notify, one notification for NOTIFIED on NOTICE_ON as that day's last event."""
    global _ids
    _ids = iter(range(1, 10_000))
    out: list[Any] = [
        ev.SchoolRecorded(**_env(), urn=u, name=n, phase=p.upper(), pyramid=py, zone=z)  # type: ignore[arg-type]
        for u, n, p, py, z in seed.SCHOOLS
    ]
    for key, (urn, year, *_rest) in KIDS.items():
        out.append(
            ev.EnrolmentRecorded(
                **_env(),
                child_key=key,
                urn=urn,
                nc_year=year,
                sex="F",
                month_of_birth="2019-03",
                joined_on=date(2024, 9, 1),
            )
        )
    out.append(ev.FsmEligibilityRecorded(**_env(), child_key="e3" * 32, eligible_from=DAYS[0]))
    out.append(
        ev.FamilyCaseRecorded(
            **_env(),
            child_key="f1" * 32,
            case_id="FS-1",
            opened_on=DAYS[1],
            outcome_areas=["housing"],
        )
    )
    for day in DAYS:
        marks = [
            ev.AttendanceMarkRecorded(
                **_env(),
                child_key=key,
                urn=urn,
                date=day,
                session=session,  # type: ignore[arg-type]
                code="O" if absent and day.day % 2 else "/",  # type: ignore[arg-type]
            )
            for key, (urn, _y, _f, _s, _u, absent) in KIDS.items()
            for session in ("AM", "PM")
        ]
        out.append(ev.AttendanceMarksRecorded(batch_id=uuid.UUID(int=next(_ids)), marks=marks))
        if notify and day == NOTICE_ON:
            out.append(
                ev.DomesticAbuseNotified(
                    **{**_env(), "event_id": uuid.UUID(int=99_999)},
                    child_key=NOTIFIED,
                    urn=URN,
                    incident_on=NOTICE_ON,
                    child_present=True,
                )
            )
        out.append(ev.DayEnded(**_env(), day=day))
    return out


def _project(engine: Engine, events: list[Any]) -> None:
    """Each event through the flagger step (one partition), then everything the projector
    reads - canonical events and the flagger's output - in one batch."""
    handle = MessageHandler(CODEC, {}, RULES, partitions=1, clock=lambda: T0)
    consumed: list[Consumed] = []
    for e in events:
        consumed.append(Consumed("canonical", 0, len(consumed), e))
        if isinstance(e, ev.SchoolRecorded):
            continue
        out = handle(CODEC.encode(e), 0)
        consumed += [Consumed("flags", 0, len(consumed), c) for c in out.changes]
        consumed += [Consumed("flags", 0, len(consumed), s) for s in out.snapshots]
    with engine.begin() as conn:
        project(conn, consumed)


def _context(tmp: Path, notify: bool) -> Context:
    read_model = make_engine(f"sqlite:///{tmp / 'read.db'}")
    identity_db = make_engine(f"sqlite:///{tmp / 'identity.db'}")
    audit_db = make_engine(f"sqlite:///{tmp / 'audit.db'}")
    create_schema(read_model)
    identity.metadata.create_all(identity_db)
    create_audit_schema(audit_db)
    _project(read_model, _events(notify))
    with identity_db.begin() as conn:
        identity.record(
            conn,
            [identity.Identity(k, u, upn, f, s, T0) for k, (u, _y, f, s, upn, _a) in KIDS.items()],
        )
        if notify:  # what ingest keeps of it, beside the identity store
            detail = restricted.Details(
                str(uuid.UUID(int=99_999)),
                NOTIFIED,
                URN,
                NOTICE_ON,
                True,
                "OE/2026/000042",
                "Argument overheard.",
                T0,
            )
            restricted.record(conn, [detail])
    users = seed.users()
    dsl = users["dsl"]
    users["dsl2"] = replace(dsl, username="dsl2", scope=OTHER_URN)
    users["south"] = User("south", "zone", "South Zone", dsl.password_hash)
    return Context(
        read_model=read_model,
        audit_db=audit_db,
        users=users,
        sender=_NoSender(),
        identity_db=identity_db,
        clock=lambda: seed.NOW,
    )


class _NoSender:
    def send(self, outcome: Any) -> None:
        raise AssertionError("no outcome is sent in this test")

    def send_huddle(self, huddle: Any) -> None:
        raise AssertionError("no huddle is sent in this test")


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Context, Context]]:
    without = _context(tmp_path_factory.mktemp("without"), notify=False)
    with_one = _context(tmp_path_factory.mktemp("with"), notify=True)
    yield without, with_one
    for ctx in (without, with_one):
        for engine in (ctx.read_model, ctx.identity_db, ctx.audit_db):
            if engine is not None:
                engine.dispose()


def _signed_in(ctx: Context, username: str) -> TestClient:
    client = TestClient(create_app(ctx, "s" * 40), base_url="https://testserver")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
    assert token
    reply = client.post(
        "/login",
        data={"username": username, "password": seed.PASSWORD, "csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert reply.status_code == 303, reply.text
    return client


def _paths() -> list[str]:
    schools = [u for u, *_ in seed.SCHOOLS]
    paths = ["/", "/zones/North Zone", "/zones/South Zone", "/audit"]
    for urn in schools:
        paths += [
            f"/schools/{urn}",
            f"/schools/{urn}/table",
            f"/schools/{urn}/table?sort=indicators&dir=asc",
            f"/schools/{urn}?flag=safeguard",
            f"/schools/{urn}/huddle",
            f"/schools/{urn}/huddle.csv",
        ]
    for key in KIDS:
        paths += [f"/children/{key}", f"/children/{key}/outcomes"]
    return paths


_VOLATILE = [
    (re.compile(r'name="csrf_token" value="[^"]+"'), 'name="csrf_token" value=""'),
    (re.compile(r'name="event_id" value="[^"]+"'), 'name="event_id" value=""'),
    (re.compile(r'<meta name="csrf-token" content="[^"]+"'), '<meta name="csrf-token" content=""'),
    (re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?"), "<time>"),
]


def _answers(ctx: Context, username: str) -> list[tuple[str, int, str]]:
    client = _signed_in(ctx, username)
    answers = []
    for path in _paths():
        reply = client.get(path)
        body = reply.text
        for pattern, fixed in _VOLATILE:
            body = pattern.sub(fixed, body)
        answers.append((path, reply.status_code, body))
    return answers


# Every role but the DSL of the notified child's school; the admin last, so its audit page
# lists what the others did on both read models.
VIEWERS = ["staff", "other", "dsl2", "north", "south", "boss", "root"]


def test_every_other_viewer_sees_exactly_what_they_would_without_the_notification(
    pair: tuple[Context, Context],
) -> None:
    without, with_one = pair
    for username in VIEWERS:
        before, after = _answers(without, username), _answers(with_one, username)
        for (path, status, body), (_p, status2, body2) in zip(before, after, strict=True):
            assert status == status2, f"{username} {path}: {status} vs {status2}"
            assert body == body2, f"{username} sees the notification on {path}"


def test_the_dsl_of_the_childs_school_sees_it(pair: tuple[Context, Context]) -> None:
    without, with_one = pair
    page = _signed_in(with_one, "dsl").get(f"/children/{NOTIFIED}").text
    assert "SAFEGUARD" in page and "OE/2026/000042" in page and "Argument overheard." in page
    assert "SAFEGUARD" not in _signed_in(without, "dsl").get(f"/children/{NOTIFIED}").text
    table = _signed_in(with_one, "dsl").get(f"/schools/{URN}?flag=safeguard").text
    assert "Nia Notified" in table and "Omar" not in table
    # Not on the huddle list or its CSV even for the DSL: both are shared at the meeting.
    huddle = _signed_in(with_one, "dsl").get(f"/schools/{URN}/huddle.csv").text
    assert "Nia" not in huddle and "safeguard" not in huddle.lower()


def test_the_notification_really_raised_the_flag_and_nothing_else(
    pair: tuple[Context, Context],
) -> None:
    from sqlalchemy import select, text

    from readmodel.tables import restricted_flag_changes, restricted_flags

    without, with_one = pair
    with with_one.read_model.connect() as conn:
        held = conn.execute(select(restricted_flags)).all()
        changes = conn.execute(select(restricted_flag_changes)).all()
        # The child's row with the council's per-flag columns (the view over child_flags).
        one = text("SELECT * FROM child_flag_columns WHERE child_key = :k")
        row = conn.execute(one, {"k": NOTIFIED}).one()
    assert [(r.child_key, r.flag, r.raised_on) for r in held] == [
        (NOTIFIED, "SAFEGUARD", NOTICE_ON)
    ]
    assert [(c.flag, c.change) for c in changes] == [("SAFEGUARD", "RAISED")]
    assert row.indicators == 0 and row.flags == "" and not row.family
    with without.read_model.connect() as conn:
        assert conn.execute(select(restricted_flags)).all() == []
