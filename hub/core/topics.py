"""Every topic the hub reads or writes: one table of names (the AsyncAPI document is built from
it too). Creating them on the broker is `hub.adapters.kafka.topics`."""

from __future__ import annotations

from dataclasses import dataclass

from hub.core.providers import Provider, ProviderDirectory

#: The sources, each writing its own input topic `<source>.events.v1`.
SOURCES = ("custody", "court", "probation")
#: Each source's input topic (base name) → its consumer group's suffix
#: (`<HUB_CONSUMER_GROUP>.<suffix>`).
INPUT_GROUPS = {f"{source}.events.v1": f"{source}-events" for source in SOURCES}
#: The one consumer group reading every provider's feedback topic.
FEEDBACK_GROUP = "provider-feedback"


def feedback_base(provider_id: str) -> str:
    """A provider's own feedback topic (base name): only that provider may write it."""
    return f"provider.{provider_id}.feedback.v1"


@dataclass(frozen=True)
class Topics:
    """Every topic the hub reads or writes, with the deployment's prefix applied. The feedback
    topics are one per provider (`feedback_senders`: the directory's provider ids)."""

    prefix: str = ""
    feedback_senders: tuple[str, ...] = ()

    @classmethod
    def of(cls, providers: ProviderDirectory, prefix: str = "") -> Topics:
        return cls(prefix, tuple(p.id for p in providers.providers))

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    def feedback(self, provider: Provider | str) -> str:
        """The provider's own feedback topic."""
        return self.name(feedback_base(provider if isinstance(provider, str) else provider.id))

    @property
    def feedback_topics(self) -> tuple[str, ...]:
        return tuple(self.feedback(p) for p in self.feedback_senders)

    def feedback_sender(self, topic: str) -> str | None:
        """Which provider's feedback topic `topic` is (None: not a feedback topic)."""
        return next((p for p in self.feedback_senders if self.feedback(p) == topic), None)

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
    def source_inputs(self) -> tuple[str, ...]:
        """The sources' input topics, in the order of `SOURCES`."""
        return (self.custody_events, self.court_events, self.probation_events)

    @property
    def inputs(self) -> tuple[str, ...]:
        return (*self.source_inputs, *self.feedback_topics)

    @property
    def input_groups(self) -> dict[str, str]:
        """Each input topic → its consumer group's suffix."""
        return {
            **{self.name(base): group for base, group in INPUT_GROUPS.items()},
            **dict.fromkeys(self.feedback_topics, FEEDBACK_GROUP),
        }

    def outputs(self, providers: ProviderDirectory) -> tuple[str, ...]:
        return (
            *(self.provider(p.topic) for p in providers.providers),
            self.triage,
            self.assessment_requests,
            self.assessments_shared,
            *(self.dead_letter(t) for t in self.inputs),
        )

    def described_outputs(self, providers: ProviderDirectory) -> tuple[tuple[str, str], ...]:
        """Every Bundle topic with what it carries (the AsyncAPI channels come from here)."""
        return (
            *(
                (self.provider(p.topic), f"Referrals for {p.authority_name}.")
                for p in providers.providers
            ),
            (
                self.triage,
                "Referrals the hub could not route (header triage-reason), and identity reviews.",
            ),
            (self.assessment_requests, "Requests for a new assessment, and their closing updates."),
            (
                self.assessments_shared,
                "An existing assessment answering a court's or "
                "probation's request (BaRS-style response).",
            ),
        )

    def all(self, providers: ProviderDirectory) -> tuple[str, ...]:
        return (*self.inputs, *self.outputs(providers))
