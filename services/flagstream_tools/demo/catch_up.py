"""When the embedded stack has caught up: nothing upstream of the flagger or the projector,
twice in a row, and the read model complete."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from flagstream.lag import ahead, behind, end_offsets, group_offsets
from flagstream.topics import FLAGGER_APP_ID
from ingest.kinds import every_kind
from ingest.store.offsets import stored_offsets as validated_offsets
from projector.consumer import source_topics

if TYPE_CHECKING:
    from flagstream_tools.demo.stack import Stack

log = logging.getLogger("flagstream.stack")


def raw_kinds() -> tuple[str, ...]:
    """Every kind ingest takes now, for the partners' raw topics."""
    return tuple(k.name for k in every_kind())


def backlog(stack: Stack, projected: Callable[[], dict[tuple[str, int], int]]) -> tuple[int, int]:
    """(records not yet through the flagger, records the projector has not stored).
    The first counts what is still upstream of it too - messages waiting in ingest's and
    the validator's outboxes, and raw records the validator has not read - so a pause
    in publishing does not look like being caught up."""
    bootstrap = stack.broker.bootstrap
    ends = end_offsets(bootstrap, stack.topics.canonical)
    committed = group_offsets(bootstrap, FLAGGER_APP_ID, ends)
    if ahead(ends, committed):  # a reset log the flagger has not yet noticed
        return 1, 1
    flagger = behind(ends, committed)
    if stack._outboxes is None:
        raise RuntimeError("the stack is not started")
    http, kafka = stack._outboxes
    queued = http.pending() + kafka.pending()
    with kafka.engine.connect() as conn:
        validated = validated_offsets(conn)
    raw = [stack.topics.raw(kind) for kind in raw_kinds()]
    unvalidated = behind(end_offsets(bootstrap, raw), validated)
    projector = behind(end_offsets(bootstrap, source_topics(stack.topics)), projected())
    return flagger + queued + unvalidated, projector


def wait_caught_up(
    stack: Stack,
    projected: Callable[[], dict[tuple[str, int], int]],
    timeout: float = 180.0,
    on_poll: Callable[[int, int], None] | None = None,
) -> None:
    """Block until flagger and projector have consumed everything, twice in a row, and the
    read model says it is complete. While the broker or a service is down (and being
    restarted by the supervisor) it keeps waiting."""
    deadline = time.monotonic() + timeout
    clean, flagger, projector = 0, -1, -1
    while clean < 2:
        stack._check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"pipeline not caught up in {timeout:g}s (last seen: {flagger} record(s) "
                f"not through the flagger, {projector} not stored by the projector, read "
                f"model complete: {stack.complete()}); see logs in {stack.workdir / 'logs'}"
            )
        try:
            flagger, projector = backlog(stack, projected)
            done = flagger == 0 and projector == 0 and stack.complete()
        except Exception as exc:  # the broker or a database away for a moment
            log.debug("backlog not known now: %s", exc)
            flagger, projector, done = -1, -1, False
        if on_poll:
            on_poll(flagger, projector)
        clean = clean + 1 if done else 0
        time.sleep(1.0)
