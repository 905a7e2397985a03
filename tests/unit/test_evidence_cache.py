"""The evidence cache: an entry is reused while the read-model version is unchanged or it is
younger than its age limit, recomputed otherwise; entries are per key (area and viewer scope)
and the least recently used goes first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from dashboard.evidence_cache import EvidenceCache

NOW = datetime(2026, 10, 2, 9, tzinfo=UTC)


def counter() -> tuple[list[int], Any]:
    calls = [0]

    def compute() -> dict[str, Any]:
        calls[0] += 1
        return {"n": calls[0]}

    return calls, compute


def test_reused_at_the_same_version_and_recomputed_after_a_change_once_too_old() -> None:
    _, compute = counter()
    cache = EvidenceCache(max_age_s=0.0)
    assert cache.get("k", 1, compute, lambda: NOW).figures == {"n": 1}
    assert cache.get("k", 1, compute, lambda: NOW).figures == {"n": 1}  # same version
    assert cache.get("k", 2, compute, lambda: NOW).figures == {"n": 2}  # changed, too old
    assert (cache.hits, cache.misses) == (1, 2)


def test_a_young_entry_is_reused_though_the_read_model_changed() -> None:
    calls, compute = counter()
    cache = EvidenceCache(max_age_s=300.0)
    cache.get("k", 1, compute, lambda: NOW)
    entry = cache.get("k", 7, compute, lambda: NOW)
    assert entry.figures == {"n": 1} and entry.seq == 1 and calls == [1]


def test_keys_are_apart_and_the_least_recently_used_goes_first() -> None:
    calls, compute = counter()
    cache = EvidenceCache(max_age_s=300.0, size=2)
    cache.get(("zone", "North", "zone", "North"), 1, compute, lambda: NOW)
    cache.get(("school", "100001", "school", "100001"), 1, compute, lambda: NOW)
    assert calls == [2]  # another viewer scope is never served the first one's figures
    cache.get(("zone", "North", "zone", "North"), 1, compute, lambda: NOW)  # used again
    cache.get(("county", None, "manager", None), 1, compute, lambda: NOW)  # evicts the school
    cache.get(("school", "100001", "school", "100001"), 1, compute, lambda: NOW)
    assert calls == [4]
