"""The FLAGSTREAM_KAFKA_* security settings as kafka-python, aiokafka and Faust arguments;
settings that make no sense refused; a password never printed, yet usable by every client's
SASL code. (TLS on a real broker: tests/integration/test_kafka_tls.py.)"""

from __future__ import annotations

import asyncio
import logging
import ssl
from pathlib import Path
from typing import Any

import faust
import pytest
import trustme
from aiokafka.conn import (  # type: ignore[import-untyped]
    SaslPlainAuthenticator,
    ScramAuthenticator,
)
from faust.transport.drivers.aiokafka import credentials_to_aiokafka_auth
from kafka.net.sasl.plain import SaslMechanismPlain
from kafka.net.sasl.scram import ScramClient

from flagstream import kafka_clients
from flagstream.kafka_security import MASK, KafkaSecurity, Unprinted
from flagstream.settings import Settings

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture(scope="module")
def pem(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pem")
    ca = trustme.CA()
    issued = ca.issue_cert("flagstream-test")
    files = {"ca": folder / "ca.pem", "cert": folder / "cert.pem", "key": folder / "key.pem"}
    ca.cert_pem.write_to_path(files["ca"])
    issued.cert_chain_pems[0].write_to_path(files["cert"])
    issued.private_key_pem.write_to_path(files["key"])
    return files


def sasl_ssl(pem: dict[str, Path], **extra: Any) -> KafkaSecurity:
    return KafkaSecurity(
        protocol="SASL_SSL",
        mechanism="SCRAM-SHA-256",
        username="flagger",
        password=Unprinted(PASSWORD),
        cafile=str(pem["ca"]),
        **extra,
    )


def test_plaintext_is_the_default_and_adds_nothing_else() -> None:
    security = KafkaSecurity.from_settings(Settings())
    assert security == KafkaSecurity()
    assert security.kafka_python() == {"security_protocol": "PLAINTEXT"}
    assert security.aiokafka() == {"security_protocol": "PLAINTEXT"}
    assert security.faust() == {}


def test_kafka_python_arguments(pem: dict[str, Path]) -> None:
    ssl_only = KafkaSecurity(
        protocol="SSL",
        cafile=str(pem["ca"]),
        certfile=str(pem["cert"]),
        keyfile=str(pem["key"]),
        check_hostname=False,
    )
    assert ssl_only.kafka_python() == {
        "security_protocol": "SSL",
        "ssl_cafile": str(pem["ca"]),
        "ssl_certfile": str(pem["cert"]),
        "ssl_keyfile": str(pem["key"]),
        "ssl_password": None,
        "ssl_check_hostname": False,
    }
    both = sasl_ssl(pem).kafka_python()
    assert both["security_protocol"] == "SASL_SSL"
    assert both["ssl_cafile"] == str(pem["ca"]) and both["ssl_check_hostname"] is True
    assert (both["sasl_mechanism"], both["sasl_plain_username"]) == ("SCRAM-SHA-256", "flagger")
    assert str.__str__(both["sasl_plain_password"]) == PASSWORD
    plain = KafkaSecurity(
        protocol="SASL_PLAINTEXT", mechanism="PLAIN", username="u", password=Unprinted("p")
    ).kafka_python()
    assert set(plain) == {
        "security_protocol",
        "sasl_mechanism",
        "sasl_plain_username",
        "sasl_plain_password",
    }


def test_aiokafka_arguments_carry_an_ssl_context(pem: dict[str, Path]) -> None:
    kwargs = sasl_ssl(pem).aiokafka()
    context = kwargs.pop("ssl_context")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname
    assert {k: v for k, v in kwargs.items() if k != "sasl_plain_password"} == {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": "SCRAM-SHA-256",
        "sasl_plain_username": "flagger",
    }
    unchecked = KafkaSecurity(protocol="SSL", cafile=str(pem["ca"]), check_hostname=False)
    assert unchecked.aiokafka()["ssl_context"].check_hostname is False


def test_faust_credentials_reach_every_aiokafka_client_faust_builds(pem: dict[str, Path]) -> None:
    """Faust turns broker_credentials into aiokafka arguments for its consumers and
    producers (credentials_to_aiokafka_auth); these are what it will pass."""
    tls = KafkaSecurity(protocol="SSL", cafile=str(pem["ca"]))
    credentials = tls.faust()["broker_credentials"]
    assert isinstance(credentials, faust.SSLCredentials)
    auth = credentials_to_aiokafka_auth(credentials)
    assert auth["security_protocol"] == "SSL" and isinstance(auth["ssl_context"], ssl.SSLContext)
    for protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        security = KafkaSecurity(
            protocol=protocol,  # type: ignore[arg-type]
            mechanism="SCRAM-SHA-512",
            username="flagger",
            password=Unprinted(PASSWORD),
            cafile=str(pem["ca"]) if protocol == "SASL_SSL" else None,
        )
        auth = credentials_to_aiokafka_auth(security.faust()["broker_credentials"])
        assert auth["security_protocol"] == protocol
        assert auth["sasl_mechanism"] == "SCRAM-SHA-512"
        assert auth["sasl_plain_username"] == "flagger"
        assert str.__str__(auth["sasl_plain_password"]) == PASSWORD
        assert (auth["ssl_context"] is not None) == (protocol == "SASL_SSL")


def test_the_faust_app_factory_sets_brokers_and_credentials(pem: dict[str, Path]) -> None:
    app = kafka_clients.faust_app(
        "flagstream-test-security",
        "127.0.0.1:1, 127.0.0.1:2",
        security=sasl_ssl(pem),
        web_enabled=False,
    )
    assert [str(url) for url in app.conf.broker] == ["kafka://127.0.0.1:1", "kafka://127.0.0.1:2"]
    credentials = app.conf.broker_credentials
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL" and credentials.username == "flagger"


def test_settings_from_the_environment(
    pem: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "password"
    secret.write_text(PASSWORD + "\n")
    for name, value in {
        "SECURITY_PROTOCOL": "SASL_SSL",
        "SASL_MECHANISM": "SCRAM-SHA-256",
        "SASL_USERNAME": "flagger",
        "SASL_PASSWORD_FILE": str(secret),
        "SSL_CAFILE": str(pem["ca"]),
        "SSL_CERTFILE": "",  # compose's ${NAME:-}: unset
        "SSL_CHECK_HOSTNAME": "false",
    }.items():
        monkeypatch.setenv(f"FLAGSTREAM_KAFKA_{name}", value)
    security = KafkaSecurity.from_settings(Settings())
    assert security == sasl_ssl(pem, check_hostname=False)
    assert str.__str__(security.password or "") == PASSWORD  # the file's newline dropped


def test_env_gives_a_child_process_the_same_security(
    pem: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    security = sasl_ssl(pem, certfile=str(pem["cert"]), keyfile=str(pem["key"]))
    for name, value in security.env().items():
        monkeypatch.setenv(name, value)
    assert KafkaSecurity.from_settings(Settings()) == security


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"kafka_security_protocol": "SASL_SSL"}, "needs FLAGSTREAM_KAFKA_SASL_USERNAME"),
        (
            {"kafka_security_protocol": "SASL_SSL", "kafka_sasl_username": "u"},
            "and a password",
        ),
        ({"kafka_sasl_username": "u"}, "sends none"),
        ({"kafka_sasl_password": PASSWORD}, "sends none"),
        ({"kafka_ssl_cafile": "CA"}, "does not use TLS"),
        ({"kafka_security_protocol": "SSL", "kafka_ssl_cafile": "/nowhere.pem"}, "not a readable"),
        (
            {"kafka_security_protocol": "SSL", "kafka_ssl_keyfile": "KEY"},
            "needs FLAGSTREAM_KAFKA_SSL_CERTFILE",
        ),
        (
            {
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_username": "u",
                "kafka_sasl_password": PASSWORD,
                "kafka_sasl_password_file": "/nowhere",
            },
            "not both",
        ),
        (
            {
                "kafka_security_protocol": "SASL_SSL",
                "kafka_sasl_username": "u",
                "kafka_sasl_password_file": "/nowhere",
            },
            "cannot read",
        ),
    ],
)
def test_settings_that_make_no_sense_are_refused(
    fields: dict[str, str], problem: str, pem: dict[str, Path]
) -> None:
    files = {"CA": str(pem["ca"]), "KEY": str(pem["key"])}  # real files, where they must be
    fields = {k: files.get(v, v) for k, v in fields.items()}
    with pytest.raises(SystemExit) as refused:
        KafkaSecurity.from_settings(Settings(**fields))  # type: ignore[arg-type]
    assert problem in str(refused.value)
    assert PASSWORD not in str(refused.value)


def test_a_password_is_never_printed(
    pem: dict[str, Path], caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    security = sasl_ssl(pem, key_password=Unprinted(PASSWORD + "-key"))
    kwargs = security.kafka_python()
    shown = [
        repr(security),
        str(security),
        security.describe(),
        f"{security.password}",
        "%s" % security.password,  # noqa: UP031 - how a logger formats it
        # kafka-python's KafkaAdminClient logs its whole configuration at DEBUG this way.
        "Starting KafkaAdminClient with configuration: %s" % kwargs,  # noqa: UP031
        repr(security.aiokafka()),
        repr(security.faust()),
        repr(Settings(kafka_sasl_password=PASSWORD)),  # type: ignore[arg-type]
    ]
    caplog.set_level(logging.INFO, logger="flagstream.kafka")
    monkeypatch.setattr(kafka_clients, "_installed", [])
    kafka_clients.use(security)
    shown.append(caplog.text)
    for text in shown:
        assert PASSWORD not in text, text
    assert MASK in shown[4]
    assert "SASL_SSL, SCRAM-SHA-256 as 'flagger'" in caplog.text


def test_the_unprinted_password_still_authenticates() -> None:
    """Each client's SASL code turns it into the same bytes as the plain password (they join
    and encode it, never str() it)."""
    hidden = Unprinted(PASSWORD)
    config = {"sasl_plain_username": "flagger", "security_protocol": "SASL_SSL"}
    assert (
        SaslMechanismPlain(**config, sasl_plain_password=hidden).auth_bytes()
        == SaslMechanismPlain(**config, sasl_plain_password=PASSWORD).auth_bytes()
        == f"flagger\0flagger\0{PASSWORD}".encode()
    )
    assert ScramClient("flagger", hidden, "SCRAM-SHA-512").password == PASSWORD.encode()
    loop = asyncio.new_event_loop()
    try:
        plain = SaslPlainAuthenticator(
            loop=loop, sasl_plain_password=hidden, sasl_plain_username="flagger"
        )
        assert next(plain._authenticator)[0] == f"flagger\0flagger\0{PASSWORD}".encode()
        scram = ScramAuthenticator(
            loop=loop,
            sasl_plain_password=hidden,
            sasl_plain_username="flagger",
            sasl_mechanism="SCRAM-SHA-256",
        )
        assert scram._sasl_plain_password == PASSWORD.encode()
    finally:
        loop.close()
