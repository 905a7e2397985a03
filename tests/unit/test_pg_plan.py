"""`flagstream db roles|setup` and `migrate --admin-url` read their plan without a server:
every database of DATABASES (the alerts database too) must be its own PostgreSQL database,
and every login role's password may come from the file or the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from flagstream_tools.databases import DATABASES
from flagstream_tools.pg_roles import LOGIN_ROLES, Plan, RolesError, read_passwords

ADMIN = "postgresql+psycopg://postgres@db:5432/postgres"


def _urls(**override: str) -> dict[str, str]:
    urls = {db.name: f"postgresql+psycopg://u@db:5432/flagstream_{db.name}" for db in DATABASES}
    return {**urls, **override}


def test_the_plan_names_every_database_the_alerts_database_among_them() -> None:
    plan = Plan.of(ADMIN, _urls(), "fs")  # type: ignore[arg-type]
    assert plan.databases["alerts"] == "flagstream_alerts"
    assert set(plan.databases) == {db.name for db in DATABASES}
    assert plan.role("notifier") == "fs_notifier"


def test_the_alerts_database_may_not_share_the_read_models() -> None:
    urls = _urls(alerts="postgresql+psycopg://u@db:5432/flagstream_read_model")
    with pytest.raises(RolesError, match="flagstream_read_model holds more than one"):
        Plan.of(ADMIN, urls)  # type: ignore[arg-type]


def test_an_alerts_database_not_on_postgresql_is_refused_by_its_variable() -> None:
    with pytest.raises(RolesError, match="FLAGSTREAM_ALERTS_DATABASE_URL is sqlite"):
        Plan.of(ADMIN, _urls(alerts="sqlite:///var/alerts.db"))  # type: ignore[arg-type]


def test_the_notifiers_password_comes_from_the_file_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "notifier" in LOGIN_ROLES
    file = tmp_path / "passwords"
    file.write_text("# roles\nnotifier=from-the-file\n")
    assert read_passwords(file, from_env=False) == {"notifier": "from-the-file"}
    monkeypatch.setenv("DB_PASSWORD_NOTIFIER", "from-the-env")
    assert read_passwords(file, from_env=True) == {"notifier": "from-the-env"}
    file.write_text("owner=no\n")
    with pytest.raises(RolesError, match="notifier"):  # the message lists the login roles
        read_passwords(file, from_env=False)
