"""docker-compose.yml logs every service in as its own PostgreSQL role, to databases of its
own, after the `db` job has made the roles, migrated and granted (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import make_url

from flagstream_tools.cli import build_parser
from flagstream_tools.databases import DATABASES
from flagstream_tools.pg_roles import LOGIN_ROLES, PASSWORD_ENV

ROOT = Path(__file__).resolve().parents[2]
SERVICES: dict[str, dict[str, Any]] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())[
    "services"
]
URL_VARIABLES = {f"FLAGSTREAM_{db.setting.upper()}": db.name for db in DATABASES}
# service -> database -> the role it logs in as.
EXPECTED = {
    "ingest": {"ingest": "flagstream_ingest", "identity": "flagstream_ingest"},
    "validator": {"ingest": "flagstream_ingest", "identity": "flagstream_ingest"},
    "projector": {"read_model": "flagstream_projector"},
    "notifier": {"read_model": "flagstream_notifier", "alerts": "flagstream_notifier"},
    "dashboard": {
        "read_model": "flagstream_dashboard",
        "identity": "flagstream_dashboard",
        "audit": "flagstream_dashboard",
        "alerts": "flagstream_dashboard",
    },
}


def _urls(service: str) -> dict[str, Any]:
    env = SERVICES[service].get("environment", {})
    return {URL_VARIABLES[k]: make_url(v) for k, v in env.items() if k in URL_VARIABLES}


def test_each_service_logs_in_as_its_own_role() -> None:
    for service, expected in EXPECTED.items():
        found = {name: url.username for name, url in _urls(service).items()}
        assert found == expected, service


def test_every_database_is_its_own_and_the_same_for_every_service() -> None:
    names: dict[str, set[str]] = {}
    for service in (*EXPECTED, "db"):
        for name, url in _urls(service).items():
            names.setdefault(name, set()).add(url.database)
    assert all(len(found) == 1 for found in names.values()), names
    assert len({next(iter(found)) for found in names.values()}) == len(DATABASES)


def test_the_db_job_sets_up_roles_before_every_service_with_a_database() -> None:
    args = build_parser().parse_args(SERVICES["db"]["command"])
    assert (args.command, args.action) == ("db", "setup")
    assert make_url(args.admin_url).username == "postgres"
    assert args.passwords_from_env
    assert set(_urls("db")) == set(URL_VARIABLES.values())
    for service in EXPECTED:
        depends = SERVICES[service]["depends_on"]
        assert depends["db"] == {"condition": "service_completed_successfully"}, service
        assert "postgres" not in depends, f"{service}: wait for the db job, not the server"


def test_the_db_job_sets_every_login_roles_password() -> None:
    env = SERVICES["db"]["environment"]
    for role in LOGIN_ROLES:
        assert env[f"{PASSWORD_ENV}{role.upper()}"].startswith(f"${{{role.upper()}_DB_PASSWORD:-")
    assert "NOTIFIER_DB_PASSWORD" in (ROOT / "docker-compose.yml").read_text().split("services:")[0]


def test_only_the_db_job_knows_the_admin_password() -> None:
    for name, service in SERVICES.items():
        if name in ("db", "postgres"):
            continue
        assert "POSTGRES_PASSWORD" not in yaml.safe_dump(service), name
