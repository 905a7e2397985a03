"""A time-dependent flag raised by a partner event and cleared by a day-end tick, for real:
producer -> embedded broker -> Faust flagger -> projector -> SQL."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from kafka import KafkaProducer
from sqlalchemy import select

from flagstream.codec import Codec
from flagstream.domain.events import DomesticAbuseNotified, FsmEligibilityRecorded
from flagstream_tools.clock import publish_day_ended
from flagstream_tools.demo.stack import Stack
from projector.writer import stored_offsets
from readmodel.db import make_engine
from readmodel.tables import flag_changes, restricted_flag_changes

D = date(2025, 10, 6)
T = datetime(2025, 10, 6, 20, tzinfo=UTC)


def test_notification_raises_safeguard_and_a_later_tick_clears_it(tmp_path: Path) -> None:
    codec = Codec()
    with Stack(tmp_path, partitions=3) as stack:
        engine = make_engine(stack.database_url)

        def projected() -> dict[tuple[str, int], int]:
            with engine.connect() as conn:
                return stored_offsets(conn)

        def changes() -> list[tuple[str, str, str]]:
            """Open and sensitive flag changes (the latter in their own table)."""
            rows = []
            with engine.connect() as conn:
                for t in (flag_changes, restricted_flag_changes):
                    rows += conn.execute(
                        select(t.c.child_key, t.c.flag, t.c.change).order_by(
                            t.c.as_of, t.c.change.desc()
                        )
                    ).all()
            return [tuple(r) for r in rows]  # type: ignore[misc]

        producer = KafkaProducer(bootstrap_servers=stack.broker.bootstrap, acks="all")
        env = {"source": "police", "occurred_at": T, "recorded_at": T}
        for child in ("k1", "k2"):
            notice = DomesticAbuseNotified(
                event_id=uuid.uuid4(),
                **env,
                child_key=child,
                urn="100001",
                incident_on=D,
                child_present=False,
            )
            producer.send(
                stack.topics.child_events, key=child.encode(), value=codec.encode(notice)
            ).get(timeout=10)
        fsm = FsmEligibilityRecorded(
            event_id=uuid.uuid4(),
            **env,
            child_key="k1",
            eligible_from=D,
            eligible_to=D + timedelta(days=10),
        )
        producer.send(stack.topics.child_events, key=b"k1", value=codec.encode(fsm)).get(timeout=10)
        producer.close()
        stack.wait_caught_up(projected, timeout=90)
        # Neither a notification nor an FSM period dates a child (marks, cases and ticks do):
        # nothing is evaluated until the day's tick.
        assert changes() == []
        publish_day_ended(stack.broker.bootstrap, stack.topics, 3, D, codec)
        stack.wait_caught_up(projected, timeout=90)
        assert sorted(changes()) == [
            ("k1", "FSM", "RAISED"),
            ("k1", "SAFEGUARD", "RAISED"),
            ("k2", "SAFEGUARD", "RAISED"),
        ]
        with engine.connect() as conn:  # and never in the tables everyone else reads
            assert "SAFEGUARD" not in conn.execute(select(flag_changes.c.flag)).scalars().all()

        # Eleven days on: the FSM period has ended; the notification is still within 28 days.
        publish_day_ended(stack.broker.bootstrap, stack.topics, 3, D + timedelta(days=11), codec)
        stack.wait_caught_up(projected, timeout=90)
        assert ("k1", "FSM", "CLEARED") in changes()
        assert ("k1", "SAFEGUARD", "CLEARED") not in changes()

        # Forty days on: the notification window has passed for both children.
        publish_day_ended(stack.broker.bootstrap, stack.topics, 3, D + timedelta(days=40), codec)
        stack.wait_caught_up(projected, timeout=90)
        cleared = {(c, f) for c, f, change in changes() if change == "CLEARED"}
        assert cleared == {("k1", "FSM"), ("k1", "SAFEGUARD"), ("k2", "SAFEGUARD")}
        engine.dispose()
