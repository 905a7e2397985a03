"""The catalogue of event kinds: every domain event declared once, every entry consistent."""

from __future__ import annotations

import dataclasses
import inspect
import uuid
from datetime import date

import pytest

from flagstream import catalogue
from flagstream.catalogue import EventKind, Freshness
from flagstream.codec import DEFAULT_SCHEMAS_DIR
from flagstream.domain import events as ev
from flagstream.domain.observations import Observation
from flagstream.domain.state import ChildState
from flagstream.topics import Topics

from .factories import T0


def _domain_events() -> set[type]:
    return {
        cls
        for _, cls in inspect.getmembers(ev, inspect.isclass)
        if cls.__module__ == ev.__name__ and dataclasses.is_dataclass(cls)
        and "event_id" in {f.name for f in dataclasses.fields(cls)} | {"batch_id"}
        and cls is not ev.Event
    }  # fmt: skip


def test_every_domain_event_is_catalogued_once() -> None:
    events = {cls for cls in _domain_events() if "Recorded" in cls.__name__ or cls in {
        ev.DomesticAbuseNotified, ev.DayEnded, ev.FlagChanged, ev.ChildFlagsSnapshot,
        ev.ChildFlagsSnapshots, ev.RulesDeployed}}  # fmt: skip
    built_in = {k.event_type for k in catalogue.kinds() if k.schemas_dir is None}
    assert events <= built_in
    labels = [k.label for k in catalogue.kinds()]
    assert len(labels) == len(set(labels))


def test_every_schema_and_topic_named_exists() -> None:
    topics = Topics()
    for kind in catalogue.kinds():
        if kind.schemas_dir is None:
            assert (DEFAULT_SCHEMAS_DIR / f"{kind.schema}.avsc").exists(), kind.schema
        if kind.topic is not None:
            assert isinstance(getattr(topics, kind.topic), str), kind.topic


def test_child_events_change_state_and_reference_data_does_not() -> None:
    assert catalogue.child_input(ev.SenProvisionRecorded)
    assert catalogue.child_input(ev.AttendanceMarkRecorded)
    assert not catalogue.child_input(ev.SchoolRecorded)
    assert not catalogue.child_input(ev.DayEnded)  # a tick, handled per partition
    assert catalogue.mutator(ev.DayEnded) is not None
    assert catalogue.mutator(ev.OutcomeRecorded) is None


def test_freshness_sources_are_the_read_models() -> None:
    assert catalogue.freshness_sources() == (
        "enrolment", "register", "sen", "fsm", "assessment", "family", "outcome",
    )  # fmt: skip
    police = catalogue.of(ev.DomesticAbuseNotified)
    assert police is not None and police.sensitive and police.freshness is None


@dataclasses.dataclass(frozen=True, slots=True, kw_only=True)
class _Seen(ev.Event):
    child_key: str
    ref: str
    on: date


def _observe(e: _Seen) -> Observation:
    return Observation("seen_test", e.ref, e.on, "")


def test_a_generic_stream_gets_a_mutator_and_cannot_be_registered_twice() -> None:
    seen = EventKind(_Seen, "Seen", "seen_test", "child_events", observe=_observe,
                     freshness=Freshness("seen_test", ("on",), urn=None))  # fmt: skip
    with catalogue.registered(seen) as (kind,):
        assert catalogue.register(dataclasses.replace(kind)) is kind  # idempotent
        with pytest.raises(ValueError, match="already kind"):
            catalogue.register(EventKind(_Seen, "Other", "other_test", "child_events"))
        with pytest.raises(ValueError, match="label 'seen_test'"):
            catalogue.register(EventKind(ChildState, "X", "seen_test", None))
        event = _Seen(event_id=uuid.uuid4(), source="t", occurred_at=T0, recorded_at=T0,
                      child_key="k", ref="r1", on=date(2026, 9, 8))  # fmt: skip
        state = catalogue.apply_all(ChildState(child_key="k"), [event])
        assert state.observed("seen_test") == (
            Observation("seen_test", "r1", date(2026, 9, 8), ""),
        )
        assert state.as_of == date(2026, 9, 8)
        assert catalogue.observed_streams()["seen_test"] == 50
        assert "seen_test" in catalogue.freshness_sources()
    assert catalogue.of(_Seen) is None and catalogue.labelled("seen_test") is None
    assert "seen_test" not in catalogue.freshness_sources()
