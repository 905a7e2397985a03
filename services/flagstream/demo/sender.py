"""Sends a generated county through the ingest HTTP API, as partners would."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from ..generator import County, Register
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
