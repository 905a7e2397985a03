"""Topic names, what each topic must look like, and their creation.

Only `flagstream topics create` (and the embedded stack's start) creates topics; no service
does, and every client is told not to auto-create. Each service checks the topics it uses
at start (`check_topics`): a topic with the wrong partitions or cleanup policy, or a topic
recreated since the service stored an offset in it (its topic id changed), stops the
service with what to run, rather than letting it skip or start again from empty state.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from kafka import KafkaAdminClient
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2

from . import kafka_clients

# Faust's group id is its app id; the changelog and leader topics are named after it.
FLAGGER_APP_ID = "flagstream-flagger"
FLAGGER_TABLE = "child-state"

KEPT = {"cleanup.policy": "delete", "retention.ms": "-1", "retention.bytes": "-1"}
COMPACTED = {"cleanup.policy": "compact"}
DAYS_30 = {"cleanup.policy": "delete", "retention.ms": str(30 * 86_400_000)}
DAYS_7 = {"cleanup.policy": "delete", "retention.ms": str(7 * 86_400_000)}
Role = Literal["canonical", "output", "reference", "internal", "partner"]


@dataclass(frozen=True, slots=True)
class Topics:
    """Every Flagstream topic name, derived from one prefix."""

    prefix: str = "flagstream"

    @property
    def schools(self) -> str:
        """Reference data, keyed by URN (one partition: small, ordered)."""
        return f"{self.prefix}.schools"

    @property
    def enrolments(self) -> str:
        """Canonical: enrolments keyed by child_key."""
        return f"{self.prefix}.enrolments"

    @property
    def attendance(self) -> str:
        """Canonical: batches of marks, each batch in the partition owning its children, and
        DayEnded ticks (one per partition, after that day's registers)."""
        return f"{self.prefix}.attendance"

    @property
    def child_events(self) -> str:
        """Canonical: SEN, FSM, assessment, family-case and notification events by child_key."""
        return f"{self.prefix}.child-events"

    @property
    def clock(self) -> str:
        """Canonical: RulesDeployed, one copy in every partition."""
        return f"{self.prefix}.clock"

    @property
    def flag_changes(self) -> str:
        """Flagger output: FlagChanged keyed by child_key."""
        return f"{self.prefix}.flag-changes"

    @property
    def child_flags(self) -> str:
        """Flagger output: ChildFlagsSnapshot keyed by child_key (compacted)."""
        return f"{self.prefix}.child-flags"

    @property
    def outcomes(self) -> str:
        """Professionals' outcomes (OutcomeRecorded) keyed by child_key; read by the projector."""
        return f"{self.prefix}.outcomes"

    @property
    def dead_letters(self) -> str:
        """Rejected records: reason, source and a reference, never a raw identifier."""
        return f"{self.prefix}.dead-letters"

    @property
    def quarantine(self) -> str:
        """Messages a consumer could not decode, with their original bytes, when
        FLAGSTREAM_ON_UNDECODABLE=quarantine (headers say where each came from)."""
        return f"{self.prefix}.quarantine"

    @property
    def record_replays(self) -> str:
        """Markers from the keepers of the durable record (ingest, the validator): a replay of
        the record onto this log started or finished (flagstream/replays.py)."""
        return f"{self.prefix}.record-replays"

    @property
    def flagger_changelog(self) -> str:
        """The flagger's Faust table changelog (compacted)."""
        return f"{FLAGGER_APP_ID}-{FLAGGER_TABLE}-changelog"

    @property
    def flagger_leader(self) -> str:
        """Faust's leader-assignor topic (one partition)."""
        return f"{FLAGGER_APP_ID}-__assignor-__leader"

    def raw(self, kind: str) -> str:
        """Partners' own Avro records of one kind (e.g. attendance_mark), published straight
        to Kafka; `flagstream validator` checks them into the canonical topics."""
        return f"{self.prefix}.raw.{kind}"

    @property
    def canonical(self) -> tuple[str, ...]:
        """Topics the flagger consumes, co-partitioned by child_key."""
        return (self.enrolments, self.attendance, self.child_events, self.clock)


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic as it must be: partitions, and the configs it is created with on Kafka."""

    name: str
    partitions: int
    role: Role
    configs: Mapping[str, str] = field(default_factory=dict)


def topic_specs(topics: Topics, partitions: int, raw_kinds: Sequence[str] = ()) -> list[TopicSpec]:
    """Every topic Flagstream uses. What rebuilds read is kept for good (the canonical
    topics, flag changes, outcomes, schools); snapshots and the changelog are compacted."""
    specs = [TopicSpec(topics.schools, 1, "reference", KEPT)]
    specs += [TopicSpec(name, partitions, "canonical", KEPT) for name in topics.canonical]
    specs += [
        TopicSpec(topics.flag_changes, partitions, "output", KEPT),
        TopicSpec(topics.child_flags, partitions, "output", COMPACTED),
        TopicSpec(topics.outcomes, partitions, "reference", KEPT),
        TopicSpec(topics.dead_letters, 1, "internal", DAYS_30),
        TopicSpec(topics.quarantine, 1, "internal", KEPT),
        TopicSpec(topics.record_replays, 1, "internal", KEPT),
        TopicSpec(topics.flagger_changelog, partitions, "internal", COMPACTED),
        TopicSpec(topics.flagger_leader, 1, "internal", DAYS_7),
    ]
    specs += [TopicSpec(topics.raw(kind), partitions, "partner", DAYS_7) for kind in raw_kinds]
    return specs


def specs_named(topics: Topics, partitions: int, names: Iterable[str]) -> list[TopicSpec]:
    """The specs of the named topics (those a service reads or writes)."""
    wanted = set(names)
    return [s for s in topic_specs(topics, partitions) if s.name in wanted]


def partition_for(child_key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives this key (murmur2, as Java and Faust)."""
    return int(murmur2(child_key.encode()) & 0x7FFFFFFF) % partitions


# The cluster id the embedded broker (Tansu) is started with, and Tansu's own default: how a
# client knows it is on the embedded broker, whose quirks some workarounds are for (the
# flagger's end offsets, flagger/kafka_quirks.py). Apache Kafka's ids are random base64.
EMBEDDED_CLUSTER_ID = "flagstream-embedded"
EMBEDDED_CLUSTER_IDS = frozenset({EMBEDDED_CLUSTER_ID, "tansu_cluster"})


def cluster_id(bootstrap: str) -> str:
    """The cluster's id, as the broker reports it (DescribeCluster)."""
    admin = _admin(bootstrap)
    try:
        return str(admin.describe_cluster()["cluster_id"])
    finally:
        admin.close()


def on_embedded_broker(bootstrap: str) -> bool:
    """True when the cluster is the embedded broker (by its cluster id)."""
    return cluster_id(bootstrap) in EMBEDDED_CLUSTER_IDS


def _admin(bootstrap: str) -> KafkaAdminClient:
    return kafka_clients.admin(bootstrap_servers=bootstrap, client_id="flagstream-admin")


def create_topics(
    bootstrap: str,
    topics: Topics,
    partitions: int,
    replication: int = 1,
    raw_kinds: Sequence[str] = (),
) -> list[str]:
    """Create any missing topic with its configs; return the names created."""
    specs = topic_specs(topics, partitions, raw_kinds)
    admin = _admin(bootstrap)
    try:
        existing = set(admin.list_topics())
        missing = [
            NewTopic(s.name, s.partitions, replication, topic_configs=dict(s.configs))
            for s in specs
            if s.name not in existing
        ]
        if missing:
            # Another process may create them between list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        admin.close()


@dataclass(frozen=True, slots=True)
class Described:
    """A topic as the broker reports it."""

    partitions: int
    topic_id: str | None
    configs: Mapping[str, str]


def describe(bootstrap: str, names: Iterable[str]) -> dict[str, Described]:
    """Partitions, topic id and configs of each existing topic among `names`. The embedded
    broker reports topic ids but no configs; Kafka reports both."""
    names = sorted(set(names))
    admin = _admin(bootstrap)
    try:
        existing = set(admin.list_topics())
        present = [n for n in names if n in existing]
        if not present:
            return {}
        found: dict[str, Described] = {}
        configs: dict[str, dict[str, str]] = {n: {} for n in present}
        with contextlib.suppress(Exception):  # a broker without DescribeConfigs: no configs
            described = admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, n) for n in present],
                config_filter="all",
            )
            for name, entries in dict(described.get("topic", {})).items():
                configs[name] = {
                    key: str(entry["value"])
                    for key, entry in dict(entries).items()
                    if isinstance(entry, dict) and entry.get("value") is not None
                }
        for topic in admin.describe_topics(present):
            topic_id = topic.get("topic_id")
            found[topic["name"]] = Described(
                len(topic["partitions"]),
                None
                if topic_id in (None, "", "00000000-0000-0000-0000-000000000000")
                else str(topic_id),
                configs.get(topic["name"], {}),
            )
        return found
    finally:
        admin.close()


class TopicsNotReady(RuntimeError):
    """The topics are missing or not as they must be; the message says what to run."""


def check_topics(bootstrap: str, specs: Sequence[TopicSpec]) -> dict[str, Described]:
    """Raise TopicsNotReady unless every topic exists with its partitions and, where the broker
    reports configs, its cleanup policy and retention. Returns what was found."""
    found = describe(bootstrap, [s.name for s in specs])
    problems = []
    for spec in specs:
        got = found.get(spec.name)
        if got is None:
            problems.append(f"{spec.name} is missing")
            continue
        if got.partitions != spec.partitions:
            problems.append(f"{spec.name} has {got.partitions} partition(s), not {spec.partitions}")
        for key in ("cleanup.policy", "retention.ms"):
            want, have = spec.configs.get(key), got.configs.get(key)
            if want is not None and have is not None and _normal(key, have) != _normal(key, want):
                problems.append(f"{spec.name} has {key}={have}, not {want}")
    if problems:
        raise TopicsNotReady(
            "the topics are not as Flagstream needs them: "
            + "; ".join(problems)
            + ". Run `flagstream topics create` on a new or reset broker; a topic with the "
            "wrong partitions or policy must be fixed by an operator (docs/operations.md)."
        )
    return found


def _normal(key: str, value: str) -> str:
    if key == "retention.ms" and value.strip().lstrip("-").isdigit() and int(value) < 0:
        return "-1"
    return value.strip()
