"""Attain for every year group through the real pipeline: a generated county's results (EYFS,
phonics, MTC, teacher assessments, KS2, KS3) -> embedded broker -> Faust flagger -> projector
-> SQL, where every child's Attain flag and reason equal the batch oracle's, and Key Stage 1
pupils carry it."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from pathlib import Path

from sqlalchemy import text

from flagstream.domain import events as ev
from flagstream.rules_file import DEFAULT_RULES_FILE, parse_rules
from flagstream_tools.demo.stack import Stack
from flagstream_tools.generator import make_county, timeline
from flagstream_tools.generator.canonical import canonical_events
from flagstream_tools.oracle import recompute_children
from readmodel.db import make_engine

from .canonical_publish import publish
from .test_flags_e2e import _wait


def test_projected_attain_equals_the_oracle_for_every_year_group(tmp_path: Path) -> None:
    county = make_county("tiny", seed=5)
    log = list(canonical_events(county, timeline(county, date(2025, 9, 8), 5, seed=5)))
    kinds = {e.assessment for e in log if isinstance(e, ev.AssessmentRecorded)}
    assert {"EYFS_GLD", "PHONICS", "MTC", "TA_READING", "KS2_READING", "KS3_MATHS"} <= kinds
    as_of = max(e.day for e in log if isinstance(e, ev.DayEnded))
    expected = recompute_children(log, as_of, parse_rules(DEFAULT_RULES_FILE.read_text()))

    with Stack(tmp_path, partitions=3) as stack:
        engine = make_engine(stack.database_url)
        publish(stack.broker.bootstrap, stack.topics, 3, log)
        _wait(stack, engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT child_key, nc_year, attain, attain_reason FROM child_flag_columns")
            ).all()
        engine.dispose()

    assert {r.child_key for r in rows} == set(expected)
    by_year: dict[int, list[bool]] = defaultdict(list)
    for row in rows:
        outcome = expected[row.child_key].outcomes["ATTAIN"]
        assert bool(row.attain) == outcome.raised, row.child_key
        if outcome.raised:  # the reason names the same results in the same words
            assert row.attain_reason == outcome.reason, row.child_key
        by_year[row.nc_year].append(bool(row.attain))
    key_stage_1 = by_year[1] + by_year[2]
    assert any(key_stage_1) and not all(key_stage_1)
    assert any(by_year[3] + by_year[4])
