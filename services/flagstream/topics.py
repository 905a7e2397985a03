"""Topic names and their creation. Canonical topics share one partition count."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import TopicAlreadyExistsError
from kafka.partitioner.default import murmur2


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

    def raw(self, kind: str) -> str:
        """Partners' own Avro records of one kind (e.g. attendance_mark), published straight
        to Kafka; `flagstream validator` checks them into the canonical topics."""
        return f"{self.prefix}.raw.{kind}"

    @property
    def canonical(self) -> tuple[str, ...]:
        """Topics the flagger consumes, co-partitioned by child_key."""
        return (self.enrolments, self.attendance, self.child_events, self.clock)


def partition_for(child_key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives this key (murmur2, as Java and Faust)."""
    return int(murmur2(child_key.encode()) & 0x7FFFFFFF) % partitions


def create_topics(
    bootstrap: str, topics: Topics, partitions: int, replication: int = 1
) -> list[str]:
    """Create any missing topic; return the names created."""
    specs = [NewTopic(topics.schools, 1, replication)]
    specs += [NewTopic(name, partitions, replication) for name in topics.canonical]
    specs.append(NewTopic(topics.flag_changes, partitions, replication))
    specs.append(NewTopic(topics.outcomes, partitions, replication))
    specs.append(NewTopic(topics.dead_letters, 1, replication))
    specs.append(
        NewTopic(
            topics.child_flags, partitions, replication, topic_configs={"cleanup.policy": "compact"}
        )
    )
    admin = KafkaAdminClient(bootstrap_servers=bootstrap, client_id="flagstream-admin")
    try:
        existing = set(admin.list_topics())
        missing = [t for t in specs if t.name not in existing]
        if missing:
            # Another process may create them between list and create.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(missing)
        return [t.name for t in missing]
    finally:
        admin.close()
