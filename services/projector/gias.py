"""GIAS-style CSV import of real schools: each valid row becomes SchoolRecorded on the
schools topic, so the projector stays the only writer of the read model.

Columns (a GIAS "all establishments" extract plus two council columns): URN,
EstablishmentName, PhaseOfEducation (name), TypeOfEstablishment (name), Pyramid, Zone.
Run: python -m projector.gias FILE.csv  (FLAGSTREAM_KAFKA_BOOTSTRAP must be set).
"""

from __future__ import annotations

import csv
import sys
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flagstream.domain.events import Phase, SchoolRecorded

REQUIRED = ("URN", "EstablishmentName", "PhaseOfEducation (name)", "Pyramid", "Zone")
PHASES: dict[str, Phase] = {
    "nursery": "NURSERY",
    "primary": "PRIMARY",
    "middle deemed primary": "MIDDLE",
    "middle deemed secondary": "MIDDLE",
    "secondary": "SECONDARY",
    "all-through": "ALL_THROUGH",
    "first": "FIRST",
    "upper": "UPPER",
}


@dataclass(frozen=True, slots=True)
class Rejected:
    """A CSV row not imported: its line number and a stable reason code."""

    line: int
    reason: str


def _phase(row: dict[str, str]) -> Phase | None:
    phase = PHASES.get(row["PhaseOfEducation (name)"].strip().lower())
    if phase is None and "special" in row.get("TypeOfEstablishment (name)", "").lower():
        return "SPECIAL"
    return phase


def parse(lines: Iterable[str], now: datetime) -> tuple[list[SchoolRecorded], list[Rejected]]:
    """Valid schools and rejected rows (received = accepted + rejected)."""
    accepted: list[SchoolRecorded] = []
    rejected: list[Rejected] = []
    for n, row in enumerate(csv.DictReader(lines), start=2):
        if any(not (row.get(col) or "").strip() for col in REQUIRED):
            rejected.append(Rejected(n, "missing_field"))
            continue
        urn = row["URN"].strip()
        if not (urn.isdigit() and len(urn) == 6):
            rejected.append(Rejected(n, "invalid_urn"))
            continue
        phase = _phase(row)
        if phase is None:
            rejected.append(Rejected(n, "invalid_phase"))
            continue
        name, pyramid, zone = (row[c].strip() for c in ("EstablishmentName", "Pyramid", "Zone"))
        accepted.append(
            SchoolRecorded(
                # Same row, same id: importing a file twice is recognisably a repeat.
                event_id=uuid.uuid5(uuid.NAMESPACE_URL, f"gias:{urn}:{name}:{pyramid}:{zone}"),
                source="gias",
                occurred_at=now,
                recorded_at=now,
                urn=urn,
                name=name,
                phase=phase,
                pyramid=pyramid,
                zone=zone,
            )
        )
    return accepted, rejected


def publish(bootstrap: str, topic: str, schools: Sequence[SchoolRecorded], codec: Any) -> None:
    """Send every school to the reference-data topic, keyed by URN, and wait for acks."""
    from flagstream import kafka_clients

    producer = kafka_clients.producer(
        bootstrap_servers=bootstrap,
        acks="all",
        client_id="gias-import",
        allow_auto_create_topics=False,
    )
    try:
        futures = [producer.send(topic, key=s.urn.encode(), value=codec.encode(s)) for s in schools]
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close()


def main(argv: Sequence[str] | None = None) -> int:
    """Import a CSV file; prints received/accepted/rejected and each reason."""
    from flagstream.codec import Codec
    from flagstream.settings import KafkaSettings
    from flagstream.topics import Topics

    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in ("-h", "--help"):
        print(__doc__)
        return 2
    path = Path(args[0])
    with path.open(newline="", encoding="utf-8-sig") as f:
        schools, rejected = parse(f, datetime.now(UTC))
    settings = KafkaSettings()
    publish(
        settings.require_kafka(),
        Topics(settings.topic_prefix).schools,
        schools,
        Codec(settings.schemas_dir),
    )
    print(
        f"{path}: received {len(schools) + len(rejected)}, accepted {len(schools)}, "
        f"rejected {len(rejected)}"
    )
    for reason, n in sorted(Counter(r.reason for r in rejected).items()):
        lines = ", ".join(str(r.line) for r in rejected if r.reason == reason)
        print(f"  {reason}: {n} (lines {lines}) - fix these rows and import the file again")
    return 0 if not rejected else 1


if __name__ == "__main__":
    sys.exit(main())
