"""The notifier over the real pipeline: a police notification sent to ingest reaches the
DSL's mailbox on a real SMTP server (aiosmtpd) with no child detail in it; a replay of the
flag-change topic by a new notifier sends no second email."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from dashboard.users import write_demo_users
from flagstream.alerts import ledger
from flagstream.engine import make_engine
from flagstream_tools.demo.sender import send_child_events, send_reference, send_registers
from flagstream_tools.demo.stack import Stack
from flagstream_tools.demo.users import demo_users
from flagstream_tools.generator import make_county
from flagstream_tools.generator.model import County, DomesticAbuseNotified, Register
from flagstream_tools.generator.sources import timeline
from ingest.pseudonymise import Pseudonymiser
from projector.writer import stored_offsets
from readmodel.db import make_engine as read_model_engine

from .notifier_harness import running_notifier, smtp_server

pytestmark = pytest.mark.integration
REFERENCE = "DP/12345/26"
CIRCUMSTANCES = "Neighbour called police after shouting at the flat"
START = date(2025, 9, 8)  # a Monday in the past: registers for 3 days, then the incident


@dataclass
class Pipeline:
    stack: Stack
    county: County
    users_file: Path
    workdir: Path
    notified: set[str]  # pupils the timeline already notified about


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pipeline]:
    workdir = tmp_path_factory.mktemp("notifier")
    county = make_county("tiny", seed=5)
    with Stack(workdir, partitions=2) as stack:
        items = list(timeline(county, START, 3, seed=5))
        with httpx.Client(base_url=stack.ingest_url, timeout=60) as client:
            assert send_reference(client, county)[1] == 0
            send_child_events(client, items)
            send_registers(client, [i for i in items if isinstance(i, Register)])
        read_model = read_model_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with read_model.connect() as conn:
                return stored_offsets(conn)

        stack.wait_caught_up(projected, timeout=120)
        write_demo_users(workdir / "users.json", demo_users(county, seed=2))
        notified = {i.upn for i in items if isinstance(i, DomesticAbuseNotified)}
        yield Pipeline(stack, county, workdir / "users.json", workdir, notified)


def notify(stack: Stack, upn: str, urn: str) -> float:
    """Send one notification to ingest; the time of its 202."""
    record = {
        "upn": upn, "urn": urn, "incident_on": (START + timedelta(days=1)).isoformat(),
        "child_present": True, "police_reference": REFERENCE, "circumstances": CIRCUMSTANCES,
    }  # fmt: skip
    with httpx.Client(base_url=stack.ingest_url, timeout=30) as client:
        reply = client.post("/v1/domestic-abuse-notifications", json={"records": [record]})
    assert reply.status_code == 202 and reply.json()["accepted"] == 1, reply.text
    return time.monotonic()


def test_a_notification_reaches_the_dsl_once_even_after_a_replay(pipeline: Pipeline) -> None:
    school = pipeline.county.schools[0]
    pupil = next(
        p for p in pipeline.county.pupils if p.urn == school.urn and p.upn not in pipeline.notified
    )
    child_key = Pseudonymiser(pipeline.stack.pseudonym_key.encode())(pupil.upn)
    dsl = f"dsl-{school.urn}@schools.example.invalid"
    alerts_url = f"sqlite:///{pipeline.workdir / 'alerts.db'}"
    link = f"/children/{child_key}"
    with smtp_server() as (box, port):
        with running_notifier(pipeline.stack, pipeline.users_file, alerts_url, port):
            accepted = notify(pipeline.stack, pupil.upn, school.urn)
            arrived, mail = box.wait_for(lambda m: link in m.get_content(), timeout=20)
        assert arrived - accepted < 10, f"{arrived - accepted:.1f}s from the 202 to the mailbox"
        print(f"mailbox reached {arrived - accepted:.2f}s after the 202")
        assert mail["To"] == dsl
        assert mail["Subject"] == "A new safeguarding notification needs your attention"
        _has_no_child_detail(mail.get_content() + str(mail["Subject"]), pupil, pipeline)
        assert [m["To"] for m in box.to(dsl)].count(dsl) == 1
        # Staff who are not the DSL are not told (no email to school staff, zone, manager).
        assert {str(m["To"]) for _t, m in box.received} == {dsl}

        # A new notifier instance reading the topic from offset 0: nothing sent twice.
        with running_notifier(
            pipeline.stack, pipeline.users_file, alerts_url, port, from_beginning=True
        ) as replay:
            _wait_read_to_end(replay)
            duplicates = replay._metrics.messages.labels("safeguarding", "duplicate")
            assert duplicates._value.get() >= 1, "the replay read the notification again"
        assert len(box.to(dsl)) == 1

    with make_engine(alerts_url).connect() as conn:
        rows = conn.execute(select(ledger.c.recipient, ledger.c.status, ledger.c.attempts)).all()
    assert [tuple(r) for r in rows] == [("school.dsl", "sent", 1)]


def _wait_read_to_end(notifier: object, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    health = notifier._metrics.health  # type: ignore[attr-defined]
    time.sleep(1.5)  # at least a few polls
    while time.monotonic() < deadline:
        if health.lag.labels("notifier")._value.get() == 0:
            return
        time.sleep(0.1)
    raise TimeoutError("the replaying notifier did not reach the end of the topic")


def _has_no_child_detail(text: str, pupil: object, pipeline: Pipeline) -> None:
    upn = pupil.upn  # type: ignore[attr-defined]
    forbidden = [upn, REFERENCE, CIRCUMSTANCES, "police", "Police", "domestic", "Domestic",
                 "SAFEGUARD", "Safeguard (", "abuse"]  # fmt: skip
    for word in forbidden:
        assert word not in text, word
    from flagstream_tools.generator.names import pupil_name

    for name in pupil_name(upn, pupil.sex):  # type: ignore[attr-defined]
        assert name not in text, "a pupil's name"


def test_a_new_alerts_database_may_start_at_the_topics_end(pipeline: Pipeline) -> None:
    """FLAGSTREAM_NOTIFIER_START=end: an empty ledger on an old topic mails nothing old, and
    what arrives from then on as usual."""
    school = pipeline.county.schools[0]
    pupils = [
        p for p in pipeline.county.pupils if p.urn == school.urn and p.upn not in pipeline.notified
    ]
    keyed = Pseudonymiser(pipeline.stack.pseudonym_key.encode())
    alerts_url = f"sqlite:///{pipeline.workdir / 'alerts-from-end.db'}"
    with smtp_server() as (box, port):
        with running_notifier(
            pipeline.stack, pipeline.users_file, alerts_url, port, start_at_end=True
        ) as notifier:
            _wait_read_to_end(notifier)
            notify(pipeline.stack, pupils[1].upn, school.urn)
            fresh = f"/children/{keyed(pupils[1].upn)}"
            box.wait_for(lambda m: fresh in m.get_content(), timeout=20)
            time.sleep(0.5)
        assert len(box.received) == 1, "only the notification sent after it started"
