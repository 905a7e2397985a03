"""The alerts store's tables (flagstream/alerts.py reads and writes them, alerts_database.py
migrates them): the sent ledger, the inbox, preferences, visits and the notifier's offsets."""

from __future__ import annotations

from typing import Literal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()
AlertKind = Literal["safeguarding", "daily_school", "weekly_zone", "late_registers"]
Status = Literal["pending", "sent", "failed"]

ledger = Table(
    "alert_ledger",
    metadata,
    Column("message_id", String(80), primary_key=True, comment="Event id or digest period"),
    Column("recipient", String(320), primary_key=True, comment="User name, or an address"),
    Column("channel", String(8), primary_key=True, comment="email or inbox"),
    Column("kind", String(24), nullable=False),
    Column("address", String(320), comment="Where the email goes (email rows)"),
    Column("subject", Text, nullable=False, comment="No child detail, ever"),
    Column("body", Text, nullable=False, comment="No child detail, ever: counts and a link"),
    Column("status", String(8), nullable=False, comment="pending, sent or failed (for good)"),
    Column("attempts", Integer, nullable=False, default=0),
    Column("last_error", String(120), comment="The SMTP error class, never a message body"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    comment="Every message the notifier decided to send, once per recipient and channel",
)

inbox = Table(
    "alert_inbox",
    metadata,
    Column("message_id", String(80), primary_key=True),
    Column("recipient", String(64), primary_key=True, comment="Dashboard user name"),
    Column("kind", String(24), nullable=False),
    Column("subject", Text, nullable=False),
    Column("link", Text, nullable=False, comment="Dashboard path the message points to"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("read_at", DateTime(timezone=True)),
    comment="The dashboard inbox: one row per message and user",
)

preferences = Table(
    "alert_preferences",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("safeguarding_email", Boolean, nullable=False, default=True),
    Column("daily_school", Boolean, nullable=False, default=False),
    Column("weekly_zone", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    comment="What each user chose to be emailed (no row: the defaults)",
)

visits = Table(
    "alert_visits",
    metadata,
    Column("username", String(64), primary_key=True),
    Column("page", String(200), primary_key=True, comment="A list page's path"),
    Column("previous_at", DateTime(timezone=True), comment="The visit before the last"),
    Column("last_at", DateTime(timezone=True), nullable=False),
    comment="Each user's visits to each list, for the 'new since your last visit' marker",
)

offsets = Table(
    "alert_offsets",
    metadata,
    Column("topic", String(249), primary_key=True),
    Column("kafka_partition", Integer, primary_key=True),
    Column("next_offset", BigInteger, nullable=False),
    comment="The notifier's position in the flag-change topic, stored with what it decided",
)
