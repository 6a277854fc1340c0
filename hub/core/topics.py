"""Every topic the hub reads or writes: one table of names (the AsyncAPI document is built from
it too). Creating them on the broker is `hub.adapters.kafka.topics`."""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.providers import ProviderDirectory

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

    def described_outputs(self, providers: ProviderDirectory) -> tuple[tuple[str, str], ...]:
        """Every Bundle topic with what it carries (the AsyncAPI channels come from here)."""
        return (*((self.provider(p.topic), f"Referrals for {p.authority_name}.")
                  for p in providers.providers),
                (self.triage, "Referrals the hub could not route (header triage-reason), and "
                              "identity reviews."),
                (self.assessment_requests, "Requests for a new assessment, and their closing "
                                           "updates."),
                (self.assessments_shared, "An existing assessment answering a court's or "
                                          "probation's request (BaRS-style response)."))

    def all(self, providers: ProviderDirectory) -> tuple[str, ...]:
        return (*self.inputs, *self.outputs(providers))
