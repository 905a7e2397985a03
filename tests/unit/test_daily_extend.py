"""daily.extend (a new school day's counts are the previous day's, moved by the children
whose intervals or spells start or end between the two) gives exactly the rows of
recomputing every day."""

import random
import uuid
from datetime import date, timedelta

import pytest
from sqlalchemy import Connection, create_engine, insert, select

from projector import daily
from readmodel.tables import daily_counts, flag_history, metadata, rolls, school_days

START = date(2025, 9, 1)
URNS = ["100001", "100002", "100003"]


def fill(conn: Connection, rng: random.Random) -> None:
    for _ in range(60):
        raised = START + timedelta(days=rng.randrange(30))
        cleared = raised + timedelta(days=rng.randrange(1, 15)) if rng.random() < 0.6 else None
        conn.execute(
            insert(flag_history).values(
                raised_event_id=str(uuid.uuid4()),
                child_key=f"c{rng.randrange(20)}",
                urn=rng.choice(URNS),
                flag=rng.choice(["ATTEND", "FSM", "SEN", "ASB"]),  # ASB: not a listed flag
                raised_on=raised,
                raised_reason="r",
                rule_version="v1",
                cleared_on=cleared,
                reflagged_within_12m=False,
            )
        )
    for n in range(25):
        joined = START + timedelta(days=rng.randrange(-10, 25))
        left = joined + timedelta(days=rng.randrange(1, 20)) if rng.random() < 0.3 else None
        conn.execute(
            insert(rolls)
            .values(child_key=f"c{n}", urn=rng.choice(URNS), joined_on=joined, left_on=left)
            .prefix_with("OR IGNORE")
        )


def counts(conn: Connection) -> list[tuple[object, ...]]:
    return sorted(tuple(r) for r in conn.execute(select(daily_counts)))


@pytest.mark.parametrize("seed", range(8))
def test_extending_day_by_day_equals_recomputing_every_day(seed: int) -> None:
    rng = random.Random(seed)
    days = sorted({START + timedelta(days=rng.randrange(35)) for _ in range(22)})
    results = []
    for incremental in (False, True):
        engine = create_engine("sqlite://")
        metadata.create_all(engine)
        with engine.begin() as conn:
            fill(conn, random.Random(seed))
            first = days[:4] if incremental else days
            conn.execute(insert(school_days), [{"day": d} for d in first])
            daily.refresh(conn, dict.fromkeys(URNS, date.min))
            later = days[4:] if incremental else []
            rng.shuffle(later)  # some land between days already counted
            for d in later:
                conn.execute(insert(school_days).values(day=d))
                daily.extend(conn, set(URNS), {d})
            results.append(counts(conn))
    assert results[0] == results[1]
    assert len(results[0]) >= len(days) * len(URNS) * 6  # every listed flag and ANY, each day
