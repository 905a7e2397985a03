"""A new flag from a new data stream, defined only here: a schema + a rule + a config entry.

This is the worked example behind docs/adding-a-stream.md. A police anti-social behaviour
(ASB) stream raises ASB when a child is named in N incidents within D days. Nothing in
services/ changes: the flagger, its state codec, the codec and the oracle take it as is.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import pytest

from flagger.handler import MessageHandler
from flagger.state_codec import StateCodec
from flagstream import catalogue
from flagstream.catalogue import EventKind, Freshness
from flagstream.codec import DEFAULT_SCHEMAS_DIR, Codec
from flagstream.domain.events import DayEnded, Event
from flagstream.domain.observations import Observation
from flagstream.domain.rules import DEFAULT_RULES
from flagstream.domain.rules.base import FlagSettings, Outcome, Rule
from flagstream.domain.state import ChildState
from flagstream.rules_file import DEFAULT_RULES_FILE, describe_rules, parse_rules
from flagstream_tools.oracle import raised, recompute

from .factories import T0


# 1. The schema: a dataclass mirroring an .avsc (written below as it would be in schemas/).
@dataclass(frozen=True, slots=True, kw_only=True)
class AntisocialBehaviourRecorded(Event):
    """A child named in a police anti-social behaviour incident."""

    child_key: str
    incident_ref: str
    incident_on: date
    category: str


SCHEMA = {
    "type": "record",
    "name": "AntisocialBehaviourRecorded",
    "namespace": "flagstream",
    "doc": "A child named in a police anti-social behaviour incident. Keyed by child_key.",
    "fields": [
        *json.loads((DEFAULT_SCHEMAS_DIR / "DayEnded.avsc").read_text())["fields"][:4],
        {"name": "child_key", "type": "string"},
        {"name": "incident_ref", "type": "string"},
        {"name": "incident_on", "type": {"type": "int", "logicalType": "date"}},
        {"name": "category", "type": "string"},
    ],
}


def _observe(e: AntisocialBehaviourRecorded) -> Observation:
    return Observation("asb", e.incident_ref, e.incident_on, e.category)


ASB_KIND = EventKind(
    AntisocialBehaviourRecorded,
    "AntisocialBehaviourRecorded",
    "asb",
    "child_events",
    observe=_observe,
    freshness=Freshness("asb", ("incident_on",), urn=None),
)


@pytest.fixture(autouse=True, scope="module")
def _asb_catalogued() -> Iterator[None]:
    with catalogue.registered(ASB_KIND):
        yield


# 2. The rule: a pure function of the child's state and an as-of date.
@dataclass(frozen=True, slots=True, kw_only=True)
class AsbSettings(FlagSettings):
    incidents: int = 2
    days: int = 90


def asb(state: ChildState, as_of: date, s: AsbSettings) -> Outcome:
    recent = [o for o in state.observed("asb") if as_of - timedelta(days=s.days) < o.on <= as_of]
    return Outcome(
        len(recent) >= s.incidents,
        f"{len(recent)} anti-social behaviour incident(s) in {s.days} days "
        f"(flag from {s.incidents})",
    )


ASB = Rule("ASB", AsbSettings, asb, lambda s: f"ASB: {s.incidents}+ incidents in {s.days} days")
RULES = {**DEFAULT_RULES, "ASB": ASB}

# 3. The config entry.
TEXT = DEFAULT_RULES_FILE.read_text() + "\n[flags.ASB]\nenabled = true\nincidents = 2\ndays = 90\n"

D = date(2026, 1, 12)


@pytest.fixture(scope="module")
def codec(tmp_path_factory: pytest.TempPathFactory) -> Codec:
    schemas = tmp_path_factory.mktemp("schemas")
    for path in Path(DEFAULT_SCHEMAS_DIR).glob("*.avsc"):
        shutil.copy(path, schemas)
    (schemas / "AntisocialBehaviourRecorded.avsc").write_text(json.dumps(SCHEMA))
    return Codec(schemas)  # the catalogue's kinds, ASB among them (the fixture above)


def incident(ref: str, on: date) -> AntisocialBehaviourRecorded:
    return AntisocialBehaviourRecorded(
        event_id=uuid.uuid4(),
        source="police",
        occurred_at=T0,
        recorded_at=T0,
        child_key="kid",
        incident_ref=ref,
        incident_on=on,
        category="youth nuisance",
    )


def test_the_example_flag_is_raised_and_cleared_by_the_unchanged_flagger(codec: Codec) -> None:
    config = parse_rules(TEXT, "example", RULES)
    assert "ASB: 2+ incidents in 90 days" in describe_rules(config, RULES)
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(codec, table, config, 1, clock=lambda: T0, flag_rules=RULES)
    log = [incident("INC-1", D), incident("INC-2", D + timedelta(days=20))]

    assert handle(codec.encode(log[0]), 0).changes == []
    out = handle(codec.encode(log[1]), 0)
    assert [(c.flag, c.change) for c in out.changes] == [("ASB", "RAISED")]
    assert out.counts == {"asb": 1}
    # The same incident again (a partner's retry) changes nothing.
    assert handle(codec.encode(log[1]), 0).changes == []
    # The state codec keeps the observations with no change of its own.
    handle.flush()
    state = StateCodec(codec).decode(table[b"kid"])
    assert [o.ref for o in state.observed("asb")] == ["INC-1", "INC-2"]

    # The oracle, sharing only the rule, agrees while raised ...
    as_of = D + timedelta(days=20)
    assert raised(recompute(log, as_of, config, RULES)["kid"]) == {"ASB": ""}
    # ... and once the first incident is more than 90 days old, a tick clears it.
    later = D + timedelta(days=95)
    tick = DayEnded(
        event_id=uuid.uuid4(), source="clock", occurred_at=T0, recorded_at=T0, day=later
    )
    out = handle(codec.encode(tick), 0)
    assert [(c.flag, c.change) for c in out.changes] == [("ASB", "CLEARED")]
    assert raised(recompute(log, later, config, RULES)["kid"]) == {}


def test_the_default_rules_refuse_the_unknown_flag() -> None:
    with pytest.raises(ValueError, match="unknown flag 'ASB'"):
        parse_rules(TEXT, "example")
