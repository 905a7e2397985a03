"""Flagstream's databases, each declared by its owner, in the order they are migrated."""

from __future__ import annotations

from dashboard.audit_database import DATABASE as AUDIT
from flagstream.alerts_database import DATABASE as ALERTS
from flagstream.databases import Database
from flagstream.identity_database import DATABASE as IDENTITY
from ingest.database import DATABASE as INGEST
from readmodel.migrate import DATABASE as READ_MODEL

DATABASES: tuple[Database, ...] = (READ_MODEL, INGEST, IDENTITY, AUDIT)
BY_NAME: dict[str, Database] = {d.name: d for d in DATABASES}
# Every database `flagstream migrate` brings up to date. The alerts database (the notifier's)
# is not yet among those `flagstream db roles` grants on: that needs a notifier PostgreSQL
# role (README "Not built yet"), so it is migrated as the connecting user.
MIGRATED: tuple[Database, ...] = (*DATABASES, ALERTS)
