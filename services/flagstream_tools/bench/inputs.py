"""What `flagstream bench` feeds its stages: the synthetic county's workload, generated and
encoded once, and the naive agent's single marks taken from it."""

from __future__ import annotations

import sys

from flagstream.codec import Codec
from flagstream.topics import Topics
from flagstream_tools import generator as gen
from flagstream_tools.bench.presets import SIZES, TERM_START, BenchPreset
from flagstream_tools.bench.resources import PARTITIONS
from flagstream_tools.bench.workload import Message, Workload, build
from flagstream_tools.progress_bar import Progress
from ingest.pseudonymise import Pseudonymiser


def workload(preset: BenchPreset, seed: int, codec: Codec, key: str) -> Workload:
    """The preset's county and term, generated from the seed and encoded for the topics."""
    size = SIZES[preset]
    county = gen.make_county(size.county, seed)
    days = size.preload_days + size.e2e_days
    print(
        f"generating {len(county.schools)} schools, {len(county.pupils):,} pupils, {days} school "
        f"days from {TERM_START} ({size.preload_days} preloaded, {size.e2e_days} end to end)",
        flush=True,
    )
    # Marks: two a pupil a day, plus about 3% resent (repeated registers, corrections).
    progress = Progress("  generating and encoding", int(days * len(county.pupils) * 2.06), "marks")
    work = build(
        county,
        gen.timeline(county, TERM_START, days, seed),
        size.preload_days,
        codec,
        Topics(),
        PARTITIONS,
        Pseudonymiser(key.encode()),
        on_item=progress.advance,
    )
    progress.close()
    mix = ", ".join(f"{kind} {n:,}" for kind, n in work.kinds.most_common())
    print(f"  {work.events:,} events in {len(work.canonical):,} messages: {mix}", flush=True)
    return work


def single_marks(work: Workload, codec: Codec, n: int) -> list[Message]:
    """One encoded AttendanceMarkRecorded per message, keyed by child, from the workload."""
    out: list[Message] = []
    for m in work.canonical:
        if m.kind != "attendance_mark":
            continue
        for mark in codec.decode(m.value).marks:
            out.append(Message("", 0, mark.child_key.encode(), codec.encode(mark), 1, m.kind))
            if len(out) >= n:
                return out
    if not out:
        sys.exit("the workload has no marks: pick a bigger preset")
    return out
