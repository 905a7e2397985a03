"""The demo's first simulated day: its school days never pass today, after which ingest
refuses records as date_in_future."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flagstream_tools.generator import school_days


def today() -> date:
    """Today by ingest's clock (UTC), after which it refuses records as date_in_future."""
    return datetime.now(UTC).date()


class StartTooLate(ValueError):
    """A --start the user chose whose school days would pass today."""


def latest_start(days: int, on_or_before: date) -> date:
    """The first of `days` (at least one) school days that end on the last school day on or
    before the given date."""
    day = on_or_before - timedelta(days=max(0, on_or_before.weekday() - 4))  # weekend: Friday
    for _ in range(days - 1):
        day -= timedelta(days=3 if day.weekday() == 0 else 1)
    return day


def fit_start(start: date, days: int, now: date, given: bool) -> date:
    """The first simulated day: start, unless its `days` school days would pass `now` -
    then the latest start that fits, or StartTooLate (saying what to pass) if start was
    the user's."""
    if days <= 0 or school_days(start, days)[-1] <= now:
        return start
    fits = latest_start(days, now)
    if given:
        raise StartTooLate(
            f"--start {start} with {days} school days runs to {school_days(start, days)[-1]}, "
            f"after today ({now}), and ingest refuses records dated after today: pass "
            f"--start {fits} or earlier (or no --start), or fewer --days / --live-days"
        )
    return fits
