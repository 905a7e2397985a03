"""The kernel's users file: an optional email per login, checked, written back and read
again; the dashboard's names are the same objects (re-exported)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import dashboard.users as dashboard_users
from flagstream.users_file import User, UsersFileError, load_users, write_users


def test_an_email_is_kept_and_optional(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    write_users(path, [User("dsl1", "dsl", "100001", "h", "dsl1@s.example.invalid"),
                       User("boss", "manager", None, "h")])  # fmt: skip
    users = load_users(path)
    assert users["dsl1"].email == "dsl1@s.example.invalid" and users["boss"].email is None
    assert "email" not in json.loads(path.read_text())["users"][1]  # older files stay alike
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("bad", ["not-an-address", "a@b", "two@@x.invalid", "x y@z.invalid"])
def test_a_bad_email_is_refused_with_whose(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "users.json"
    entry = {
        "username": "dsl1",
        "role": "dsl",
        "scope": "100001",
        "password_hash": "h",
        "email": bad,
    }
    path.write_text(json.dumps({"users": [entry]}))
    with pytest.raises(UsersFileError, match="dsl1: email"):
        load_users(path)


def test_the_dashboard_re_exports_the_same_names() -> None:
    assert dashboard_users.User is User and dashboard_users.load_users is load_users
    assert dashboard_users.UsersFileError is UsersFileError
