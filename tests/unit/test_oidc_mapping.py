"""Council sign-in's group mapping: each role from a group or an app role, a user matching
nothing or matching different grants refused with whom to ask, and a bad file refused with
what to fix."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dashboard.oidc_mapping import Grant, MappingFileError, Refused, load_mapping, parse_mapping

TOML = """
contact = "the Flagstream desk (flagstream@testshire.example)"
[[map]]
group = "g-school"
role = "school"
scope = "100001"
[[map]]
group = "g-dsl"
role = "dsl"
scope = "100001"
[[map]]
group = "g-dsl-copy"
role = "dsl"
scope = "100001"
[[map]]
group = "g-zone"
role = "zone"
scope = "North Zone"
[[map]]
group = "g-manager"
role = "manager"
[[map]]
app_role = "Flagstream.Admin"
role = "admin"
"""


@pytest.fixture
def mapping(tmp_path: Path) -> Any:
    (tmp_path / "map.toml").write_text(TOML)
    return load_mapping(tmp_path / "map.toml")


def grant(mapping: Any, **claims: Any) -> Grant | Refused:
    return mapping.grant_for(claims, "groups", "roles")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("g-school", Grant("school", "100001")),
        ("g-dsl", Grant("dsl", "100001")),
        ("g-zone", Grant("zone", "North Zone")),
        ("g-manager", Grant("manager", None)),
    ],
)
def test_each_group_grants_its_role_and_scope(mapping: Any, group: str, expected: Grant) -> None:
    assert grant(mapping, groups=["other", group]) == expected


def test_an_app_role_grants_too(mapping: Any) -> None:
    assert grant(mapping, roles=["Flagstream.Admin"]) == Grant("admin", None)
    assert grant(mapping, groups=["Flagstream.Admin"]).reason == "no_mapping"  # type: ignore[union-attr]


def test_an_unknown_group_is_refused_saying_whom_to_ask(mapping: Any) -> None:
    refused = grant(mapping, groups=["g-unknown"])
    assert isinstance(refused, Refused) and refused.reason == "no_mapping"
    assert "flagstream@testshire.example" in refused.message and "g-unknown" not in refused.message
    assert grant(mapping).reason == "no_mapping"  # type: ignore[union-attr]
    assert grant(mapping, groups="g-unknown").reason == "no_mapping"  # type: ignore[union-attr]


def test_groups_granting_different_access_are_refused_not_guessed(mapping: Any) -> None:
    refused = grant(mapping, groups=["g-dsl", "g-zone"])
    assert isinstance(refused, Refused) and refused.reason == "ambiguous"
    assert grant(mapping, groups=["g-school"], roles=["Flagstream.Admin"]).reason == "ambiguous"  # type: ignore[union-attr]
    # Two groups granting the same access are not ambiguous.
    assert grant(mapping, groups=["g-dsl", "g-dsl-copy"]) == Grant("dsl", "100001")


def test_entra_groups_overage_is_refused_with_what_to_change(mapping: Any) -> None:
    refused = grant(mapping, _claim_names={"groups": "src1"}, roles=["Flagstream.Admin"])
    assert isinstance(refused, Refused) and refused.reason == "groups_overage"
    assert "groups assigned to it" in refused.message


@pytest.mark.parametrize(
    ("entry", "words"),
    [
        ({"group": "g", "role": "boss"}, "is not one of"),
        ({"group": "g", "role": "dsl"}, "needs a scope"),
        ({"group": "g", "role": "manager", "scope": "x"}, "takes no scope"),
        ({"group": "g", "role": "school", "scope": "North"}, "6-digit URN"),
        ({"role": "manager"}, "exactly one of group"),
        ({"group": "g", "app_role": "r", "role": "manager"}, "exactly one of group"),
        ({"group": "g", "role": "manager", "scopes": "x"}, "unknown key"),
    ],
)
def test_a_bad_entry_is_refused_naming_it(entry: dict[str, Any], words: str) -> None:
    with pytest.raises(MappingFileError, match=words) as refused:
        parse_mapping({"map": [{"group": "ok", "role": "admin"}, entry]}, "m.toml")
    assert "[[map]] entry 2" in str(refused.value)


def test_a_bad_file_is_refused_saying_what_to_fix(tmp_path: Path) -> None:
    with pytest.raises(MappingFileError, match="no OpenID group mapping file"):
        load_mapping(tmp_path / "missing.toml")
    (tmp_path / "bad.toml").write_text("[[map]\n")
    with pytest.raises(MappingFileError, match="cannot read"):
        load_mapping(tmp_path / "bad.toml")
    with pytest.raises(MappingFileError, match="nobody could sign in"):
        parse_mapping({"contact": "x"})
    with pytest.raises(MappingFileError, match="mapped twice"):
        parse_mapping({"map": [{"group": "g", "role": "admin"}, {"group": "g", "role": "manager"}]})
