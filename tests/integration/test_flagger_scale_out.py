"""Two flagger workers share the partitions and give the same flags as the batch oracle."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path

import httpx

from flagstream.domain import events as ev
from flagstream.lag import behind, end_offsets, group_offsets
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream.topics import FLAGGER_APP_ID
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county, timeline
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.oracle import recompute_children
from flagstream_tools.reconcile import differences, from_oracle, from_read_model
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import children, restricted_flags

from .canonical_publish import publish

FLAGS = ["ATTAIN", "ATTEND", "FAMILY", "FSM", "SAFEGUARD", "SEN"]


def test_two_workers_share_the_partitions_and_agree_with_the_oracle(tmp_path: Path) -> None:
    county = make_county("tiny", seed=9)
    log = list(canonical_events(county, timeline(county, date(2025, 9, 8), 12, seed=9)))
    half = next(i for i, e in enumerate(log) if isinstance(e, ev.DayEnded)) + 1
    as_of = max(e.day for e in log if isinstance(e, ev.DayEnded))
    expected = from_oracle(
        recompute_children(log, as_of, parse_rules(DEFAULT_RULES_FILE.read_text()))
    )
    with Stack(tmp_path, partitions=4) as stack:
        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        # The first worker takes everything; the second joins mid-stream and takes a share.
        publish(stack.broker.bootstrap, stack.topics, 4, log[:half])
        stack.wait_caught_up(projected, timeout=120)
        second = stack.add_flagger(2)
        time.sleep(8)  # the join: the embedded broker holds it for the rebalance timeout
        publish(stack.broker.bootstrap, stack.topics, 4, log[half:])
        stack.wait_caught_up(projected, timeout=180)
        with engine.connect() as conn:
            diffs = differences(expected, from_read_model(conn, children, FLAGS, restricted_flags))
        engine.dispose()
        ends = end_offsets(stack.broker.bootstrap, stack.topics.canonical)
        committed = group_offsets(stack.broker.bootstrap, FLAGGER_APP_ID, ends)
        handled = [_events_in(port) for port in (stack.flagger_metrics_port, second)]
    assert diffs == []
    assert behind(ends, committed) == 0
    # Both workers consumed a share of the input.
    assert all(n > 0 for n in handled), handled


def _events_in(port: int) -> float:
    text = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("flagstream_events_in_total{")
    )
