"""ChildState <-> the ChildState Avro record kept in the Faust table."""

from __future__ import annotations

from typing import Any

from flagstream.codec import Codec
from flagstream.domain.events import ActiveFlag
from flagstream.domain.observations import Observation
from flagstream.domain.register import SessionRegister
from flagstream.domain.state import Case, ChildState, Result


def _to_record(state: ChildState) -> dict[str, Any]:
    register = state.register
    return {
        "child_key": state.child_key,
        "urn": state.urn,
        "nc_year": state.nc_year,
        "sex": state.sex,
        "as_of": state.as_of,
        # The field keeps its first name: it holds the register's origin (register_origin).
        "year_start": register.origin if register else None,
        "codes": register.codes if register else b"",
        "sen": [{"effective_on": d, "provision": p} for d, p in state.sen],
        "fsm": [{"eligible_from": a, "eligible_to": b} for a, b in state.fsm],
        "results": [
            {"assessment": r.assessment, "result": r.result, "assessed_on": r.assessed_on}
            for r in state.results
        ],
        "cases": [
            {"case_id": c.case_id, "opened_on": c.opened_on, "closed_on": c.closed_on}
            for c in state.cases
        ],
        "notifications": list(state.notifications),
        "observations": [
            {"stream": o.stream, "ref": o.ref, "on": o.on, "value": o.value}
            for o in state.observations
        ],
        "flags": [
            {"flag": f.flag, "reason": f.reason, "raised_on": f.raised_on, "tier": f.tier}
            for f in state.flags
        ],
    }


def _from_record(record: dict[str, Any]) -> ChildState:
    year_start = record["year_start"]
    return ChildState(
        child_key=record["child_key"],
        urn=record["urn"],
        nc_year=record["nc_year"],
        sex=record["sex"],
        as_of=record["as_of"],
        register=SessionRegister(year_start, record["codes"]) if year_start else None,
        sen=tuple((f["effective_on"], f["provision"]) for f in record["sen"]),
        fsm=tuple((f["eligible_from"], f["eligible_to"]) for f in record["fsm"]),
        results=tuple(Result(**r) for r in record["results"]),
        cases=tuple(Case(**c) for c in record["cases"]),
        notifications=tuple(record["notifications"]),
        observations=tuple(Observation(**o) for o in record["observations"]),
        flags=tuple(ActiveFlag(**f) for f in record["flags"]),
    )


class StateCodec:
    """Encodes flagger state with the same single-object framing as every topic."""

    def __init__(self, codec: Codec) -> None:
        self._codec = codec

    def encode(self, state: ChildState) -> bytes:
        """State -> bytes."""
        return self._codec.encode_record("ChildState", _to_record(state))

    def decode(self, data: bytes) -> ChildState:
        """Bytes -> state."""
        name, record = self._codec.decode_record(data)
        if name != "ChildState":
            raise ValueError(f"expected ChildState, found {name}")
        return _from_record(record)
