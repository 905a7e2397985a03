"""Flagstream's databases, each declared by its owner, in the order they are migrated."""

from __future__ import annotations

from dashboard.audit_database import DATABASE as AUDIT
from flagstream.alerts_database import DATABASE as ALERTS
from flagstream.databases import Database
from flagstream.identity_database import DATABASE as IDENTITY
from ingest.database import DATABASE as INGEST
from readmodel.migrate import DATABASE as READ_MODEL

# Every database `flagstream migrate` brings up to date and `flagstream db roles` creates and
# grants on (deploy/postgres/<name>.sql): the alerts database (the notifier's ledger and
# inbox, the dashboard's preferences and visits) is owned and migrated like the others.
DATABASES: tuple[Database, ...] = (READ_MODEL, INGEST, IDENTITY, AUDIT, ALERTS)
BY_NAME: dict[str, Database] = {d.name: d for d in DATABASES}
