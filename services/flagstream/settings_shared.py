"""What several services' settings share: the Kafka settings (KafkaSettings) and one part per
database or file more than one service reads (the read model, the identity store, the
alerts store, the term calendar). flagstream/settings.py composes them into each service's
class; every field is FLAGSTREAM_<NAME>."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from .codec import DEFAULT_SCHEMAS_DIR
from .domain.rules import RuleConfig
from .rules_file import DEFAULT_RULES_FILE, RulesFileError, load_rules
from .term_calendar import TermCalendar, load_term_calendar


class _Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FLAGSTREAM_", frozen=True, extra="ignore")


class KafkaSettings(_Settings):
    """What every Kafka client and every service reading or writing topics shares."""

    kafka_bootstrap: str = Field(
        "", description="Kafka bootstrap servers, host:port[,host:port]; empty = not configured"
    )
    # Kafka security (flagstream/kafka_security.py, docs/operations.md#kafka-security). One
    # principal per process: each service is started with its own user and password.
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        "PLAINTEXT", description="How every Kafka client connects: TLS (SSL), SASL, both or none"
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = Field(
        "SCRAM-SHA-512", description="SASL mechanism (with SASL_PLAINTEXT or SASL_SSL)"
    )
    kafka_sasl_username: str = Field("", description="This process's Kafka principal (SASL)")
    kafka_sasl_password: SecretStr | None = Field(None, description="Its SASL password")
    kafka_sasl_password_file: Path | None = Field(
        None, description="A file holding the SASL password instead (e.g. a mounted secret)"
    )
    kafka_ssl_cafile: Path | None = Field(
        None, description="PEM CA certificates trusted for the brokers; unset = the system's"
    )
    kafka_ssl_certfile: Path | None = Field(
        None, description="PEM client certificate, for brokers that require mutual TLS"
    )
    kafka_ssl_keyfile: Path | None = Field(None, description="PEM private key of that certificate")
    kafka_ssl_key_password: SecretStr | None = Field(
        None, description="Password of an encrypted client key"
    )
    kafka_ssl_check_hostname: bool = Field(
        True, description="Check that a broker's certificate names the host connected to"
    )

    @field_validator(
        "kafka_sasl_password",
        "kafka_sasl_password_file",
        "kafka_ssl_cafile",
        "kafka_ssl_certfile",
        "kafka_ssl_keyfile",
        "kafka_ssl_key_password",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """An empty Kafka file or password variable is unset (compose's `${NAME:-}`)."""
        return None if value == "" else value

    topic_prefix: str = Field("flagstream", description="Prefix of every Flagstream topic")
    partitions: int = Field(6, ge=1, description="Partitions of every canonical topic")
    replication_factor: int = Field(1, ge=1, description="Replication factor for new topics")
    kafka_rebalance_timeout_s: float = Field(
        3.0, gt=0, description="Consumer-group rebalance timeout (the embedded broker waits it out)"
    )
    kafka_max_message_bytes: int = Field(
        1_000_000,
        ge=10_000,
        description="Largest message a producer writes (Kafka's default message.max.bytes)",
    )
    on_undecodable: Literal["stop", "quarantine"] = Field(
        "stop",
        description="A consumer given a message it cannot decode: stop on it (alert), or copy "
        "its bytes to the quarantine topic and go on",
    )
    on_reset: Literal["refuse", "rebuild"] = Field(
        "refuse",
        description="Flagger and projector finding their topics new or recreated: refuse to "
        "start (say what to run), or rebuild their state from the log",
    )
    schemas_dir: Path = Field(DEFAULT_SCHEMAS_DIR, description="Directory of the .avsc files")
    rules_file: Path = Field(
        DEFAULT_RULES_FILE, description="Versioned flag rules (TOML); see deploy/rules.toml"
    )

    def rules(self) -> RuleConfig:
        """The validated rules file; raises SystemExit with the problem if it is not."""
        try:
            return load_rules(self.rules_file)
        except RulesFileError as exc:
            raise SystemExit(f"{exc}\nCheck it with `flagstream rules check FILE`.") from None

    def require_kafka(self) -> str:
        """The bootstrap servers, or a clear error saying how to set them."""
        if not self.kafka_bootstrap:
            raise SystemExit(
                "FLAGSTREAM_KAFKA_BOOTSTRAP is not set: point it at Kafka (host:port), "
                "or run `flagstream broker` for an embedded one, or `flagstream demo`."
            )
        return self.kafka_bootstrap


class _ReadModelDatabase(_Settings):
    database_url: str = Field(
        "sqlite:///var/flagstream.db", description="SQLAlchemy URL of the read model"
    )
    reflag_after_days: int = Field(
        28,
        ge=0,
        description="A flag raised again counts as a re-flag only if it had been "
        "cleared this many days (and at most 365): projector and evidence screens",
    )


class _IdentityDatabase(_Settings):
    identity_database_url: str = Field(
        "sqlite:///var/identity.db",
        description="SQLAlchemy URL of the identity store (UPNs and names; restricted access)",
    )


class _AlertsDatabase(_Settings):
    alerts_database_url: str = Field(
        "sqlite:///var/alerts.db",
        description="SQLAlchemy URL of the alerts store (notifier ledger, inbox, preferences)",
    )


class _TermCalendarFile(_Settings):
    term_calendar: Path | None = Field(
        None,
        description="TOML file of the council's term and half-term dates over England's "
        "defaults (flagstream/term_calendar.py); none: the defaults",
    )

    def calendar(self) -> TermCalendar:
        """The term calendar, read once per call; a bad file stops the service with why."""
        return load_term_calendar(self.term_calendar)
