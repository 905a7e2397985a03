"""Sends a generated county through the ingest HTTP API, as partners would."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict
from typing import Any, Final

import httpx

from ..generator import (
    AssessmentRecorded,
    County,
    DomesticAbuseNotified,
    EnrolmentChanged,
    FamilyCaseRecorded,
    FsmRecorded,
    Item,
    Register,
    SenRecorded,
)
from ..generator.names import pupil_name
from ..progress import Progress


class IngestError(RuntimeError):
    """Ingest refused a request or rejected records it should have accepted."""


def _post(client: httpx.Client, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body)
    if response.status_code != 202:
        raise IngestError(f"POST {path} -> {response.status_code}: {response.text[:300]}")
    receipt: dict[str, Any] = response.json()
    return receipt


def send_reference(client: httpx.Client, county: County) -> tuple[int, int]:
    """Schools, then enrolments; returns (accepted, rejected)."""
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
                    "upn": p.upn,
                    "urn": p.urn,
                    "nc_year": p.nc_year,
                    "sex": p.sex,
                    "month_of_birth": p.month_of_birth,
                    "joined_on": p.joined_on.isoformat(),
                    **dict(zip(("forename", "surname"), pupil_name(p.upn, p.sex), strict=True)),
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
    """A generator record as JSON: dates as YYYY-MM-DD, tuples as lists."""
    out: dict[str, Any] = {}
    for name, value in asdict(record).items():
        if hasattr(value, "isoformat"):
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
}
# The census-style enrolments endpoint names its list; the partner endpoints say "records".
_LIST_KEY: Final = {"/v1/enrolments": "enrolments"}


def send_child_events(
    client: httpx.Client,
    events: Iterable[Item],
    batch_size: int = 5000,
    on_progress: Callable[[int], None] | None = None,
) -> tuple[int, int]:
    """Enrolment changes (movers, leavers), SEN, FSM, assessment, family-case and notification
    records of a generator timeline, in timeline order per kind, batched per endpoint;
    registers and DayEnded items are skipped (send registers with send_registers, ticks with
    flagstream.clock). Returns (accepted, rejected)."""
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
