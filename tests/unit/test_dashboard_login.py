"""Sign-in hardening: the login limiter's memory is bounded, and new passwords meet a rule."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from dashboard.passwords import WeakPasswordError, check_password
from dashboard.security import LoginLimiter
from dashboard.users import User, UsersFileError, add_user, load_users
from flagstream_tools import cli


def test_a_flood_of_made_up_names_cannot_grow_the_limiter() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0], max_keys=100)
    for i in range(5_000):
        limiter.failed(f"user:made-up-{i}", "ip:10.0.0.1")
        assert len(limiter) <= 100
    assert limiter.retry_after("ip:10.0.0.1") > 0  # the flooding client stays blocked
    assert limiter.retry_after("user:made-up-0") == 0  # evicted first: oldest latest failure


def test_limiter_entries_expire_after_the_window() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for i in range(50):
        limiter.failed(f"user:u{i}", f"ip:{i}")
    assert len(limiter) == 100
    now[0] = 61.0
    assert limiter.retry_after("user:someone") == 0
    assert len(limiter) == 0


def test_the_limiter_keeps_only_the_failures_it_needs() -> None:
    now = [0.0]
    limiter = LoginLimiter(max_failures=3, window_s=60, clock=lambda: now[0])
    for t in range(1_000):
        now[0] = t / 100
        limiter.failed("user:a")
    assert len(limiter._failures["user:a"]) == 3
    assert limiter.retry_after("user:a") == 60  # the third-newest (9.97 s) + 60 s, from 9.99 s


@pytest.mark.parametrize(
    ("username", "password", "why"),
    [
        ("amy", "short one", "has 9 characters; use at least 12"),
        ("headteacher.1", "Headteacher.1", "is the user name"),
        ("amy", "Password1234", "list of common passwords"),
        ("amy", "QWERTY123456", "list of common passwords"),
    ],
)
def test_add_user_refuses_a_weak_password_with_a_clear_reason(
    tmp_path: Path, username: str, password: str, why: str
) -> None:
    path = tmp_path / "users.json"
    with pytest.raises(WeakPasswordError, match=why):
        add_user(path, username, "school", "100001", password)
    assert not path.exists()


def test_a_good_password_is_accepted() -> None:
    check_password("amy", "correct horse battery")
    check_password("amy", "twelve chars")


def test_user_names_are_capped(tmp_path: Path) -> None:
    with pytest.raises(UsersFileError, match="1-64 characters"):
        User("x" * 65, "manager", None, "h")
    add_user(tmp_path / "u.json", "y" * 64, "manager", None, "a long enough secret")
    assert list(load_users(tmp_path / "u.json")) == ["y" * 64]


def test_the_cli_says_why_a_password_was_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "users.json"
    monkeypatch.setenv("FLAGSTREAM_DASHBOARD_USERS_FILE", str(path))
    monkeypatch.setattr("sys.stdin", io.StringIO("password1234\n"))
    argv = ["dashboard", "add-user", "amy", "--role", "manager", "--password-stdin"]
    assert cli.main(argv) == 2
    assert "common passwords" in capsys.readouterr().err and not path.exists()
    monkeypatch.setattr("sys.stdin", io.StringIO("a long enough secret\n"))
    assert cli.main(argv) == 0
    assert list(load_users(path)) == ["amy"]
