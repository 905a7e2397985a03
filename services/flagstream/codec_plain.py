"""The codec's cheap read for consumers that convert only the fields they need (the
projector): each record a message carries as a Plain, keyed by its domain event class, never
by a schema name.

A plain record keeps Avro's stored values: timestamps in epoch milliseconds, dates in epoch
days, UUIDs as strings. An AttendanceMarksRecorded comes in its compact batch form
(mark_batch.py) whichever schema wrote it, so a consumer has one form to read.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from . import mark_batch
from .domain.events import AttendanceMarksRecorded
from .logical import EPOCH, EPOCH_ORDINAL

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Plain:
    """A decoded record: the domain event class it stands for and its plain values."""

    kind: type[Any]
    record: Record


def _plain_value(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list):
        return [_plain_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain_value(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return (value - EPOCH) // timedelta(milliseconds=1)
    if isinstance(value, date):
        return value.toordinal() - EPOCH_ORDINAL
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def plain_of(event: Any) -> Plain:
    """A domain event as the Plain the codec reads from its encoding (for callers holding
    events, e.g. tests handing the projector what the flagger emitted)."""
    if isinstance(event, AttendanceMarksRecorded):  # written in its compact wire form
        return Plain(AttendanceMarksRecorded, _plain_value(mark_batch.to_batch(event)))
    return Plain(type(event), _plain_value(event))
