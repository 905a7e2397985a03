"""The Kafka ACLs and logins of deploy/kafka/acls.sh, run against stand-in kafka-acls.sh and
kafka-configs.sh that record what they are asked: each service may do what the code does
with its topics and no more, only ingest and the validator write the canonical topics, only
the flagger its outputs, a partner only its own raw topics; no password on a command line;
compose gives every Kafka service its own login, TLS and the CA.

Docker and Apache Kafka cannot run here, so the script is exercised, not the broker."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml

from flagger.guard import specs as flagger_specs
from flagstream.topics import Topics, topic_specs
from ingest.kinds import KINDS
from ingest.main import written_topics
from projector.consumer import source_topics

ROOT = Path(__file__).resolve().parents[2]
KAFKA = ROOT / "deploy" / "kafka"
T = Topics("flagstream")
PARTITIONS = 6
SERVICES = {"ingest", "validator", "flagger", "projector", "notifier"}
STUB = """#!{python}
import json, os, sys
args = sys.argv[1:]
entry = {{"tool": os.path.basename(sys.argv[0]), "args": args}}
if "--add-config-file" in args:
    entry["file"] = open(args[args.index("--add-config-file") + 1]).read()
with open(os.environ["STUB_LOG"], "a") as log:
    log.write(json.dumps(entry) + "\\n")
"""


class Grant(NamedTuple):
    principal: str
    operation: str
    kind: str  # topic, group, cluster
    name: str
    pattern: str  # literal, prefixed


def _partners() -> dict[str, set[str]]:
    found = {}
    for line in (KAFKA / "partners.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, kinds = line.split()[:2]
            found[name] = set(kinds.split(","))
    return found


@pytest.fixture(scope="module")
def ran(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """What acls.sh asked of Kafka's tools."""
    folder = tmp_path_factory.mktemp("acls")
    bin_dir, secrets = folder / "bin", folder / "secrets"
    bin_dir.mkdir()
    secrets.mkdir()
    for tool in ("kafka-acls.sh", "kafka-configs.sh"):
        stub = bin_dir / tool
        stub.write_text(STUB.format(python=sys.executable))
        stub.chmod(0o755)
    for name in [*SERVICES, "operator", *_partners()]:
        (secrets / f"kafka-{name}.password").write_text(f"secret-of-{name}\n")
    log = folder / "calls.jsonl"
    env = {
        **os.environ,
        "KAFKA_BIN": str(bin_dir),
        "SECRETS": str(secrets),
        "PARTNERS": str(KAFKA / "partners.txt"),
        "ADMIN_CONFIG": str(folder / "admin.properties"),
        "STUB_LOG": str(log),
    }
    subprocess.run(["bash", str(KAFKA / "acls.sh")], env=env, check=True, capture_output=True)
    return [json.loads(line) for line in log.read_text().splitlines()]


def _grants(calls: Iterable[dict[str, Any]]) -> set[Grant]:
    grants = set()
    for call in calls:
        if call["tool"] != "kafka-acls.sh":
            continue
        args = call["args"]
        assert "--add" in args and "--allow-principal" in args
        principal = args[args.index("--allow-principal") + 1].removeprefix("User:")
        pattern = (
            args[args.index("--resource-pattern-type") + 1]
            if "--resource-pattern-type" in args
            else "literal"
        )
        if "--topic" in args:
            kind, name = "topic", args[args.index("--topic") + 1]
        elif "--group" in args:
            kind, name = "group", args[args.index("--group") + 1]
        else:
            assert "--cluster" in args
            kind, name = "cluster", ""
        operations = [args[i + 1] for i, a in enumerate(args) if a == "--operation"]
        grants |= {Grant(principal, op, kind, name, pattern) for op in operations}
    return grants


def _may(grants: set[Grant], principal: str, operation: str, topic: str) -> bool:
    return any(
        g.principal == principal
        and g.operation == operation
        and g.kind == "topic"
        and (g.name == topic if g.pattern == "literal" else topic.startswith(g.name))
        for g in grants
    )


def _writers(grants: set[Grant], topic: str) -> set[str]:
    principals = {g.principal for g in grants}
    return {p for p in principals if _may(grants, p, "Write", topic)}


def test_every_topic_in_an_acl_is_one_flagstream_makes(ran: list[dict[str, Any]]) -> None:
    known = {s.name for s in topic_specs(T, PARTITIONS, [k.name for k in KINDS])}
    for g in _grants(ran):
        if g.kind == "topic" and g.pattern == "literal":
            assert g.name in known, g
        elif g.kind == "topic":
            assert g.name in ("flagstream.", "flagstream.raw.", "flagstream-flagger-"), g


def test_only_ingest_and_the_validator_write_the_canonical_and_reference_topics(
    ran: list[dict[str, Any]],
) -> None:
    grants = _grants(ran)
    for topic in (*T.canonical, T.schools, T.outcomes, T.dead_letters, T.record_replays):
        assert _writers(grants, topic) == {"ingest", "validator"}, topic


def test_only_the_flagger_writes_its_outputs_changelog_and_leader_topic(
    ran: list[dict[str, Any]],
) -> None:
    grants = _grants(ran)
    for topic in (T.flag_changes, T.child_flags, T.flagger_changelog, T.flagger_leader):
        assert _writers(grants, topic) == {"flagger"}, topic
    assert _writers(grants, T.quarantine) == {"flagger", "projector"}


def test_a_partner_writes_only_its_own_raw_topics_and_reads_nothing(
    ran: list[dict[str, Any]],
) -> None:
    grants = _grants(ran)
    for partner, kinds in _partners().items():
        own = {g for g in grants if g.principal == partner and g.kind == "topic"}
        assert {g.name for g in own if g.operation == "Write"} == {T.raw(k) for k in kinds}
        assert all(g.pattern == "literal" and g.operation in ("Write", "Describe") for g in own)
    for kind in KINDS:
        writers = _writers(grants, T.raw(kind.name))
        assert writers == {p for p, kinds in _partners().items() if kind.name in kinds}


def test_each_service_may_do_what_its_code_does(ran: list[dict[str, Any]]) -> None:
    grants = _grants(ran)
    for service in ("ingest", "validator"):
        for spec in written_topics(T, PARTITIONS):
            for op in ("Write", "Describe", "DescribeConfigs"):
                assert _may(grants, service, op, spec.name), (service, op, spec.name)
    for kind in KINDS:
        assert _may(grants, "validator", "Read", T.raw(kind.name))
    outputs = {T.flag_changes, T.child_flags, T.flagger_changelog, T.flagger_leader, T.quarantine}
    for spec in flagger_specs(T, PARTITIONS):
        op = "Write" if spec.name in outputs else "Read"
        assert _may(grants, "flagger", op, spec.name), spec.name
        assert _may(grants, "flagger", "DescribeConfigs", spec.name), spec.name
    assert Grant("flagger", "Read", "group", "flagstream-flagger", "literal") in grants
    for topic in (*source_topics(T), T.record_replays):
        assert _may(grants, "projector", "Read", topic), topic
    assert Grant("projector", "Describe", "group", "flagstream-flagger", "literal") in grants
    # The notifier reads the flag changes from positions of its own (no group) and writes none.
    notifier = {g for g in grants if g.principal == "notifier"}
    assert notifier == {
        Grant("notifier", op, "topic", T.flag_changes, "literal") for op in ("Read", "Describe")
    }
    operator = {g.operation for g in grants if g.principal == "operator"}
    assert "Create" in operator and "Write" not in operator


def test_every_login_is_set_from_its_secret_file_never_on_a_command_line(
    ran: list[dict[str, Any]],
) -> None:
    logins = {}
    for call in ran:
        if call["tool"] == "kafka-configs.sh":
            args = call["args"]
            logins[args[args.index("--entity-name") + 1]] = call["file"]
    assert set(logins) == {*SERVICES, "operator", *_partners()}
    for name, text in logins.items():
        assert text.strip() == f"SCRAM-SHA-512=[iterations=8192,password=secret-of-{name}]"
    for call in ran:
        assert not any("secret-of-" in a for a in call["args"]), call


def test_compose_gives_each_kafka_service_its_own_login_over_tls() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    secrets = compose["secrets"]
    logins = {}
    for name, service in compose["services"].items():
        env = service.get("environment", {})
        if "FLAGSTREAM_KAFKA_SASL_USERNAME" not in env:
            continue
        user = env["FLAGSTREAM_KAFKA_SASL_USERNAME"]
        logins[name] = user
        assert env["FLAGSTREAM_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL", name
        assert env["FLAGSTREAM_KAFKA_SSL_CAFILE"] == "/run/secrets/kafka-ca", name
        assert env["FLAGSTREAM_KAFKA_SASL_PASSWORD_FILE"] == f"/run/secrets/kafka-{user}", name
        assert set(service["secrets"]) == {"kafka-ca", f"kafka-{user}"}, name
        assert secrets[f"kafka-{user}"]["file"] == f"./deploy/kafka/secrets/kafka-{user}.password"
    assert logins == {
        "topics": "operator",
        "ingest": "ingest",
        "validator": "validator",
        "flagger": "flagger",
        "projector": "projector",
        "notifier": "notifier",
    }
    kafka = compose["services"]["kafka"]["environment"]
    assert kafka["KAFKA_ADVERTISED_LISTENERS"] == "SASL_SSL://kafka:9092"
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false"
    assert "PLAINTEXT" not in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="make-secrets.sh needs openssl")
def test_make_secrets_makes_every_login_acls_sets(tmp_path: Path) -> None:
    out = tmp_path / "secrets"
    subprocess.run(
        ["bash", str(KAFKA / "make-secrets.sh"), str(out)], check=True, capture_output=True
    )
    for name in ("kafka", "admin", *SERVICES, "operator", *_partners()):
        assert (out / f"kafka-{name}.password").read_text().strip(), name
    for made in ("ca.pem", "broker.pem", "kafka_server_jaas.conf", "admin.properties"):
        assert (out / made).is_file()
    check = subprocess.run(
        ["openssl", "verify", "-CAfile", out / "ca.pem", out / "broker.crt"], capture_output=True
    )
    assert check.returncode == 0, check.stderr
