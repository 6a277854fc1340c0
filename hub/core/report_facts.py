"""What the report needs to know about each event, kept with it when it is processed:
where it happened, the authority of residence, and a few non-personal facts of its payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hub.core.contracts.court import (
    AdjournedForSuitabilityAssessmentEvent,
    SentenceImposedEvent,
    SuitabilityAssessmentCompletedEvent,
)
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    ReleasedEvent,
    RequiredAssessmentCompletedEvent,
    VoluntaryAssessmentCompletedEvent,
)
from hub.core.contracts.envelope import Envelope, Event
from hub.core.contracts.feedback import FeedbackEvent
from hub.core.contracts.probation import PreSentenceReportRequestedEvent
from hub.core.providers import ProviderDirectory
from hub.core.residence import TriageReason, resolve_residence

OUTSIDE = "outside"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class ReportFacts:
    site: str
    authority: str | None
    facts: dict[str, Any] | None


def report_facts(
    event: Event, providers: ProviderDirectory, postcode_authority: str | None = None
) -> ReportFacts:
    """Site, authority (GSS code, `outside` the seven, or `unknown`) and payload facts."""
    authority: str | None = None
    if isinstance(event, Envelope):
        residence = resolve_residence(event.subject, providers.authority_codes, postcode_authority)
        authority = residence.authority_code or (
            OUTSIDE if residence.triage_reason is TriageReason.RESIDENCE_OUTSIDE_AREA else UNKNOWN
        )
    elif isinstance(event, FeedbackEvent):
        provider = next((p for p in providers.providers if p.id == event.provider_id), None)
        authority = provider.authority_code if provider else None
    return ReportFacts(event.source.site, authority, _payload_facts(event))


def _payload_facts(event: Event) -> dict[str, Any] | None:
    match event:
        case DrugTestResultEvent():
            return {
                "positive": event.payload.is_positive,
                "trigger_offence": event.payload.trigger_offence,
            }
        case RequiredAssessmentCompletedEvent() | VoluntaryAssessmentCompletedEvent():
            return {"outcome": event.payload.outcome.value}
        case SuitabilityAssessmentCompletedEvent():
            return {
                "drr": event.payload.suitability.drr.value,
                "atr": event.payload.suitability.atr.value,
            }
        case AdjournedForSuitabilityAssessmentEvent():
            return {"requirements": sorted(r.value for r in event.payload.requirements)}
        case PreSentenceReportRequestedEvent():
            return {"requirements": sorted(r.value for r in event.payload.requirements_considered)}
        case SentenceImposedEvent():
            return {
                "drr_granted": event.payload.drr_granted,
                "atr_granted": event.payload.atr_granted,
            }
        case ReleasedEvent():
            return {"naloxone_supplied": event.payload.naloxone_supplied}
    return None
