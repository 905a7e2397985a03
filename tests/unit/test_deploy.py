"""The deployment files agree with the code: CLI commands, settings, ports and metric names.

Docker cannot run here, so these tests read docker-compose.yml and deploy/*.yml instead.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import CollectorRegistry

from flagstream.metrics import consumer_metrics, outbox_metrics, service_metrics
from flagstream.settings import Settings
from flagstream_tools.cli import build_parser
from notifier.runner import notifier_metrics

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = "deploy/Dockerfile"
FLAGSTREAM_SERVICES = {
    "db", "topics", "ingest", "validator", "flagger", "projector", "notifier", "dashboard"
}  # fmt: skip
# Prometheus job -> the Settings field holding the port that job's /metrics is served on.
METRICS_PORT_FIELDS = {
    "ingest": "ingest_port",
    "flagger": "flagger_metrics_port",
    "projector": "projector_metrics_port",
    "validator": "validator_metrics_port",
    "notifier": "notifier_metrics_port",
}


def _load(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text())


def _services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = _load("docker-compose.yml")["services"]
    return services


def _built_from_dockerfile() -> dict[str, dict[str, Any]]:
    return {
        name: service
        for name, service in _services().items()
        if service.get("build", {}).get("dockerfile") == DOCKERFILE
    }


def _environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    assert isinstance(env, dict), "write environment as a mapping so the anchor can merge"
    return {str(key): str(value) for key, value in env.items()}


def _setting(env: dict[str, str], field: str) -> str:
    """The value a service sees for a Settings field: its environment, else the default."""
    return env.get(f"FLAGSTREAM_{field.upper()}", str(Settings.model_fields[field].default))


def _exposed_series() -> set[str]:
    """Every series name the services' prometheus_client registries expose."""
    suffixes = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "gauge": [""]}
    registries = [service_metrics("test").registry]
    for metric_set in (outbox_metrics, consumer_metrics, notifier_metrics):  # each its own
        registries.append(CollectorRegistry())
        metric_set(registries[-1])
    families = [family for registry in registries for family in registry.collect()]
    return {family.name + s for family in families for s in suffixes[family.type]}


def _metric_names(expr: str) -> set[str]:
    """Metric names in a PromQL expression (identifiers that are not functions or keywords)."""
    expr = re.sub(r'"[^"]*"', "", expr)  # label values, template strings
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # range durations
    expr = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    keywords = {"and", "or", "unless", "bool", "offset"}
    found = re.findall(r"(?<![\w.])([A-Za-z_:][\w:]*)\s*(\(?)", expr)
    return {name for name, call in found if not call and name not in keywords}


def _alert_rules() -> list[dict[str, Any]]:
    return [rule for group in _load("deploy/alerts.yml")["groups"] for rule in group["rules"]]


def test_the_flagstream_services_are_built_from_the_dockerfile() -> None:
    assert set(_built_from_dockerfile()) == FLAGSTREAM_SERVICES
    for service in _built_from_dockerfile().values():
        assert service["build"]["context"] == "."


@pytest.mark.parametrize("name", sorted(FLAGSTREAM_SERVICES))
def test_service_command_is_the_cli_subcommand_of_the_same_name(name: str) -> None:
    command = _built_from_dockerfile()[name]["command"]
    assert isinstance(command, list), "use the exec form: a list of arguments"
    args = build_parser().parse_args(command)  # SystemExit (a test error) if it does not parse
    assert args.command == name


def test_every_flagstream_variable_is_a_settings_field() -> None:
    fields = set(Settings.model_fields)
    for name, service in _services().items():
        for key in _environment(service):
            if key.startswith("FLAGSTREAM_"):
                field = key.removeprefix("FLAGSTREAM_").lower()
                assert field in fields, f"{name}: {key} is not a field of Settings"


def test_every_service_gets_the_shared_kafka_settings() -> None:
    for name, service in _built_from_dockerfile().items():
        assert _environment(service)["FLAGSTREAM_KAFKA_BOOTSTRAP"] == "kafka:9092", name


def test_ingest_listens_beyond_the_container_and_takes_its_key_from_outside() -> None:
    env = _environment(_services()["ingest"])
    assert env["FLAGSTREAM_INGEST_HOST"] == "0.0.0.0"
    assert env["FLAGSTREAM_PSEUDONYM_KEY"].startswith("${FLAGSTREAM_PSEUDONYM_KEY:?")
    published = {str(p).rsplit(":", 1)[-1] for p in _services()["ingest"]["ports"]}
    assert _setting(env, "ingest_port") in published


def test_projector_writes_to_the_compose_postgres() -> None:
    url = _environment(_services()["projector"])["FLAGSTREAM_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://")
    assert "@postgres:5432/flagstream" in url


def test_the_notifier_reads_the_dashboards_users_file_and_checks_its_own_health() -> None:
    notifier, dashboard = _services()["notifier"], _services()["dashboard"]
    env = _environment(notifier)
    users = Path(_environment(dashboard)["FLAGSTREAM_DASHBOARD_USERS_FILE"])
    assert Path(_setting(env, "notifier_users_file")) == users
    [shared] = [v for v in dashboard["volumes"] if str(users.parent) in v]
    assert f"{shared}:ro" in notifier["volumes"]  # the same volume, read-only
    assert not [v for v in notifier["volumes"] if not v.endswith(":ro")]
    probe = " ".join(notifier["healthcheck"]["test"])
    assert f"127.0.0.1:{_setting(env, 'notifier_metrics_port')}/metrics" in probe
    assert notifier["depends_on"]["topics"] == {"condition": "service_completed_successfully"}
    # SMTP from the operator's environment; with none set the notifier writes inbox rows only.
    assert env["FLAGSTREAM_SMTP_HOST"] == "${FLAGSTREAM_SMTP_HOST:-}"


def test_dockerfile_exists_and_runs_the_flagstream_command() -> None:
    text = (ROOT / DOCKERFILE).read_text()
    entrypoints = [line for line in text.splitlines() if line.startswith("ENTRYPOINT")]
    assert entrypoints == ['ENTRYPOINT ["flagstream"]']
    assert "pip install --no-cache-dir -e ." in text  # editable: schemas/ found from services/
    assert re.search(r"^COPY schemas\b", text, re.MULTILINE)
    # The default rules file is read at run time from deploy/ beside services/.
    assert re.search(r"^COPY deploy/rules\.toml ", text, re.MULTILINE)
    assert re.search(r"^USER (?!root)", text, re.MULTILINE)


def test_prometheus_scrapes_each_service_on_its_metrics_port() -> None:
    config = _load("deploy/prometheus.yml")
    assert config["rule_files"] == ["alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == set(METRICS_PORT_FIELDS)
    for job_name, field in METRICS_PORT_FIELDS.items():
        env = _environment(_services()[job_name])
        [target] = [t for static in jobs[job_name]["static_configs"] for t in static["targets"]]
        assert target == f"{job_name}:{_setting(env, field)}"
        assert jobs[job_name].get("metrics_path", "/metrics") == "/metrics"


def test_prometheus_mounts_its_config_and_rules() -> None:
    volumes = _services()["prometheus"]["volumes"]
    assert "./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro" in volumes
    assert "./deploy/alerts.yml:/etc/prometheus/alerts.yml:ro" in volumes


def test_metric_names_are_read_from_promql() -> None:
    expr = 'histogram_quantile(0.95, sum by (le) (rate(a_bucket{job="x"}[5m]))) > 1 and on() b'
    assert _metric_names(expr) == {"a_bucket", "b"}


def test_alerts_use_only_metrics_the_services_expose() -> None:
    known = _exposed_series() | {"up"}
    assert "flagstream_events_in_total" in known  # the counter suffix is in place
    rules = _alert_rules()
    assert rules
    for rule in rules:
        unknown = _metric_names(rule["expr"]) - known
        assert not unknown, f"{rule['alert']} uses unknown metrics {unknown}"
        assert {"summary", "description"} <= set(rule["annotations"]), rule["alert"]
