"""How a process authenticates to Kafka and encrypts its connections: the FLAGSTREAM_KAFKA_*
security settings turned into the keyword arguments of kafka-python, aiokafka and Faust.

No client is built here (kafka_clients.py builds them all). A password is held as
`Unprinted`, a str whose repr and str are a mask, so a client that logs its configuration
(kafka-python's KafkaAdminClient does, at DEBUG) or an error that shows it prints no secret.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal

if TYPE_CHECKING:
    from .settings import KafkaSettings

Protocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
Mechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]
MASK: Final = "**********"
_ENV: Final = "FLAGSTREAM_KAFKA_"


class Unprinted(str):
    """A password the Kafka clients can use (they join and encode it) that never prints."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(MASK)

    def __str__(self) -> str:
        return MASK

    def __format__(self, spec: str) -> str:
        return MASK


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """One process's Kafka principal and TLS trust; the default is plaintext, no SASL."""

    protocol: Protocol = "PLAINTEXT"
    mechanism: Mechanism = "SCRAM-SHA-512"
    username: str = ""
    password: Unprinted | None = field(default=None, repr=False)
    cafile: str | None = None  # None: the system's trusted CAs
    certfile: str | None = None  # a client certificate (mutual TLS)
    keyfile: str | None = None
    key_password: Unprinted | None = field(default=None, repr=False)
    check_hostname: bool = True

    @property
    def tls(self) -> bool:
        """Connections are encrypted."""
        return self.protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        """The client authenticates with a user name and password."""
        return self.protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def kafka_python(self) -> dict[str, Any]:
        """Keyword arguments for KafkaProducer, KafkaConsumer and KafkaAdminClient."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            kwargs |= {
                "ssl_cafile": self.cafile,
                "ssl_certfile": self.certfile,
                "ssl_keyfile": self.keyfile,
                "ssl_password": self.key_password,
                "ssl_check_hostname": self.check_hostname,
            }
        if self.sasl:
            kwargs |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return kwargs

    def ssl_context(self) -> ssl.SSLContext | None:
        """The TLS context for aiokafka and Faust (None without TLS): aiokafka's own helper,
        then hostname checking as set (the helper always turns it on)."""
        if not self.tls:
            return None
        from aiokafka.helpers import create_ssl_context  # type: ignore[import-untyped]

        context: ssl.SSLContext = create_ssl_context(
            cafile=self.cafile,
            certfile=self.certfile,
            keyfile=self.keyfile,
            password=self.key_password,
        )
        context.check_hostname = self.check_hostname
        return context

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for AIOKafkaProducer and AIOKafkaConsumer."""
        kwargs: dict[str, Any] = {"security_protocol": self.protocol}
        if self.tls:
            kwargs["ssl_context"] = self.ssl_context()
        if self.sasl:
            kwargs |= {
                "sasl_mechanism": self.mechanism,
                "sasl_plain_username": self.username,
                "sasl_plain_password": self.password,
            }
        return kwargs

    def faust(self) -> dict[str, Any]:
        """Keyword arguments for faust.App: `broker_credentials` (nothing for plaintext).
        Faust passes them to every aiokafka client it builds; its `kafka://` URL scheme
        names the driver only and is the same with TLS."""
        import faust

        credentials: Any
        if self.sasl:
            credentials = faust.SASLCredentials(
                username=self.username,
                password=self.password,
                ssl_context=self.ssl_context(),  # with a context Faust says SASL_SSL
                mechanism=self.mechanism,
            )
        elif self.tls:
            credentials = faust.SSLCredentials(self.ssl_context())
        else:
            return {}
        return {"broker_credentials": credentials}

    def env(self) -> dict[str, str]:
        """FLAGSTREAM_KAFKA_* variables that give a child process this identity, password
        included: for the embedded stack's own services, never to print."""
        values = {
            "SECURITY_PROTOCOL": self.protocol,
            "SASL_MECHANISM": self.mechanism,
            "SASL_USERNAME": self.username,
            "SASL_PASSWORD": str.__str__(self.password) if self.password else "",
            "SSL_CAFILE": self.cafile or "",
            "SSL_CERTFILE": self.certfile or "",
            "SSL_KEYFILE": self.keyfile or "",
            "SSL_KEY_PASSWORD": str.__str__(self.key_password) if self.key_password else "",
            "SSL_CHECK_HOSTNAME": str(self.check_hostname).lower(),
        }
        return {_ENV + k: v for k, v in values.items() if v}

    @classmethod
    def from_settings(cls, settings: KafkaSettings) -> KafkaSecurity:
        """The settings' security, checked; SystemExit naming the setting when they make no
        sense together (never showing a password)."""
        s = settings
        password = s.kafka_sasl_password.get_secret_value() if s.kafka_sasl_password else None
        if password and s.kafka_sasl_password_file:
            _refuse("set FLAGSTREAM_KAFKA_SASL_PASSWORD or ..._SASL_PASSWORD_FILE, not both")
        if s.kafka_sasl_password_file:
            password = _read_secret(s.kafka_sasl_password_file, "SASL_PASSWORD_FILE")
        key_password = s.kafka_ssl_key_password
        security = cls(
            protocol=s.kafka_security_protocol,
            mechanism=s.kafka_sasl_mechanism,
            username=s.kafka_sasl_username,
            password=Unprinted(password) if password else None,
            cafile=_file(s.kafka_ssl_cafile, "SSL_CAFILE"),
            certfile=_file(s.kafka_ssl_certfile, "SSL_CERTFILE"),
            keyfile=_file(s.kafka_ssl_keyfile, "SSL_KEYFILE"),
            key_password=Unprinted(key_password.get_secret_value()) if key_password else None,
            check_hostname=s.kafka_ssl_check_hostname,
        )
        security.check()
        return security

    def check(self) -> None:
        """Refuse settings that would not do what they seem to: TLS files without TLS, a user
        without SASL, SASL without a user or password, a key without its certificate."""
        protocol = f"FLAGSTREAM_KAFKA_SECURITY_PROTOCOL={self.protocol}"
        if self.sasl and not (self.username and self.password):
            _refuse(
                f"{protocol} needs FLAGSTREAM_KAFKA_SASL_USERNAME and a password "
                "(FLAGSTREAM_KAFKA_SASL_PASSWORD or ..._SASL_PASSWORD_FILE)"
            )
        if not self.sasl and (self.username or self.password):
            _refuse(f"a SASL user or password is set, but {protocol} sends none")
        tls_files = self.cafile or self.certfile or self.keyfile or self.key_password
        if not self.tls and tls_files:
            _refuse(f"TLS files are set, but {protocol} does not use TLS (SSL or SASL_SSL does)")
        if (self.keyfile or self.key_password) and not self.certfile:
            _refuse("FLAGSTREAM_KAFKA_SSL_KEYFILE needs FLAGSTREAM_KAFKA_SSL_CERTFILE")

    def describe(self) -> str:
        """One line for logs: protocol, mechanism, user and files, never a password."""
        parts: list[str] = [self.protocol]
        if self.sasl:
            parts.append(f"{self.mechanism} as {self.username!r}")
        if self.tls:
            parts.append(f"CA {self.cafile or 'system'}")
            if self.certfile:
                parts.append(f"client certificate {self.certfile}")
            if not self.check_hostname:
                parts.append("hostname not checked")
        return ", ".join(parts)


def _refuse(problem: str) -> None:
    raise SystemExit(f"Kafka security settings: {problem} (docs/operations.md#kafka-security)")


def _file(path: Path | None, name: str) -> str | None:
    if path is None:
        return None
    if not path.is_file():
        _refuse(f"{_ENV}{name}={path} is not a readable file")
    return str(path)


def _read_secret(path: Path, name: str) -> str:
    try:
        value = path.read_text().rstrip("\r\n")
    except OSError as exc:
        raise SystemExit(
            f"Kafka security settings: cannot read {_ENV}{name}={path}: {exc.strerror}"
        ) from None
    if not value:
        _refuse(f"{_ENV}{name}={path} is empty")
    return value
