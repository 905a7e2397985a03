"""The Kafka edge: partners' Avro records on `<prefix>.raw.<kind>` get exactly the checks of the
HTTP path (intake.check_records / queue_checked: same validation, pseudonymisation, dead
letters and ledger) and are stored in the validator's outbox together with the next offsets,
in one transaction. A crash before the commit replays the batch; after it, nothing is read
twice - so nothing is lost and nothing is counted or queued twice."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flagstream.identity import Identity
from flagstream.metrics import ServiceMetrics
from flagstream.restricted import Details
from flagstream.topics import Topics

from . import fields as f
from .avro_bodies import AvroBodyError, PartnerSchema, RegistryLookup, parse_avro_record
from .intake import Beside, Move, check_records, queue_checked
from .kinds import BY_NAME, KINDS, RecordKind
from .routing import Router
from .store import Offsets, Store, stored_offsets

SOURCE_HEADER = "source"  # optional Kafka header naming the sending system


@dataclass(frozen=True, slots=True)
class RawRecord:
    """One record as consumed from a raw topic."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes | None]] = ()

    @property
    def reference(self) -> str:
        """Where it was read: what a dead letter cites instead of any identifier."""
        return f"{self.topic}/{self.partition}@{self.offset}"


@dataclass
class Summary:
    """What one batch did."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    kinds: dict[str, tuple[int, int]] = field(default_factory=dict)  # kind: (received, accepted)


def _source(kind: RecordKind, record: RawRecord) -> tuple[str, str | None, str | None]:
    """(ledger source, URN, what is wrong with the `source` header) of a record: the header or
    the kind's default source (also when the header is not a valid source: printable UTF-8
    text of 1-100 characters); for register marks the URN is the Kafka key, and the source
    names it as the HTTP path does."""
    given = dict(record.headers).get(SOURCE_HEADER)
    source, problem = "", None
    try:
        source = given.decode("utf-8").strip() if given else ""
        problem = f.source_problem(source) if source else None
    except UnicodeDecodeError:
        problem = "the source header is not UTF-8"
    if problem is not None or not source:
        source = kind.default_source
    if "{urn}" not in kind.path:
        return source, None, problem
    try:
        urn = (record.key or b"").decode("ascii").strip()
    except UnicodeDecodeError:
        urn = "?"
    return f.school_source(source, urn), urn, problem


class Validator:
    """Validates batches of raw records into its outbox (Store over `raw_outbox`)."""

    def __init__(
        self,
        store: Store,
        router: Router,
        pseudonymise: Callable[[str], str],
        clock: Callable[[], datetime],
        topics: Topics,
        registry: RegistryLookup | None = None,
        identities: Callable[[list[Identity]], None] | None = None,
        metrics: ServiceMetrics | None = None,
        restricted: Callable[[list[Details]], None] | None = None,
        moves: Callable[[list[Move]], None] | None = None,
    ) -> None:
        self._store, self._router, self._key, self._clock = store, router, pseudonymise, clock
        self._registry, self._metrics = registry, metrics
        self._beside = Beside(identities, restricted, moves)
        self.kinds = {topics.raw(k.name): k for k in KINDS}
        self._schemas = {k.name: PartnerSchema(k.record.__name__, k.record) for k in KINDS}

    def offsets(self) -> Offsets:
        """Where to resume reading."""
        with self._store.engine.connect() as conn:
            return stored_offsets(conn)

    def _decode(self, kind: RecordKind, record: RawRecord) -> dict[str, Any] | f.Invalid:
        if record.value is None:
            return f.Invalid("malformed_avro", None, "the record has no value")
        try:
            return parse_avro_record(record.value, self._schemas[kind.name], self._registry)
        except AvroBodyError as exc:
            # parse_avro_record never reads more than one record, so never too_many_records.
            reason = "trailing_bytes" if exc.reason == "too_many_records" else exc.reason
            return f.Invalid(reason, None, str(exc).partition(": ")[2])

    def process(self, records: Sequence[RawRecord]) -> Summary:
        """Validate a batch and store its outputs with the next offsets in one transaction.
        Raises (and stores nothing) when e.g. the schema registry or database is away."""
        now = self._clock()
        groups: dict[tuple[str, str, str | None], list[tuple[RawRecord, Any]]] = {}
        for record in records:
            kind = self.kinds[record.topic]
            source, urn, problem = _source(kind, record)
            decoded: dict[str, Any] | f.Invalid = (
                self._decode(kind, record)
                if problem is None
                else f.Invalid("invalid_source", "source", problem)
            )
            groups.setdefault((kind.name, source, urn), []).append((record, decoded))
        summary = Summary()
        with self._store.begin() as tx:
            for (name, source, urn), group in groups.items():
                kind = BY_NAME[name]
                stamp = f.Stamp(source=source, recorded_at=now)
                checked = check_records(tx, kind, [d for _, d in group], urn, self._key, stamp)
                refs = [r.reference for r, _ in group]
                queue_checked(tx, self._router, kind, stamp, checked, refs.__getitem__)
                self._beside.keep(kind.name, checked)  # a replay after a failed commit rewrites
                summary.received += checked.received
                summary.accepted += len(checked.accepted)
                summary.rejected += len(checked.rejections)
                for r in checked.rejections:
                    summary.reasons[r.reason] = summary.reasons.get(r.reason, 0) + 1
                got, kept = summary.kinds.get(kind.name, (0, 0))
                summary.kinds[kind.name] = (got + checked.received, kept + len(checked.accepted))
            ends: Offsets = {}
            for raw in records:
                tp = (raw.topic, raw.partition)
                ends[tp] = max(ends.get(tp, 0), raw.offset + 1)
            tx.save_offsets(ends)
        if self._metrics is not None:
            for reason, n in summary.reasons.items():
                self._metrics.rejected.labels(reason).inc(n)
            for name, (got, kept) in summary.kinds.items():
                self._metrics.events_in.labels(name).inc(got)
                self._metrics.events_out.labels(name).inc(kept)
        return summary
