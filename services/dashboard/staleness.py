"""The banner every page and live table carries while the read model is not to be trusted:
being rebuilt from the log (incomplete), or not checked by the projector for a while."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Connection

from readmodel.status import read_status

CHECK_OLD_AFTER = timedelta(minutes=2)


def banner(conn: Connection, now: datetime) -> str | None:
    """Words for the banner, or None while the read model is complete and current."""
    status = read_status(conn)
    if status is None:
        return None
    if status.state == "rebuilding":
        return (
            f"The data is being rebuilt from the log since {status.since:%d %b %H:%M} UTC "
            f"({status.detail}). Flags and counts shown are incomplete until it finishes."
        )
    if status.state != "current":
        return (
            f"The data may be out of date since {status.since:%d %b %H:%M} UTC: "
            f"{status.detail}. Operations have been alerted."
        )
    if status.flagger_lag is not None and status.flagger_lag < 0:
        return (
            "The flagger's position is past the end of the log (a reset log): flags shown may "
            "be wrong until operations rebuild it."
        )
    if status.checked_at is not None and now - status.checked_at > CHECK_OLD_AFTER:
        return (
            f"The data was last confirmed current at {status.checked_at:%d %b %H:%M} UTC: "
            "the projector may be down, so flags shown may be out of date."
        )
    return None
