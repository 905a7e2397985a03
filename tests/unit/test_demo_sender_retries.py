"""The demo's sender retries while ingest is away, with one Idempotency-Key a request."""

from collections.abc import Callable

import httpx
import pytest

from flagstream_tools.demo.sender import IngestError, _post

RECEIPT = {"upload_id": "u", "received": 1, "accepted": 1, "rejected": 0, "rejections": []}


def _client(
    answers: list[Callable[[httpx.Request], httpx.Response]],
) -> tuple[httpx.Client, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers[min(len(seen), len(answers)) - 1](request)

    return httpx.Client(base_url="http://ingest", transport=httpx.MockTransport(handle)), seen


def _dropped(request: httpx.Request) -> httpx.Response:
    raise httpx.RemoteProtocolError("Server disconnected without sending a response.")


def _status(code: int, body: object = None) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json=body if body is not None else {})


def test_a_dropped_request_and_a_503_are_retried_with_the_same_key() -> None:
    client, seen = _client([_dropped, _status(503), _status(202, RECEIPT)])
    waits: list[float] = []
    assert _post(client, "/v1/sen-provision", {"records": []}, sleep=waits.append) == RECEIPT
    assert len(seen) == 3
    keys = {r.headers["Idempotency-Key"] for r in seen}
    assert len(keys) == 1 and all(keys)
    assert {r.content for r in seen} == {b'{"records": []}'}
    assert waits == [0.2, 0.4]


def test_each_request_gets_its_own_key_so_a_deliberate_resend_is_ingested_again() -> None:
    client, seen = _client([_status(202, RECEIPT)])
    _post(client, "/v1/schools/100001/register", {"marks": []})
    _post(client, "/v1/schools/100001/register", {"marks": []})
    assert seen[0].headers["Idempotency-Key"] != seen[1].headers["Idempotency-Key"]


@pytest.mark.parametrize(
    "answer",
    [_status(400), _status(422), _status(409, {"reason": "idempotency_key_reused"})],
)
def test_a_request_ingest_refuses_is_not_retried(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    client, seen = _client([answer, _status(202, RECEIPT)])
    with pytest.raises(IngestError, match=r"POST /v1/outcomes -> 4\d\d"):
        _post(client, "/v1/outcomes", {"records": []}, sleep=lambda s: None)
    assert len(seen) == 1


def test_it_gives_up_saying_how_long_and_where_the_log_is() -> None:
    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    client, seen = _client([refused])
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    with pytest.raises(IngestError) as caught:
        _post(client, "/v1/outcomes", {}, sleep=sleep, clock=lambda: now[0])
    message = str(caught.value)
    # 0.2 + 0.4 + ... + 3.2, then 5 s waits: after 116.2 s the next would pass 120 s.
    assert "ingest has been unreachable for 116s" in message
    assert "var/demo/logs/ingest.log" in message and "ConnectError" in message
    assert now[0] == pytest.approx(116.2)
    assert len(seen) == 28
