"""The flagger's checks that its state belongs to the log it reads.

Before Faust starts (`prepare`): the topics must exist as `flagstream topics create` makes
them; the topic ids of the canonical topics and the changelog are compared with those kept
in the data folder (`log-topics.json`); committed offsets must not be past a partition's end;
and a partition whose input has been committed must have state in the changelog. Any
mismatch is a reset or lost log: with FLAGSTREAM_ON_RESET=refuse (the default) the flagger
stops and says what to run; with `rebuild` it empties its data folder and moves its consumer
group back to the start of every canonical partition, so every child is evaluated again
from the whole log - never from empty state beside committed input.

While running (`LogWatch`): the topic ids are checked every few seconds; the app exits at
once, acking nothing, when they change under it.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import time
from pathlib import Path

from kafka import TopicPartition
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata

from flagstream import kafka_clients
from flagstream.lag import end_offsets, group_offsets
from flagstream.metrics import ConsumerMetrics
from flagstream.settings import FlaggerSettings
from flagstream.topics import (
    FLAGGER_APP_ID,
    Topics,
    TopicsNotReady,
    TopicSpec,
    check_topics,
    describe,
    specs_named,
)

log = logging.getLogger("flagstream.flagger")
STATE_FILE = "log-topics.json"
EXIT_REFUSED = 2


def specs(topics: Topics, partitions: int) -> list[TopicSpec]:
    """The topics the flagger reads and writes."""
    used = (
        *topics.canonical,
        topics.flag_changes,
        topics.child_flags,
        topics.flagger_changelog,
        topics.flagger_leader,
        topics.quarantine,
    )
    return specs_named(topics, partitions, used)


def identity_topics(topics: Topics) -> list[str]:
    """Topics whose ids the flagger's state belongs to."""
    return [*topics.canonical, topics.flagger_changelog]


def _kept(data_dir: Path) -> dict[str, str] | None:
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    kept: dict[str, str] = json.loads(path.read_text())
    return kept


def _keep(data_dir: Path, ids: dict[str, str]) -> None:
    data_dir.mkdir(parents=True, exist_ok=True)
    tmp = data_dir / (STATE_FILE + ".tmp")
    tmp.write_text(json.dumps(ids, sort_keys=True))
    tmp.replace(data_dir / STATE_FILE)


Offsets = dict[tuple[str, int], int]


def problems(
    topics: Topics,
    kept: dict[str, str] | None,
    ids: dict[str, str],
    ends: Offsets,
    committed: Offsets,
) -> list[str]:
    """What says this flagger's state does not belong to the log (empty: it does). `ends` are
    the log ends of the canonical topics and the changelog; `committed`, the group's offsets
    on the canonical topics."""
    found: list[str] = []
    if kept is not None and kept != ids:
        changed = sorted(t for t in ids if kept.get(t) != ids[t])
        found.append(f"topics new or recreated since the state was kept: {', '.join(changed)}")
    past = sorted(f"{t}[{p}]" for (t, p), c in committed.items() if c > ends.get((t, p), 0))
    if past:
        found.append(f"committed offsets past the log end on {', '.join(past)}")
    missing = sorted(
        f"{t}[{p}]"
        for (t, p), c in committed.items()
        if t in (topics.enrolments, topics.child_events)
        and c > 0
        and ends.get((topics.flagger_changelog, p), 0) == 0
    )
    if missing:
        found.append(f"input committed but no state in the changelog for {', '.join(missing)}")
    return found


def reset_group(bootstrap: str, partitions: list[tuple[str, int]], wait_s: float = 120.0) -> None:
    """Move the flagger's consumer group to the start of these partitions. The group may still
    list a member that died without leaving (a flagger that rejoined the new broker before it
    noticed the reset), and refuses commits from outside the group until that member's
    session expires; so this joins the group itself, waits to be assigned every partition,
    commits offset 0 everywhere and leaves."""
    deadline = time.monotonic() + wait_s
    topics = sorted({t for t, _ in partitions})
    offsets = {TopicPartition(t, p): OffsetAndMetadata(0, "", -1) for t, p in partitions}
    while True:
        consumer = kafka_clients.consumer(
            bootstrap_servers=bootstrap,
            group_id=FLAGGER_APP_ID,
            enable_auto_commit=False,
            allow_auto_create_topics=False,
            session_timeout_ms=10_000,
        )
        try:
            consumer.subscribe(topics)
            while len(consumer.assignment()) < len(offsets):
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"could not take the whole consumer group {FLAGGER_APP_ID} in {wait_s:g}s:"
                        " is another flagger running? Stop every flagger, then start one."
                    )
                consumer.poll(timeout_ms=500)
            consumer.commit(offsets)
            log.info("consumer group %s moved to the start of the log", FLAGGER_APP_ID)
            return
        except KafkaError as exc:  # e.g. a dead Faust member with another protocol
            if time.monotonic() > deadline:
                raise
            log.warning("waiting for the consumer group to let the rebuild in: %s", exc)
            time.sleep(2.0)
        finally:
            consumer.close()


def _empty(data_dir: Path) -> None:
    if data_dir.exists():
        for child in data_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


def prepare(settings: FlaggerSettings, health: ConsumerMetrics) -> None:
    """Check the topics and that the state belongs to them; rebuild or refuse if not."""
    topics, bootstrap = Topics(settings.topic_prefix), settings.require_kafka()
    try:
        found = check_topics(bootstrap, specs(topics, settings.partitions))
    except TopicsNotReady as exc:
        log.critical("%s", exc)
        raise SystemExit(EXIT_REFUSED) from None
    ids = {t: found[t].topic_id or "" for t in identity_topics(topics)}
    ends = end_offsets(bootstrap, identity_topics(topics))
    canonical = {tp: end for tp, end in ends.items() if tp[0] in topics.canonical}
    committed = group_offsets(bootstrap, FLAGGER_APP_ID, canonical)
    wrong = problems(topics, _kept(settings.flagger_data_dir), ids, ends, committed)
    if wrong:
        health.log_resets.labels("flagger").inc()
        what = "; ".join(wrong)
        if settings.on_reset != "rebuild":
            log.critical(
                "the flagger's state does not belong to this log (%s). Nothing was evaluated. "
                "If the log was reset and the durable record republished, start it once with "
                "`flagstream flagger --rebuild` (or FLAGSTREAM_ON_RESET=rebuild) to rebuild its "
                "state from the whole log; see docs/operations.md",
                what,
            )
            raise SystemExit(EXIT_REFUSED)
        log.warning("rebuilding the flagger's state from the whole log: %s", what)
        _empty(settings.flagger_data_dir)
        if any(offset > 0 for offset in committed.values()):
            # Only when something was committed on this log (by a flagger that did not notice
            # the reset in time): a new broker's group has no offsets, so Faust starts at the
            # beginning anyway.
            reset_group(bootstrap, sorted(canonical))
    _keep(settings.flagger_data_dir, ids)


class LogWatch:
    """While running: notices the topics being recreated under the flagger."""

    def __init__(self, settings: FlaggerSettings) -> None:
        self._settings = settings
        self._topics = identity_topics(Topics(settings.topic_prefix))

    def _changed(self) -> str | None:
        kept = _kept(self._settings.flagger_data_dir)
        if kept is None:
            return None
        try:
            found = describe(self._settings.require_kafka(), self._topics)
        except Exception:  # broker away: cannot tell; Faust retries its own connections
            return None
        gone = [t for t in self._topics if t not in found]
        if gone:
            return f"topics gone: {', '.join(gone)}"
        changed = [t for t in self._topics if (found[t].topic_id or "") != kept.get(t, "")]
        return f"topics recreated: {', '.join(changed)}" if changed else None

    async def changed(self) -> str | None:
        """A description of what changed, or None while the log is the same."""
        return await asyncio.to_thread(self._changed)
