"""Partner API keys, stored hashed, each with a scope: the kinds of record it may send and,
for a school, the one URN it may send for. Keys look like `fsk_<id>.<secret>`; a key may
expire, and is revoked by `flagstream keys revoke <id>`."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal

from sqlalchemy import Boolean, Column, DateTime, Engine, String, Table, Text, select

from flagstream import catalogue
from flagstream.schema import create_tables

from .store import add_columns, metadata

# Record kinds (the catalogue's labels of partner records, also the metric `kind` labels)
# and the scopes that name sets of them.
KINDS: Final = tuple(
    k.label for k in catalogue.kinds() if catalogue.ledger_label(k.event_type) is not None
)
SCOPES: Final[dict[str, tuple[str, ...]]] = {
    "school": ("attendance_mark", "enrolment", "sen_provision", "assessment"),
    "council": ("school", "enrolment", "sen_provision", "fsm_eligibility", "assessment"),
    "family-support": ("family_case",),
    "police": ("domestic_abuse_notification",),
    "health": (),  # early years, health visiting: the NHS-keyed streams naming it
    "professional": ("outcome", "huddle"),
    "all": KINDS,
}

api_keys = Table(
    "ingest_api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("secret_sha256", String(64), nullable=False, comment="SHA-256 of the secret, hex"),
    Column("partner", String(100), nullable=False),
    Column("scope", String(32), nullable=False),
    Column("urn", String(6), comment="The only URN a school key may send for"),
    Column("note", Text),
    Column("revoked", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), comment="Refused from then on; none: never"),
    comment="Partner API keys; the secret itself is never stored",
)
# Why a presented key is refused (401): stable reason codes.
KeyRefusal = Literal["unauthenticated", "key_revoked", "key_expired"]


def _ensure(engine: Engine) -> None:
    create_tables(metadata, engine, [api_keys])
    add_columns(engine, api_keys, ("expires_at",))


def _utc(at: datetime) -> datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # SQLite drops the zone


@dataclass(frozen=True, slots=True)
class Partner:
    """Who sent a request, and what they may send."""

    partner: str
    scope: str
    urn: str | None
    key_id: str = ""  # the `<id>` of fsk_<id>.<secret>: kept on what the key sends

    def may_send(self, kind: str, urns: Iterable[str | None]) -> bool:
        """True when the scope covers the kind and, for a URN-bound key, every URN given."""
        if kind not in scope_kinds(self.scope):
            return False
        return self.urn is None or all(u is None or u == self.urn for u in urns)


def scope_kinds(scope: str) -> tuple[str, ...]:
    """The kinds a scope may send: its own, and the catalogue's generic streams naming it."""
    generic = tuple(
        k.label
        for k in catalogue.kinds()
        if k.intake is not None and scope in ("all", k.intake.scope)
    )
    return tuple(dict.fromkeys(SCOPES.get(scope, ()) + generic))


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(
    engine: Engine,
    partner: str,
    scope: str,
    urn: str | None = None,
    expires_days: int | None = None,
    now: datetime | None = None,
) -> str:
    """Store a new key (hashed) and return it: shown once, never retrievable. With
    expires_days, it is refused that many days from now."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}")
    if (scope == "school") != (urn is not None):
        raise ValueError("a school key needs its URN (--urn), and only a school key has one")
    if urn is not None and not (len(urn) == 6 and urn.isascii() and urn.isdigit()):
        raise ValueError(f"URN must be 6 digits, not {urn!r}")
    if not 0 < len(partner.strip()) <= 100:
        raise ValueError("the partner name must be 1-100 characters")
    if expires_days is not None and not 0 < expires_days <= 3660:
        raise ValueError("--expires-days must be 1-3660")
    _ensure(engine)
    created = now or datetime.now(UTC)
    expires = created + timedelta(days=expires_days) if expires_days is not None else None
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    with engine.begin() as conn:
        conn.execute(
            api_keys.insert(),
            [
                {
                    "key_id": key_id,
                    "secret_sha256": _digest(secret),
                    "partner": partner,
                    "scope": scope,
                    "urn": urn,
                    "revoked": False,
                    "created_at": created,
                    "expires_at": expires,
                }
            ],
        )
    return f"fsk_{key_id}.{secret}"


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A stored key without its secret."""

    key_id: str
    partner: str
    scope: str
    urn: str | None
    revoked: bool
    created_at: datetime
    expires_at: datetime | None = None


def list_keys(engine: Engine) -> list[KeyInfo]:
    """Every stored key, oldest first; the secrets are not stored, so not shown."""
    _ensure(engine)
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.key_id)
    with engine.connect() as conn:
        return [
            KeyInfo(
                r.key_id,
                r.partner,
                r.scope,
                r.urn,
                r.revoked,
                r.created_at,
                _utc(r.expires_at) if r.expires_at is not None else None,
            )
            for r in conn.execute(query)
        ]


def revoke_key(engine: Engine, key_id: str) -> bool:
    """Refuse a key from now on (its id as `keys list` shows it); False if there is none."""
    _ensure(engine)
    key_id = key_id.removeprefix("fsk_").partition(".")[0]
    with engine.begin() as conn:
        done = conn.execute(
            api_keys.update().where(api_keys.c.key_id == key_id).values(revoked=True)
        )
        return bool(done.rowcount)


def key_from_headers(authorization: str | None, x_api_key: str | None) -> str | None:
    """The key in `Authorization: Bearer KEY`, Basic (password = KEY) or `X-API-Key: KEY`."""
    if x_api_key:
        return x_api_key.strip()
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    if scheme.lower() == "basic":
        try:
            return base64.b64decode(value.strip(), validate=True).decode().partition(":")[2]
        except (binascii.Error, UnicodeDecodeError):
            return None
    return None


class KeyStore:
    """Checks presented keys against the stored hashes."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._clock = clock or (lambda: datetime.now(UTC))
        _ensure(engine)

    def check(self, key: str | None) -> Partner | KeyRefusal:
        """The partner a valid key belongs to, or why it is refused. Revoked and expired are
        told apart only for a key whose secret matches: its holder may know, no one else."""
        if not key or not key.startswith("fsk_") or "." not in key:
            return "unauthenticated"
        key_id, _, secret = key[4:].partition(".")
        with self._engine.connect() as conn:
            row = conn.execute(select(api_keys).where(api_keys.c.key_id == key_id[:32])).first()
        # Compare digests in constant time; an unknown id still costs one comparison.
        expected = row.secret_sha256 if row is not None else "0" * 64
        if not hmac.compare_digest(expected, _digest(secret)) or row is None:
            return "unauthenticated"
        if row.revoked:
            return "key_revoked"
        if row.expires_at is not None and _utc(row.expires_at) <= self._clock():
            return "key_expired"
        return Partner(row.partner, row.scope, row.urn, row.key_id)

    def authenticate(self, key: str | None) -> Partner | None:
        """The partner a valid, unrevoked, unexpired key belongs to, else None."""
        found = self.check(key)
        return found if isinstance(found, Partner) else None
