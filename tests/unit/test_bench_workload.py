"""The benchmark's workload and figures: messages as ingest shapes them, percentiles, verdicts."""

from __future__ import annotations

from datetime import date

from flagstream.codec import Codec
from flagstream.domain.events import AttendanceMarksRecorded, DayEnded
from flagstream.topics import Topics, partition_for
from flagstream_tools import generator as gen
from flagstream_tools.bench.e2e import Freshness
from flagstream_tools.bench.report import REQUIRED, table
from flagstream_tools.bench.workload import build

START = date(2025, 9, 1)


def _work(preload: int, days: int):  # type: ignore[no-untyped-def]
    county = gen.make_county("tiny", 3)
    items = list(gen.timeline(county, START, days, 3))
    codec = Codec()
    work = build(county, items, preload, codec, Topics(), 4, lambda upn: f"k-{upn}")
    return county, items, codec, work


def test_preloaded_days_become_messages_and_later_registers_are_kept_for_http() -> None:
    county, items, _codec, work = _work(2, 3)
    regs = [i for i in items if isinstance(i, gen.Register)]
    third = gen.school_days(START, 3)[2]
    first_two = [r for r in regs if r.day < third]
    assert work.later == [r for r in regs if r.day == third] != []
    marks = sum(m.events for m in work.messages if m.kind == "attendance_mark")
    assert marks == sum(len(r.marks) for r in first_two)
    assert work.kinds["enrolment"] == len(county.pupils)
    assert work.kinds["school"] == len(county.schools)
    assert work.kinds["day_ended"] == 2 * 4  # a tick per preloaded day in every partition
    assert work.events == sum(work.kinds.values()) - work.kinds["school"]


def test_every_mark_travels_in_the_partition_that_owns_its_child() -> None:
    _, _, codec, work = _work(1, 1)
    batches = [m for m in work.messages if m.kind == "attendance_mark"]
    assert batches
    for m in batches:
        decoded = codec.decode(m.value)
        assert isinstance(decoded, AttendanceMarksRecorded)
        assert len(decoded.marks) == m.events
        assert {partition_for(x.child_key, 4) for x in decoded.marks} == {m.partition}
        assert all(x.child_key.startswith("k-") for x in decoded.marks)  # never a raw UPN
    ticks = [codec.decode(m.value) for m in work.messages if m.kind == "day_ended"]
    assert all(isinstance(t, DayEnded) and t.day == START for t in ticks)


def test_percentiles_are_nearest_rank() -> None:
    fresh = Freshness(samples_ms=[float(n) for n in range(1, 101)])
    assert (fresh.percentile(50), fresh.percentile(95), fresh.percentile(99)) == (50, 95, 99)
    assert Freshness().percentile(99) == 0.0


def test_table_shows_ratios_and_whether_targets_are_met() -> None:
    figures = {key: 1.0 for key in REQUIRED}
    figures |= {
        "naive_faust_events_per_s": 1_000.0,
        "flagger_events_per_s": 25_000.0,
        "flagger_vs_naive": 25.0,
        "e2e_p99_ms": 1_500.0,
    }
    text = table(figures)
    assert "25.00x naive" in text
    assert ">= 20: met" in text
    assert "< 1,000: NOT met" in text
