"""Benchmark sizes: how big a county, how many days, how many messages per stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from flagstream_tools.generator import Preset

BenchPreset = Literal["tiny", "small", "dorset"]
# An autumn term in the past, so ingest accepts every mark (it refuses future dates).
TERM_START: Final = date(2025, 9, 1)


@dataclass(frozen=True, slots=True)
class Size:
    """One preset: the county, school days preloaded to the topics, days sent over HTTP."""

    county: Preset
    preload_days: int
    e2e_days: int
    raw_messages: int  # single-event messages for the aiokafka produce/consume rates
    naive_events: int  # one-mark messages for the naive Faust agent
    timeout_s: float  # longest wait for any one stage


SIZES: Final[dict[BenchPreset, Size]] = {
    # CI: proves the machinery works end to end in well under a minute; figures are noisy.
    "tiny": Size("tiny", 3, 1, 5_000, 1_500, 60.0),
    # ~5,000 pupils, four school days preloaded, two end to end: ~1 minute on 2 cores (2026-12-02).
    "small": Size("demo", 4, 2, 30_000, 6_000, 300.0),
    # ~45,000 pupils, a 70-day autumn term (~6.3M marks): the rebuild target.
    "dorset": Size("dorset", 68, 2, 200_000, 20_000, 7_200.0),
}
