"""Typed, frozen settings read from FLAGSTREAM_* environment variables once.

Each service takes its own class - IngestSettings, FlaggerSettings, ProjectorSettings,
DashboardSettings, NotifierSettings - over the Kafka settings they share (KafkaSettings:
brokers, security, topics, schemas, rules); `Settings` is all of them, for the tools that run
every service (the `flagstream` command, the demo, the bench). Every field is FLAGSTREAM_<NAME>.

The parts they share are in settings_shared.py."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator

from .rules_file import DEFAULT_RULES_FILE
from .settings_shared import (
    KafkaSettings,
    _AlertsDatabase,
    _IdentityDatabase,
    _ReadModelDatabase,
    _TermCalendarFile,
)

__all__ = [
    "DashboardSettings",
    "FlaggerSettings",
    "IngestSettings",
    "KafkaSettings",
    "NotifierSettings",
    "ProjectorSettings",
    "Settings",
]


class IngestSettings(KafkaSettings, _IdentityDatabase):
    """Ingest's HTTP API, its durable record and the raw-topic validator."""

    pseudonym_key: SecretStr | None = Field(
        None, description="Secret key for HMAC(UPN) -> child_key; required by ingest"
    )
    ingest_host: str = Field("127.0.0.1", description="Address the ingest HTTP API binds")
    ingest_port: int = Field(8080, description="Port of the ingest HTTP API (also /metrics)")
    ingest_max_records: int = Field(20_000, ge=1, description="Most records in one request")
    ingest_max_body_bytes: int = Field(
        32 * 1024 * 1024, ge=1, description="Largest request body ingest reads"
    )
    ingest_database_url: str = Field(
        "sqlite:///var/ingest.db",
        description="SQLAlchemy URL of ingest's own database (outbox, API keys, idempotency)",
    )
    ingest_rate_per_minute: int = Field(
        600,
        ge=0,
        description="Requests a minute each API key may make (a token bucket per key, bursts "
        "up to as many); beyond it 429 rate_limited with Retry-After; 0 = no limit",
    )
    schema_registry_url: str = Field(
        "", description="Confluent schema registry for Avro bodies in Confluent framing"
    )
    validator_metrics_port: int = Field(
        9103, description="Port of the raw-topic validator's /metrics"
    )
    record_retention_days: int = Field(
        0,
        ge=0,
        description="Days ingest keeps published records of the durable record; 0 = for good",
    )
    outbox_lease_s: float = Field(
        15.0,
        gt=0,
        description="How long one ingest replica holds the outbox drainer's lease",
    )


class FlaggerSettings(KafkaSettings, _TermCalendarFile):
    """The Faust flagger."""

    flagger_metrics_port: int = Field(9101, description="Port of the flagger's /metrics")
    flagger_store: str = Field(
        "rocksdb://",
        description="Faust table store: rocksdb:// keeps state on disk in the data directory, "
        "so a restart reads only the changelog's tail; memory:// reads all of it at each start",
    )
    flagger_data_dir: Path = Field(Path("var/flagger"), description="Faust data directory")
    flagger_stall_exit_s: float = Field(
        600.0,
        ge=0,
        description="Exit (code 4, for the supervisor to restart it) when input waits on the "
        "flagger's partitions and it has made no progress (input or changelog) this long; 0: never",
    )


class ProjectorSettings(KafkaSettings, _ReadModelDatabase):
    """The projector."""

    projector_metrics_port: int = Field(9102, description="Port of the projector's /metrics")
    projector_batch_size: int = Field(5000, ge=1, description="Most records per projector txn")


class DashboardSettings(_ReadModelDatabase, _IdentityDatabase, _TermCalendarFile, _AlertsDatabase):
    """The dashboard (it reaches Kafka only through ingest's HTTP API)."""

    dashboard_host: str = Field("127.0.0.1", description="Address the dashboard binds")
    rules_file: Path = Field(
        DEFAULT_RULES_FILE, description="Versioned flag rules (TOML): the absence lists' bands"
    )
    dashboard_port: int = Field(8090, description="Port of the dashboard web app")
    dashboard_users_file: Path = Field(
        Path("var/dashboard-users.json"), description="Dashboard logins (argon2 password hashes)"
    )
    dashboard_secret: SecretStr | None = Field(
        None, description="Key signing dashboard session cookies; required by the dashboard"
    )
    dashboard_ingest_url: str = Field(
        "http://127.0.0.1:8080", description="Ingest base URL the dashboard sends outcomes to"
    )
    dashboard_audit_database_url: str = Field(
        "sqlite:///var/audit.db", description="SQLAlchemy URL of the dashboard's audit log"
    )
    dashboard_secure_cookies: bool = Field(
        True, description="Session cookie only over HTTPS; false for plain-HTTP local use"
    )
    dashboard_login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins per user name and per client in 5 minutes"
    )
    dashboard_session_hours: float = Field(
        8.0, gt=0, le=24, description="Longest a dashboard sign-in lasts, however active"
    )
    dashboard_idle_minutes: float = Field(
        30.0,
        gt=0,
        description="A dashboard session ends after this long without a request by its user "
        "(the live table's own refreshes do not count)",
    )
    dashboard_leaver_school_days: int = Field(
        20,
        ge=0,
        description="School days a child who left stays on the old school's lists "
        "(flags as of the leaving date), then not at all",
    )
    dashboard_live_poll_ms: int = Field(
        100, ge=10, le=5000, description="How often the dashboard reads the read model's version"
    )
    dashboard_live_stream_seconds: float = Field(
        300.0, gt=0, description="A live page's stream then ends; the browser reconnects"
    )
    # Council sign-in (OpenID Connect, e.g. Entra ID) beside the users file: docs/security.md.
    dashboard_oidc_issuer: str = Field(
        "", description="OpenID provider's issuer URL (Entra ID: .../<tenant>/v2.0); empty = off"
    )
    dashboard_oidc_client_id: str = Field("", description="The app's client id at the provider")
    dashboard_oidc_client_secret: SecretStr | None = Field(
        None, description="The app's client secret (never logged)"
    )
    dashboard_oidc_client_secret_file: Path | None = Field(
        None, description="A file holding the client secret instead (e.g. a mounted secret)"
    )
    dashboard_oidc_redirect_url: str = Field(
        "", description="Redirect URI registered at the provider: https://<dashboard>/auth/callback"
    )
    dashboard_oidc_scopes: str = Field("openid profile email", description="Scopes requested")
    dashboard_oidc_mapping_file: Path = Field(
        Path("var/oidc-mapping.toml"),
        description="TOML mapping groups / app roles to a role and scope (read at each sign-in)",
    )
    dashboard_oidc_groups_claim: str = Field("groups", description="ID token claim of group ids")
    dashboard_oidc_roles_claim: str = Field("roles", description="ID token claim of app roles")
    dashboard_oidc_username_claim: str = Field(
        "preferred_username", description="ID token claim used as the user name in audit rows"
    )
    dashboard_oidc_label: str = Field(
        "council", description='Shown on the button: "Sign in with <label> account"'
    )


class NotifierSettings(KafkaSettings, _ReadModelDatabase, _TermCalendarFile, _AlertsDatabase):
    """The notifier: flag changes and the read model in, email (SMTP) and inbox rows out."""

    notifier_metrics_port: int = Field(9104, description="Port of the notifier's /metrics")
    notifier_users_file: Path = Field(
        Path("var/dashboard-users.json"),
        description="The users file (the dashboard's) naming who is told, and their email",
    )
    notifier_dashboard_url: str = Field(
        "http://127.0.0.1:8090", description="Dashboard base URL the emails link to"
    )
    smtp_host: str = Field("", description="SMTP server; empty = inbox only, no email")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port")
    smtp_security: Literal["starttls", "tls", "none"] = Field(
        "starttls",
        description="STARTTLS after connecting, implicit TLS (port 465), or none (loopback only)",
    )
    smtp_username: str = Field("", description="SMTP user name; empty = no authentication")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (never logged)")
    smtp_password_file: Path | None = Field(
        None, description="A file holding the SMTP password instead (e.g. a mounted secret)"
    )
    smtp_from: str = Field("flagstream@localhost", description="The emails' From address")
    smtp_timeout_s: float = Field(20.0, gt=0, description="SMTP connect and command timeout")
    notifier_max_attempts: int = Field(
        8, ge=1, description="SMTP attempts per email before it is left failed (alert)"
    )
    notifier_retry_s: float = Field(30.0, gt=0, description="Wait after a failed SMTP send")
    notifier_start: Literal["beginning", "end"] = Field(
        "beginning",
        description="Where a notifier with no stored position (a new alerts database) starts "
        "reading flag changes: the topic's beginning, or its end (old notifications unsent)",
    )
    notifier_timezone: str = Field(
        "Europe/London", description="Local time of the digests and the register cut-off"
    )
    notifier_registers_cutoff: str = Field(
        "10:00",
        pattern=r"^\d{2}:\d{2}$",
        description="Local time by which each school's "
        "register should have arrived on a school day",
    )
    notifier_operations_email: str = Field(
        "", description="Where late-register notices go; empty = none sent"
    )

    @field_validator("smtp_password", "smtp_password_file", mode="before")
    @classmethod
    def _empty_smtp_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    def smtp_secret(self) -> str | None:
        """The SMTP password, from the file if one is named; None = no authentication."""
        if self.smtp_password_file is not None:
            return self.smtp_password_file.read_text().strip()
        return None if self.smtp_password is None else self.smtp_password.get_secret_value()


class Settings(
    IngestSettings, FlaggerSettings, ProjectorSettings, DashboardSettings, NotifierSettings
):
    """Every knob of every service; defaults run on one machine."""
