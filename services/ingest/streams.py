"""Generic partner streams: a catalogue kind with an `Intake` (flagstream/catalogue.py) is
accepted at `POST /v1/streams/<label>` with no ingest code of its own.

The record a partner sends is the event's own fields with `upn` in place of `child_key`, all
as text, like every other body ingest takes. Each field is checked by its type in the event
class: a `date` must be a real day not in the future and not before 2000 (`past_day`), an
optional date may be missing, `urn` must be a 6-digit URN, text must be present and at most
2,000 characters; a field of any other type makes the kind unusable at start (a
programming error, not a partner's). Fields named in `Intake.pseudonymise` (a partner's own
reference, e.g. a police incident number) are replaced by a keyed hash, so the reference
itself is in no topic, log, error or dead letter. The stream's records are published like
SEN or FSM records: batched per partition on the child-events topic.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import BaseModel, Field, create_model

from flagstream import catalogue
from flagstream.catalogue import EventKind

from . import fields as f
from .fields import Stamp
from .models import RecordIn
from .nhs import nhs_key

Key = Callable[[str], str]
ENVELOPE = frozenset({"event_id", "source", "occurred_at", "recorded_at", "child_key"})
_UPN = "13-character Unique Pupil Number (turned into child_key at the edge)"
_CHILD = {
    "upn": _UPN,
    "nhs_number": "10-digit NHS number (turned into a keyed hash at the edge; docs/families.md)",
}


def _child_field(kind: EventKind) -> str:
    """The field naming the child in a partner's record: upn, or nhs_number."""
    return "upn" if kind.intake is None else kind.intake.key_by


def path(kind: EventKind) -> str:
    """The stream's endpoint."""
    return f"/v1/streams/{kind.label}"


def intake_kinds() -> list[EventKind]:
    """Every catalogue kind ingest accepts generically, in catalogue order."""
    return [k for k in catalogue.kinds() if k.intake is not None]


def _own_fields(kind: EventKind) -> dict[str, Any]:
    hints = typing.get_type_hints(kind.event_type)
    return {
        fld.name: hints[fld.name]
        for fld in dataclasses.fields(kind.event_type)
        if fld.name not in ENVELOPE
    }


def _checker(name: str, hint: Any) -> Callable[[object, Stamp], object]:
    optional = typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(hint)
    )
    base = (
        next((a for a in typing.get_args(hint) if a is not type(None)), hint) if optional else hint
    )
    if name == "urn" and base is str:
        return lambda v, _s: f.urn(v)
    if base is date:
        if optional:
            return lambda v, _s: f.optional_day(v, name)
        return lambda v, s: f.past_day(v, name, s)
    if base is str:
        if optional:
            return lambda v, _s: f.optional_text(v, name)
        return lambda v, _s: f.text(v, name)
    if base is bool and not optional:
        return lambda v, _s: f.boolean(v, name)
    raise TypeError(f"{name}: a {hint} field cannot be taken from a partner's record")


def record_model(kind: EventKind) -> type[RecordIn]:
    """The partner's record: upn, then the event's own fields, all text, all optional (each
    is checked by `build`, so a missing one is a reason code, not a 422)."""
    own = {
        name: (str | None, Field(None, description=f"{name} ({getattr(hint, '__name__', hint)})"))
        for name, hint in _own_fields(kind).items()
    }
    model = create_model(  # type: ignore[call-overload]
        f"{kind.schema}In",
        __base__=RecordIn,
        __doc__=kind.event_type.__doc__,
        **{_child_field(kind): (str | None, Field(None, description=_CHILD[_child_field(kind)]))},
        **own,
    )
    return typing.cast(type[RecordIn], model)


def batch_model(kind: EventKind, record: type[RecordIn]) -> type[BaseModel]:
    """The HTTP body: `{"source": ..., "records": [...]}`."""
    assert kind.intake is not None
    model = create_model(  # type: ignore[call-overload]
        f"{kind.schema}BatchIn",
        source=(str, kind.intake.source),
        records=(list[record], ...),  # type: ignore[valid-type]
    )
    return typing.cast(type[BaseModel], model)


def builder(kind: EventKind) -> Callable[[Any, str | None, Key, Stamp], Any]:
    """raw record -> the kind's event, or Reject (fields.Reject) with a stable reason code."""
    assert kind.intake is not None
    checks = {name: _checker(name, hint) for name, hint in _own_fields(kind).items()}
    days = [name for name, hint in _own_fields(kind).items() if hint is date]
    hidden = frozenset(kind.intake.pseudonymise)
    unknown = hidden - checks.keys()
    if unknown:
        raise TypeError(f"{kind.label}: pseudonymise names no field: {sorted(unknown)}")
    label = kind.label

    by_nhs = kind.intake.key_by == "nhs_number"

    def build(raw: Any, _urn: str | None, key: Key, stamp: Stamp) -> Any:
        # An NHS-keyed record is published under the number's hash until an enrolment
        # links it; the upload's transaction re-keys it then (store/nhs_links.py).
        child_key = nhs_key(raw.nhs_number, key) if by_nhs else f.child_key(raw.upn, key)
        values: dict[str, object] = {}
        for name, check in checks.items():
            value = check(getattr(raw, name), stamp)
            if name in hidden and isinstance(value, str):
                # Domain-separated from UPNs: the same HMAC key, never the same input.
                value = key(f"ref:{label}:{name}:{value.encode('utf-8').hex()}")
            values[name] = value
        first = values[days[0]] if days else stamp.recorded_at.date()
        assert isinstance(first, date)
        return kind.event_type(
            **f.envelope(raw.event_id, stamp, f.midnight(first)),
            child_key=child_key,
            **values,
        )

    return build
