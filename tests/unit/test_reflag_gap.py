"""A re-flag counts only after the flag had been cleared for FLAGSTREAM_REFLAG_AFTER_DAYS."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from flagstream.settings import ProjectorSettings
from projector.history import intervals
from readmodel.evidence import is_rereferral

CLEARED = date(2025, 10, 1)


def change(kind: str, day: date) -> SimpleNamespace:
    return SimpleNamespace(
        event_id=f"{kind}{day}", child_key="k", urn="100001", flag="ATTEND", change=kind,
        reason=kind.lower(), rule_version="v1", as_of=day,
    )  # fmt: skip


@pytest.mark.parametrize(("gap", "counts"), [(1, False), (27, False), (28, True), (365, True)])
def test_a_raise_soon_after_a_clear_is_not_a_re_flag(gap: int, counts: bool) -> None:
    log = [change("RAISED", date(2025, 9, 10)), change("CLEARED", CLEARED)]
    rows = intervals([*log, change("RAISED", CLEARED + timedelta(days=gap))], 28)
    assert [r["reflagged_within_12m"] for r in rows] == [False, counts]
    assert rows[1]["previous_cleared_on"] == CLEARED  # the gap stays readable either way
    # The evidence screens count re-referrals from the same dates the same way.
    assert is_rereferral(CLEARED + timedelta(days=gap), CLEARED, 28) is counts
    # Without a gap (0) every raise within 12 months counts, as before.
    again = intervals([*log, change("RAISED", CLEARED + timedelta(days=gap))])
    assert again[1]["reflagged_within_12m"] is True


def test_the_gap_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    assert ProjectorSettings().reflag_after_days == 28
    monkeypatch.setenv("FLAGSTREAM_REFLAG_AFTER_DAYS", "7")
    assert ProjectorSettings().reflag_after_days == 7
