"""Demo logins for a generated county: one per role, scoped to its first school and zone."""

from __future__ import annotations

import random
import re

from dashboard.users import DemoUser
from flagstream_tools.generator.model import County


def demo_users(county: County, seed: int | None = None) -> list[DemoUser]:
    """One login per role for a generated county: the first school and first zone are scopes."""
    rng = random.SystemRandom() if seed is None else random.Random(seed)

    def password() -> str:
        return "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(12))

    school = county.schools[0]
    zone = re.sub(r"[^a-z0-9]+", "-", school.zone.lower()).strip("-")
    # .invalid (RFC 2606): no demo mail can reach a real mailbox, even through a real relay.
    return [
        DemoUser(
            "school",
            "school.staff",
            password(),
            school.urn,
            f"staff-{school.urn}@schools.example.invalid",
        ),
        DemoUser(
            "dsl", "school.dsl", password(), school.urn, f"dsl-{school.urn}@schools.example.invalid"
        ),
        DemoUser(
            "zone", "zone.staff", password(), school.zone, f"zone-{zone}@council.example.invalid"
        ),
        DemoUser("manager", "manager", password(), None, "manager@council.example.invalid"),
        DemoUser("admin", "admin", password(), None),
    ]
