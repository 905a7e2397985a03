"""Deploying a rules version re-evaluates held state and emits exactly the oracle's changes."""

import uuid
from datetime import date, timedelta

import pytest

from flagger.handler import MessageHandler, Rejected, rules_key
from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded, RulesDeployed
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream.topics import partition_for
from flagstream_tools.oracle import raised, recompute

from .factories import T0, mark

CODEC = Codec()
PARTITIONS = 3
V1_TEXT = DEFAULT_RULES_FILE.read_text()
V2_TEXT = V1_TEXT.replace('version = "2026.2"', 'version = "2026.3-test"').replace(
    "persistent_absence_pct = 10.0", "persistent_absence_pct = 20.0"
)
V1, V2 = parse_rules(V1_TEXT), parse_rules(V2_TEXT)
DAYS = [date(2025, 9, 8) + timedelta(days=d) for d in range(14) if d % 7 < 5]  # 10 days


def _history() -> list[AttendanceMarksRecorded]:
    """Child i misses i of 20 sessions: 0%..60% absent, either side of both thresholds."""
    batches = []
    for i in range(13):
        codes = ["O"] * i + ["/"] * (20 - i)
        marks = [
            mark(f"child-{i}", day, session, codes[2 * n + s])
            for n, day in enumerate(DAYS)
            for s, session in enumerate(("AM", "PM"))
        ]
        batches.append(AttendanceMarksRecorded(batch_id=uuid.uuid4(), marks=marks))
    return batches


def _deploy(text: str, version: str) -> bytes:
    return CODEC.encode(
        RulesDeployed(
            event_id=uuid.uuid4(),
            source="rules",
            occurred_at=T0,
            recorded_at=T0,
            version=version,
            rules_toml=text,
        )
    )


def _loaded() -> tuple[MessageHandler, dict[bytes, bytes]]:
    table: dict[bytes, bytes] = {}
    handle = MessageHandler(CODEC, table, V1, PARTITIONS, clock=lambda: T0)
    for batch in _history():
        child = batch.marks[0].child_key
        handle(CODEC.encode(batch), partition_for(child, PARTITIONS))
    handle.flush()
    return handle, table


def test_a_threshold_change_emits_exactly_the_changes_the_oracle_predicts() -> None:
    handle, _ = _loaded()
    as_of = DAYS[-1]
    before = {k: raised(v) for k, v in recompute(_history(), as_of, V1).items()}
    after = {k: raised(v) for k, v in recompute(_history(), as_of, V2).items()}
    expected = {
        (child, flag, "CLEARED" if flag in before[child] else "RAISED")
        for child in before
        for flag in set(before[child]) ^ set(after[child])
    }
    assert expected, "the test history must straddle both thresholds"

    emitted = []
    for p in range(PARTITIONS):
        out = handle(_deploy(V2_TEXT, V2.version), p)
        emitted += out.changes
        # A new snapshot goes out for a changed flag or reason (the threshold is quoted),
        # never for a child with no flag before or after.
        snapshotted = {s.child_key for s in out.snapshots}
        assert {c.child_key for c in out.changes} <= snapshotted
        assert not snapshotted & {k for k in before if not before[k] and not after[k]}
    assert {(c.child_key, c.flag, c.change) for c in emitted} == expected
    assert {c.rule_version for c in emitted} == {"2026.3-test"}
    # Deploying the same version again changes nothing.
    assert all(not handle(_deploy(V2_TEXT, V2.version), p).changes for p in range(PARTITIONS))


def test_deployed_rules_survive_a_restart_and_apply_per_partition() -> None:
    handle, table = _loaded()
    handle(_deploy(V2_TEXT, V2.version), 0)
    handle.flush()
    assert rules_key(0, PARTITIONS) in table
    restarted = MessageHandler(CODEC, table, V1, PARTITIONS, clock=lambda: T0)
    assert restarted.rules(0).version == "2026.3-test"
    assert restarted.rules(1).version == "2026.2"
    # The control record is not a child: a later sweep skips it.
    out = restarted(_deploy(V1_TEXT, V1.version), 0)
    assert out.snapshots and all(s.child_key.startswith("child-") for s in out.snapshots)


@pytest.mark.parametrize(
    ("text", "version", "reason"),
    [
        (V1_TEXT.replace("[flags.SEN]", "[flags.NOPE]"), "2026.2", "invalid_rules"),
        (V2_TEXT, "2026.4", "rules_version_mismatch"),
    ],
)
def test_invalid_rules_are_rejected_and_change_nothing(
    text: str, version: str, reason: str
) -> None:
    handle, table = _loaded()
    snapshot = dict(table)
    with pytest.raises(Rejected) as err:
        handle(_deploy(text, version), 0)
    assert err.value.reason == reason
    assert table == snapshot and handle.rules(0).version == "2026.2"
