"""Sends a generated county through the ingest HTTP API, as partners would."""

from __future__ import annotations

import json
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any, Final

import httpx

from flagstream_tools.generator import (
    AssessmentRecorded,
    County,
    DomesticAbuseNotified,
    EarlyYearsRecorded,
    EnrolmentChanged,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    Register,
    SenRecorded,
)
from flagstream_tools.generator.households import enrolment_json
from flagstream_tools.generator.names import pupil_name
from flagstream_tools.progress_bar import Progress

# Answers that say ingest (or what is in front of it) is away for now, not that the request
# is wrong; a 409 other than a reused key (a first attempt still in progress) is one too, and
# so is 429 (this key's rate limit).
_RETRY_STATUS: Final = frozenset({409, 429, 502, 503, 504})
_FIRST_WAIT_S: Final = 0.2
_MAX_WAIT_S: Final = 5.0
GIVE_UP_S: Final = 120.0
INGEST_LOG: Final = Path("var/demo/logs/ingest.log")  # under `flagstream demo --workdir`


class IngestError(RuntimeError):
    """Ingest refused a request or rejected records it should have accepted."""


def _post(
    client: httpx.Client,
    path: str,
    body: dict[str, Any],
    give_up_s: float = GIVE_UP_S,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """POST a body, retried with back-off while ingest is away (restarting, killed
    mid-request); the receipt of its 202.

    Every attempt carries the same Idempotency-Key, so one whose answer was lost is
    answered again, not ingested twice. The key is the request's own, not its body's: a
    register the MIS sends twice on purpose is two requests and must be ingested twice.
    """
    content = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", "Idempotency-Key": uuid.uuid4().hex}
    began, wait = clock(), _FIRST_WAIT_S
    while True:
        try:
            response = client.post(path, content=content, headers=headers)
        except httpx.TransportError as exc:  # refused, dropped mid-request, timed out
            problem = f"{type(exc).__name__}: {exc}"
        else:
            if response.status_code == 202:
                receipt: dict[str, Any] = response.json()
                return receipt
            if not _retryable(response):
                raise IngestError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
            problem = f"{response.status_code}: {response.text[:200]}"
        waited = clock() - began
        if waited + wait > give_up_s:
            raise IngestError(
                f"ingest has been unreachable for {waited:.0f}s (POST {path}; last: {problem}); "
                f"see its log, {INGEST_LOG}"
            )
        sleep(wait)
        wait = min(2 * wait, _MAX_WAIT_S)


def _retryable(response: httpx.Response) -> bool:
    if response.status_code != 409:
        return response.status_code in _RETRY_STATUS
    try:
        answer = response.json()
    except ValueError:
        return True
    # The key was used for another body: the same request again cannot help.
    return not (isinstance(answer, dict) and answer.get("reason") == "idempotency_key_reused")


def _family(pupil: Any) -> dict[str, str]:
    """The household reference and NHS number a pupil's enrolment brings, if any."""
    return {
        name: value
        for name in ("household_ref", "nhs_number")
        if (value := getattr(pupil, name)) is not None
    }


def send_reference(client: httpx.Client, county: County) -> tuple[int, int]:
    """Schools, then enrolments (with each pupil's household and NHS number, if it has
    them: generator/families.py); returns (accepted, rejected)."""
    schools = _post(
        client,
        "/v1/schools",
        {
            "source": "demo",
            "schools": [
                {
                    "urn": s.urn,
                    "name": s.name,
                    "phase": s.phase,
                    "pyramid": s.pyramid,
                    "zone": s.zone,
                }
                for s in county.schools
            ],
        },
    )
    enrolments = _post(
        client,
        "/v1/enrolments",
        {
            "source": "demo",
            "enrolments": [
                {
                    **enrolment_json(p),
                    **dict(zip(("forename", "surname"), pupil_name(p.upn, p.sex), strict=True)),
                    **_family(p),
                }
                for p in county.pupils
            ],
        },
    )
    return (
        schools["accepted"] + enrolments["accepted"],
        schools["rejected"] + enrolments["rejected"],
    )


def register_body(register: Register) -> dict[str, Any]:
    """The JSON a school MIS would send for one register."""
    return {
        "source": "demo-mis",
        "marks": [
            {"upn": m.upn, "date": m.date.isoformat(), "session": m.session, "code": m.code}
            for m in register.marks
        ],
    }


def send_registers(client: httpx.Client, registers: Sequence[Register]) -> tuple[int, int]:
    """Every register in order, with a progress line; returns (accepted, rejected) marks."""
    progress = Progress("sending registers", sum(len(r.marks) for r in registers), "marks")
    accepted = rejected = 0
    for register in registers:
        receipt = _post(client, f"/v1/schools/{register.urn}/register", register_body(register))
        accepted += receipt["accepted"]
        rejected += receipt["rejected"]
        progress.advance(receipt["received"], f"{register.day.isoformat()}")
    progress.close()
    return accepted, rejected


def _json(record: Any) -> dict[str, Any]:
    """A generator record as JSON: dates as YYYY-MM-DD, tuples as lists, no absent
    household or UPN; an early-years check's on_track as true/false text, as its partners send
    it."""
    out: dict[str, Any] = {}
    for name, value in asdict(record).items():
        if (name, value) in (("household_ref", None), ("upn", "")):
            continue  # no household; a case naming only its household
        if isinstance(record, EarlyYearsRecorded) and name == "on_track":
            value = "true" if value else "false"
        elif hasattr(value, "isoformat"):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        out[name] = value
    return out


def _enrolment_json(record: EnrolmentChanged) -> dict[str, Any]:
    """A mid-year enrolment change as the MIS sends it, names included as at the start."""
    names = dict(zip(("forename", "surname"), pupil_name(record.upn, record.sex), strict=True))
    return {**_json(record), **names}


# Generator record type -> (endpoint, source name) of the partner that sends it.
CHILD_EVENT_ENDPOINTS: Final[dict[type[Any], tuple[str, str]]] = {
    EnrolmentChanged: ("/v1/enrolments", "demo-mis"),
    SenRecorded: ("/v1/sen-provision", "demo-census"),
    FsmRecorded: ("/v1/fsm-eligibility", "demo-fsm-checks"),
    AssessmentRecorded: ("/v1/assessments", "demo-assessments"),
    FamilyCaseRecorded: ("/v1/family-cases", "demo-family-support"),
    DomesticAbuseNotified: ("/v1/domestic-abuse-notifications", "demo-police"),
    # The catalogue stream of the flagstream.early_years extension, keyed by NHS number.
    EarlyYearsRecorded: ("/v1/streams/early_years", "demo-health-visiting"),
}
# The census-style enrolments endpoint names its list; the partner endpoints say "records".
_LIST_KEY: Final = {"/v1/enrolments": "enrolments"}


def send_child_events(
    client: httpx.Client,
    events: Iterable[Item],
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Enrolment changes (movers, leavers), SEN, FSM, assessment, family-case, notification
    and early-years records of a generator timeline, in timeline order per kind, batched per
    endpoint; registers and DayEnded items are skipped (send registers with send_registers,
    ticks with flagstream_tools.clock). Returns (accepted, rejected)."""
    pending: dict[str, list[dict[str, Any]]] = defaultdict(list)
    sources: dict[str, str] = {}
    accepted = rejected = 0

    def flush(path: str) -> None:
        nonlocal accepted, rejected
        records = pending.pop(path, [])
        if records:
            body = {"source": sources[path], _LIST_KEY.get(path, "records"): records}
            receipt = _post(client, path, body)
            accepted += receipt["accepted"]
            rejected += receipt["rejected"]
            if on_progress is not None:
                on_progress(receipt["received"])

    for item in events:
        endpoint = CHILD_EVENT_ENDPOINTS.get(type(item))
        if endpoint is None:
            continue
        path, sources[path] = endpoint
        record = _enrolment_json(item) if isinstance(item, EnrolmentChanged) else _json(item)
        pending[path].append(record)
        if len(pending[path]) >= batch_size:
            flush(path)
    for path in list(pending):
        flush(path)
    return accepted, rejected
