"""API keys that expire or are revoked (401 with a stable reason, counted as refusals), the
per-key rate limit (429 rate_limited with Retry-After), and the dashboard's outcome event ids
made on the server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from dashboard.outcomes import IngestOutcomeSender, OutcomeForm, event_id_for
from flagstream_tools.cli import main
from ingest.db import make_engine
from ingest.http.ratelimit import RateLimiter
from ingest.keys import KeyStore, create_key, list_keys, revoke_key
from ingest.ledger import ingest_ledger

from .test_ingest_support import UPN, Ingest, enrol, make_ingest

MARK = {"upn": UPN, "date": "2025-09-08", "session": "AM", "code": "/"}
REGISTER = "/v1/schools/100001/register"


@pytest.fixture
def ingest(tmp_path: Path) -> Ingest:
    return make_ingest(tmp_path)


def _key_id(key: str) -> str:
    return key[4:].partition(".")[0]


def test_a_revoked_or_expired_key_is_refused_with_its_reason(ingest: Ingest) -> None:
    engine = ingest.store.engine
    made = datetime.now(UTC) - timedelta(days=2)  # the key store reads the real clock
    expiring = create_key(engine, "temp", "all", expires_days=1, now=made)
    current = create_key(engine, "temp", "all", expires_days=30)
    body = {"marks": [MARK]}

    def post(key: str) -> httpx.Response:
        return ingest.client.post(REGISTER, json=body, headers={"Authorization": f"Bearer {key}"})

    assert post(current).status_code == 202
    assert post(ingest.keys["all"]).status_code == 202
    assert revoke_key(engine, _key_id(ingest.keys["all"]))
    assert not revoke_key(engine, "nope")
    for key, reason in (
        (ingest.keys["all"], "key_revoked"),
        (expiring, "key_expired"),
        (ingest.keys["all"][:-2] + "xx", "unauthenticated"),  # a wrong secret tells nothing
    ):
        r = post(key)
        assert (r.status_code, r.json()["reason"]) == (401, reason)
        assert key.partition(".")[2] not in r.text
    rows = {(r.source, r.kind): r for r in ingest_ledger(engine)}
    refused = rows[("unauthenticated", "attendance_mark")]
    assert dict(refused.refusals) == {"key_expired": 1, "key_revoked": 1, "unauthenticated": 1}
    assert rows[("mis:100001", "attendance_mark")].received == 2  # nothing of theirs was read
    listed = {k.key_id: k for k in list_keys(engine)}
    assert listed[_key_id(ingest.keys["all"])].revoked
    assert listed[_key_id(expiring)].expires_at == made + timedelta(days=1)


def test_keys_revoke_and_expires_days_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'ingest.db'}"
    monkeypatch.setenv("FLAGSTREAM_INGEST_DATABASE_URL", url)
    args = ["keys", "create", "--partner", "Acme", "--scope", "police", "--expires-days", "90"]
    assert main(args) == 0
    key = capsys.readouterr().out.strip()
    store = KeyStore(make_engine(url))
    assert store.authenticate(key) is not None
    assert main([*args[:-1], "0"]) == 2  # 1-3660 days
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "expires (UTC)" in listing and key.partition(".")[2] not in listing
    assert main(["keys", "revoke"]) == 2
    assert main(["keys", "revoke", "000000000000"]) == 2
    assert main(["keys", "revoke", _key_id(key)]) == 0
    assert store.check(key) == "key_revoked"
    assert main(["keys", "list"]) == 0
    assert capsys.readouterr().out.rstrip().endswith("yes")


def test_each_key_has_its_own_rate_limit(tmp_path: Path) -> None:
    ingest = make_ingest(tmp_path, rate_per_minute=3)
    body = {"marks": [MARK]}
    answers = [ingest.post(REGISTER, body).status_code for _ in range(4)]
    assert answers == [202, 202, 202, 429]
    r = ingest.post(REGISTER, body)
    assert r.json()["reason"] == "rate_limited" and r.headers["Retry-After"] == "20"
    enrol(ingest, UPN, "100001")  # another key (the council's) is not held back
    assert ingest.post(REGISTER, body, "school").status_code == 202
    rows = {(r.source, r.kind): r for r in ingest_ledger(ingest.store.engine)}
    limited = rows[("mis:100001", "attendance_mark")]
    assert dict(limited.refusals) == {"rate_limited": 2}
    assert (limited.received, limited.accepted) == (4, 4)  # refused requests were not read
    assert (
        'flagstream_rejected_total{reason="rate_limited"} 2.0' in ingest.client.get("/metrics").text
    )


def test_the_token_bucket_refills_and_bursts() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])  # one a second, bursts of 60
    assert [limiter.take("a") for _ in range(60)] == [0.0] * 60
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0.0
    now[0] = 2.5
    assert [limiter.take("a") for _ in range(2)] == [0.0, 0.0]
    assert limiter.take("a") == pytest.approx(0.5)
    assert RateLimiter.retry_after(0.5) == "1" and RateLimiter.retry_after(20.0) == "20"
    assert RateLimiter(0).take("a") == 0.0  # no limit


def test_the_dashboard_sends_event_ids_made_on_the_server() -> None:
    sent: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        [record] = json.loads(request.content)["records"]
        sent.append(record["event_id"])
        return httpx.Response(202, json={"rejected": 0, "rejections": []})

    sender = IngestOutcomeSender("http://ingest")
    sender._client = httpx.Client(base_url="http://ingest", transport=httpx.MockTransport(answer))
    token = str(uuid.uuid4())  # what the browser posts back
    form = OutcomeForm(token, UPN, "100001", "New", "No progress", "sam", date(2025, 9, 8))
    sender.send(form)
    sender.send(form)  # the same form twice: one event id, so ingest records it once
    sender.send(OutcomeForm(token, UPN, "100001", "New", "No progress", "kim", date(2025, 9, 8)))
    assert sent[0] == sent[1] == event_id_for(form) != token
    assert sent[2] != sent[0]  # another user replaying the token gets another id
    assert UPN not in "".join(sent)


DOCS = Path(__file__).resolve().parents[2] / "docs" / "ingest.md"
README = DOCS.parents[1] / "README.md"


@pytest.mark.parametrize(
    "reason", ["unknown_school", "not_on_roll", "key_revoked", "key_expired", "rate_limited"]
)
def test_the_roll_and_key_reason_codes_are_documented(reason: str) -> None:
    from ingest.fields import REASONS

    if reason in ("unknown_school", "not_on_roll"):  # per record; the others refuse a request
        assert reason in REASONS
    assert f"| `{reason}` |" in DOCS.read_text(), reason
    assert f"`{reason}`" in README.read_text(), reason
    assert "`pending_transfer`" in DOCS.read_text()
