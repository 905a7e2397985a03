"""deploy/alerts.yml: promtool accepts it and its unit tests (deploy/alerts.test.yml) pass;
every alert is tested firing and not, and watches only metrics the services export."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ALERTS = "deploy/alerts.yml"
ALERT_TESTS = "deploy/alerts.test.yml"
PROMTOOL = Path("/usr/bin/promtool")
TIMEOUT_S = 120
# The flagstream_* series the services export (flagstream.metrics), as Prometheus names them.
EXPORTED = frozenset(
    {
        "flagstream_outbox_depth",
        "flagstream_outbox_oldest_age_seconds",
        "flagstream_outbox_drainer_up",
        "flagstream_outbox_errors_total",
        "flagstream_outbox_parked_total",
        "flagstream_record_replay_remaining",
        "flagstream_log_resets_total",
        "flagstream_undecodable_total",
        "flagstream_consumer_stopped",
        "flagstream_consumer_lag_records",
        "flagstream_read_model_rebuilding",
        "flagstream_registers_late_schools",
        "flagstream_rejected_total",
        "flagstream_events_in_total",
        "flagstream_service_info",
        "flagstream_processing_seconds_bucket",
        "flagstream_notifier_messages_total",
    }
)


def _load(relative: str) -> Any:
    return yaml.safe_load((ROOT / relative).read_text())


def _alert_rules() -> list[dict[str, Any]]:
    groups = _load(ALERTS)["groups"]
    return [rule for group in groups for rule in group["rules"] if "alert" in rule]


def _alert_cases() -> list[dict[str, Any]]:
    return [case for test in _load(ALERT_TESTS)["tests"] for case in test["alert_rule_test"]]


@pytest.fixture(scope="module")
def promtool() -> str:
    found = shutil.which("promtool") or (str(PROMTOOL) if PROMTOOL.exists() else None)
    if found is None:
        pytest.skip(
            "alert rule tests skipped: promtool is not installed - install Debian's prometheus "
            "package with `apt-get install -y prometheus` (`make test` does this)"
        )
    return found


def _promtool(promtool: str, *args: str) -> None:
    result = subprocess.run(
        [promtool, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=TIMEOUT_S,
        check=False,
    )
    output = f"{result.stdout}\n{result.stderr}"
    assert result.returncode == 0, f"promtool {' '.join(args)} failed:\n{output}"


def test_promtool_accepts_the_rules(promtool: str) -> None:
    _promtool(promtool, "check", "rules", ALERTS)


def test_prometheus_config_loads_the_rules(promtool: str) -> None:
    _promtool(promtool, "check", "config", "deploy/prometheus.yml")


def test_the_alert_unit_tests_pass(promtool: str) -> None:
    _promtool(promtool, "test", "rules", ALERT_TESTS)


def test_the_unit_tests_load_the_alerts_file() -> None:
    assert _load(ALERT_TESTS)["rule_files"] == [Path(ALERTS).name]


def test_every_alert_is_tested_firing_and_not_firing() -> None:
    alerts = {rule["alert"] for rule in _alert_rules()}
    assert alerts
    fires = {case["alertname"] for case in _alert_cases() if case.get("exp_alerts")}
    quiet = {case["alertname"] for case in _alert_cases() if not case.get("exp_alerts")}
    assert not alerts - fires, f"no case where these fire: {sorted(alerts - fires)}"
    assert not alerts - quiet, f"no case where these stay quiet: {sorted(alerts - quiet)}"
    assert not (fires | quiet) - alerts, f"tests of no alert: {sorted((fires | quiet) - alerts)}"


def test_alerts_use_only_exported_metric_names() -> None:
    for rule in _alert_rules():
        unknown = set(re.findall(r"flagstream_[a-z_]+", rule["expr"])) - EXPORTED
        assert not unknown, f"{rule['alert']} uses metrics nothing exports: {sorted(unknown)}"


def test_every_alert_has_a_severity_and_points_at_its_runbook() -> None:
    for rule in _alert_rules():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]
        runbook = f"docs/operations.md#{rule['alert'].lower()}"
        assert runbook in rule["annotations"]["description"], rule["alert"]
