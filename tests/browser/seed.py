"""A small known read model (two zones, three schools) written straight into the projector's
tables, plus identities and users: what the dashboard's unit and browser tests look at."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert

from dashboard.users import User, hash_password
from flagstream import identity, restricted
from readmodel.db import create_schema
from readmodel.tables import (
    child_flags,
    children,
    daily_counts,
    flag_history,
    freshness,
    outcomes,
    restricted_flags,
    school_flag_counts,
    school_summary,
    schools,
)

NOW = datetime(2026, 10, 2, 16, 0, tzinfo=UTC)
TODAY = date(2026, 10, 2)
PASSWORD = "correct horse battery"
FLAGS = ("ATTAIN", "ATTEND", "FAMILY", "FSM", "SEN")  # the flags the seed raises

SCHOOLS = [
    # urn, name, phase, pyramid, zone
    ("100001", "Northvale Primary", "primary", "Northvale", "North Zone"),
    ("100002", "Northvale Academy", "secondary", "Northvale", "North Zone"),
    ("200001", "Southmere First", "primary", "Southmere", "South Zone"),
]

# child_key, urn, year, sex, flags, forename, surname, upn
CHILDREN = [
    ("a1" * 32, "100001", 5, "F", {"ATTEND", "FSM"}, "Amelia", "Ashdown", "A823456789012"),
    ("a2" * 32, "100001", 3, "M", {"FAMILY"}, "Ben", "Barrow", "B823456789012"),
    ("a3" * 32, "100001", 6, "F", set(), "=HYPERLINK(1)", "Cole", "C823456789012"),
    ("b1" * 32, "100002", 9, "M", {"ATTAIN", "SEN"}, "Dev", "Dunn", "D823456789012"),
    ("c1" * 32, "200001", 2, "F", {"ATTEND"}, "Evie", "Eaves", "E823456789012"),
]
FAMILY_REASON = "open family-support case since 2026-09-01"
# Ben (a2) also has a police notification: the DSL-only SAFEGUARD flag, in restricted_flags,
# with its details in the restricted store beside the identity store.
NOTIFICATION_REASON = "safeguarding notification within 28 days (latest 2026-09-30)"
POLICE_REFERENCE = "OE/2026/004711"
CIRCUMSTANCES = "Verbal argument between adults; child upstairs."

USERS = [
    ("staff", "school", "100001"),
    ("dsl", "dsl", "100001"),
    ("other", "school", "200001"),
    ("north", "zone", "North Zone"),
    ("boss", "manager", None),
    ("root", "admin", None),
]


def _reason(flag: str) -> str:
    if flag == "FAMILY":
        return FAMILY_REASON
    return {"ATTEND": "attendance 86.4% (152 of 176 sessions); absent 13.6%"}.get(
        flag, f"{flag.lower()} evidence"
    )


def _child_row(key: str, urn: str, year: int, sex: str, flags: set[str]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "child_key": key,
        "urn": urn,
        "nc_year": year,
        "sex": sex,
        "as_of": TODAY,
        "possible_sessions": 40,
        "absent_sessions": 6 if "ATTEND" in flags else 1,
        "attendance_pct": 85.0 if "ATTEND" in flags else 97.5,
        "indicators": len(flags),
        "flags": ",".join(sorted(flags)),
        "rule_version": "2026.1",
        "updated_at": NOW,
    }
    return row


def _flag_rows(key: str, urn: str, flags: set[str]) -> list[dict[str, Any]]:
    return [
        {
            "child_key": key,
            "flag": flag,
            "urn": urn,
            "reason": _reason(flag),
            "tier": "case" if flag == "FAMILY" else "",
            "since": date(2026, 9, 20),
        }
        for flag in sorted(flags)
    ]


def seed(read_model: Engine, identity_db: Engine) -> None:
    """Write the known rows (tables created from the projector's metadata)."""
    create_schema(read_model)
    identity.metadata.create_all(identity_db)
    with read_model.begin() as conn:
        conn.execute(
            insert(schools),
            [
                {"urn": u, "name": n, "phase": p, "pyramid": py, "zone": z, "updated_at": NOW}
                for u, n, p, py, z in SCHOOLS
            ],
        )
        conn.execute(
            insert(children), [_child_row(k, u, y, s, f) for k, u, y, s, f, *_ in CHILDREN]
        )
        conn.execute(
            insert(child_flags),
            [r for k, u, _y, _s, f, *_ in CHILDREN for r in _flag_rows(k, u, f)],
        )
        for urn, *_ in SCHOOLS:
            mine = [c for c in CHILDREN if c[1] == urn]
            summary: dict[str, Any] = {
                "urn": urn,
                "children": len(mine),
                "any_flagged": sum(1 for c in mine if c[4]),
                "as_of": TODAY,
            }
            conn.execute(insert(school_summary), summary)
            counts = [
                {"urn": urn, "flag": flag, "flagged": n}
                for flag in FLAGS
                if (n := sum(1 for c in mine if flag in c[4]))
            ]
            if counts:
                conn.execute(insert(school_flag_counts), counts)
            # Southmere's register for today has not arrived.
            day = TODAY if urn != "200001" else TODAY - timedelta(days=1)
            conn.execute(
                insert(freshness),
                {"urn": urn, "source": "register", "last_received_at": NOW, "data_as_of": day},
            )
            for i in range(5):
                for flag in (*FLAGS, "ANY"):
                    n = sum(1 for c in mine if (flag in c[4] or (flag == "ANY" and c[4])))
                    conn.execute(
                        insert(daily_counts),
                        {
                            "day": TODAY - timedelta(days=4 - i),
                            "urn": urn,
                            "flag": flag,
                            "on_roll": len(mine),
                            "flagged": max(n - (4 - i) // 2, 0),
                        },
                    )
        for key, urn, _y, _s, flags, *_ in CHILDREN:
            for flag in flags:
                conn.execute(
                    insert(flag_history),
                    {
                        "raised_event_id": f"{key[:8]}-{flag}",
                        "child_key": key,
                        "urn": urn,
                        "flag": flag,
                        "raised_on": date(2026, 9, 20),
                        "raised_reason": _reason(flag),
                        "rule_version": "2026.1",
                        "reflagged_within_12m": False,
                    },
                )
        conn.execute(
            insert(restricted_flags),
            {
                "child_key": CHILDREN[1][0],
                "flag": "SAFEGUARD",
                "urn": "100001",
                "reason": NOTIFICATION_REASON,
                "tier": "notification",
                "raised_on": date(2026, 9, 30),
                "as_of": TODAY,
                "updated_at": NOW,
            },
        )
        conn.execute(
            insert(outcomes),
            {
                "event_id": "00000000-0000-4000-8000-000000000001",
                "child_key": CHILDREN[0][0],
                "urn": "100001",
                "response": "Continue to monitor",
                "status": "No progress",
                "recorded_by": "staff",
                "recorded_on": date(2026, 9, 25),
                "recorded_at": NOW,
            },
        )
    with identity_db.begin() as conn:
        identity.record(
            conn,
            [
                identity.Identity(k, u, upn, fore, sur, NOW)
                for k, u, _y, _s, _f, fore, sur, upn in CHILDREN
            ],
        )
        restricted.record(
            conn,
            [
                restricted.Details(
                    "00000000-0000-4000-8000-0000000000aa",
                    CHILDREN[1][0],
                    "100001",
                    date(2026, 9, 30),
                    True,
                    POLICE_REFERENCE,
                    CIRCUMSTANCES,
                    NOW,
                )
            ],
        )


def users() -> dict[str, User]:
    """One login per role; all share PASSWORD (hashed once, it is slow on purpose)."""
    hashed = hash_password(PASSWORD)
    return {name: User(name, role, scope, hashed) for name, role, scope in USERS}  # type: ignore[arg-type]


def users_file(path: Path) -> Path:
    from dashboard.users import write_users

    write_users(path, users().values())
    return path
