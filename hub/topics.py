"""Topic names, and creating them on the broker (idempotent)."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hub.kafka_access import KafkaAccess, client_options
from hub.routing.providers import ProviderDirectory

#: Each input topic (base name) → its consumer group's suffix (`<HUB_CONSUMER_GROUP>.<suffix>`).
INPUT_GROUPS = {"custody.events.v1": "custody-events", "court.events.v1": "court-events",
                "probation.events.v1": "probation-events",
                "provider.feedback.v1": "provider-feedback"}


@dataclass(frozen=True)
class Topics:
    """Every topic the hub reads or writes, with the deployment's prefix applied."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def custody_events(self) -> str:
        return self.name("custody.events.v1")

    @property
    def court_events(self) -> str:
        return self.name("court.events.v1")

    @property
    def probation_events(self) -> str:
        return self.name("probation.events.v1")

    @property
    def provider_feedback(self) -> str:
        return self.name("provider.feedback.v1")

    @property
    def triage(self) -> str:
        return self.name("referrals.triage.v1")

    @property
    def assessment_requests(self) -> str:
        return self.name("assessment.requests.v1")

    @property
    def assessments_shared(self) -> str:
        return self.name("assessments.shared.v1")

    def provider(self, provider_topic: str) -> str:
        return self.name(provider_topic)

    @staticmethod
    def dead_letter(input_topic: str) -> str:
        """`custody.events.v1` → `custody.events.dlq.v1`."""
        stem, _, version = input_topic.rpartition(".")
        return f"{stem}.dlq.{version}"

    @property
    def inputs(self) -> tuple[str, ...]:
        return (self.custody_events, self.court_events, self.probation_events,
                self.provider_feedback)

    def outputs(self, providers: ProviderDirectory) -> tuple[str, ...]:
        return (*(self.provider(p.topic) for p in providers.providers), self.triage,
                self.assessment_requests, self.assessments_shared,
                *(self.dead_letter(t) for t in self.inputs))

    def all(self, providers: ProviderDirectory) -> tuple[str, ...]:
        return (*self.inputs, *self.outputs(providers))


async def create_topics(
    kafka: KafkaAccess | str, names: tuple[str, ...], partitions: int, replication: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; return the ones created."""
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic
    from aiokafka.errors import TopicAlreadyExistsError

    admin = AIOKafkaAdminClient(**client_options(kafka))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [n for n in names if n not in existing]
        if missing:
            # Created meanwhile by another process: that is the goal.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics([
                    NewTopic(n, num_partitions=partitions, replication_factor=replication)
                    for n in missing])
        return missing
    finally:
        await admin.close()
