"""The worked example behind docs/adding-a-stream.md, in-process: the test-only ASB extension
(tests/extensions/asb - its event, one catalogue entry, its schema and one rule) raised and
cleared by the unchanged flagger's handler, kept by its state codec, agreed by the oracle.
Nothing in services/ names it. tests/integration/test_extension_stream.py runs the same
extension through every service on the real broker.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, timedelta
from types import ModuleType
from typing import Any

import pytest

from flagger.handler import MessageHandler
from flagger.state_codec import StateCodec
from flagstream.codec import Codec
from flagstream.domain.events import DayEnded
from flagstream.domain.rules import DEFAULT_RULES
from flagstream.rules_file import DEFAULT_RULES_FILE, describe_rules, parse_rules
from flagstream_tools.oracle import raised, recompute
from tests.extensions import asb_loaded

from .factories import T0

# The config entry a council adds to its rules file.
TEXT = DEFAULT_RULES_FILE.read_text() + "\n[flags.ASB]\nenabled = true\nincidents = 2\ndays = 90\n"

D = date(2026, 1, 12)


@pytest.fixture
def asb() -> Iterator[ModuleType]:
    with asb_loaded() as module:
        yield module


@pytest.fixture
def codec(asb: ModuleType) -> Codec:
    return Codec()  # the catalogue's kinds and schema folders: ASB's among them


def incident(asb: ModuleType, ref: str, on: date) -> Any:
    return asb.AntisocialBehaviourRecorded(
        event_id=uuid.uuid4(),
        source="police",
        occurred_at=T0,
        recorded_at=T0,
        child_key="kid",
        incident_ref=ref,
        incident_on=on,
        category="youth nuisance",
    )


def test_the_example_flag_is_raised_and_cleared_by_the_unchanged_flagger(
    asb: ModuleType, codec: Codec
) -> None:
    config = parse_rules(TEXT, "example")  # the flag catalogue holds the extension's rule
    assert "ASB: 2+ incidents in 90 days" in describe_rules(config)
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(codec, table, config, 1, clock=lambda: T0)
    log = [incident(asb, "INC-1", D), incident(asb, "INC-2", D + timedelta(days=20))]

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
    assert raised(recompute(log, as_of, config)["kid"]) == {"ASB": ""}
    # ... and once the first incident is more than 90 days old, a tick clears it.
    later = D + timedelta(days=95)
    tick = DayEnded(
        event_id=uuid.uuid4(), source="clock", occurred_at=T0, recorded_at=T0, day=later
    )
    out = handle(codec.encode(tick), 0)
    assert [(c.flag, c.change) for c in out.changes] == [("ASB", "CLEARED")]
    assert raised(recompute(log, later, config)["kid"]) == {}


def test_without_the_extension_the_rules_refuse_the_unknown_flag() -> None:
    assert "ASB" not in DEFAULT_RULES
    with pytest.raises(ValueError, match="unknown flag 'ASB'"):
        parse_rules(TEXT, "example")
