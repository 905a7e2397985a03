"""The flagger's handler without Kafka or Faust: how much of the flagger is our own code."""

from __future__ import annotations

import cProfile
import io
import pstats
import time
from pathlib import Path

from flagger.checkpoint import FLUSH_EVERY
from flagger.handler import MessageHandler
from flagstream.codec import Codec
from flagstream.domain.rules import RuleConfig
from flagstream.term_calendar import england, term_start_lookup
from flagstream_tools.bench.workload import Workload

# On Dorset, partition 0's first ~39 of 68 school days (~16 s): most of a term, because the
# cost of evaluating a child grows with their register and the first weeks flattered the rate.
MAX_EVENTS = 600_000


def handler_rate(
    work: Workload,
    codec: Codec,
    rules: RuleConfig,
    partitions: int,
    profile_to: Path | None = None,
) -> tuple[int, float]:
    """(events, events/s) for up to MAX_EVENTS events, in order, into a dict table.

    A bigger workload is cut to one partition's messages first, so the sample still holds
    every kind of event in proportion and spans most of a term (a county's first MAX_EVENTS
    events would be its baseline and first weeks).

    With profile_to, also runs under cProfile and writes the stats there (and a text
    summary beside it, sorted by cumulative and by own time).
    """
    chosen = work.canonical
    if work.events > MAX_EVENTS:
        chosen = [m for m in chosen if m.partition == 0]
    messages, events = [], 0
    for m in chosen:
        if events >= MAX_EVENTS:
            break
        messages.append(m)
        events += m.events
    # England's calendar, as the flagger loads it: snapshots carry the term-to-date figures.
    term_of = term_start_lookup(england())
    handler = MessageHandler(codec, {}, rules, partitions, term_of=term_of)
    started = time.perf_counter()
    for n, m in enumerate(messages, 1):
        # Every snapshot built, as live (catching up, the flagger builds fewer: see Pending).
        _ = handler(m.value, m.partition).snapshots
        if n % FLUSH_EVERY == 0:
            handler.flush()  # as the flagger does before acking its input
    handler.flush()
    seconds = time.perf_counter() - started
    if profile_to:
        # A second, profiled run on a fresh table: the profiler slows it 2-3x.
        handler = MessageHandler(codec, {}, rules, partitions, term_of=term_of)
        profiler = cProfile.Profile()
        profiler.enable()
        for m in messages:
            _ = handler(m.value, m.partition).snapshots
        profiler.disable()
        profile_to.parent.mkdir(parents=True, exist_ok=True)
        profiler.dump_stats(profile_to)
        text = io.StringIO()
        stats = pstats.Stats(profiler, stream=text)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
        profile_to.with_suffix(".txt").write_text(text.getvalue())
    return events, events / seconds if seconds > 0 else 0.0
