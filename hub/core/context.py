"""What a mapper needs to know beyond the event itself (resolved by the hub before mapping)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from hub.core.providers import Provider

NewId = Callable[[], str]


class RecipientKind(StrEnum):
    PROVIDER = "provider"
    TRIAGE = "triage"
    COURT = "court"
    PROBATION = "probation"


@dataclass(frozen=True)
class Recipient:
    """Who a message is for; decides what of the record they may see."""

    kind: RecipientKind
    id: str
    name: str
    endpoint: str
    authority_code: str | None = None


def provider_recipient(provider: Provider, endpoint_base: str) -> Recipient:
    """A treatment provider as the recipient of its referrals."""
    return Recipient(
        RecipientKind.PROVIDER,
        provider.id,
        provider.name,
        f"{endpoint_base}provider/{provider.id}",
        provider.authority_code,
    )


def team_recipient(endpoint_base: str) -> Recipient:
    """The arrest referral team, who carry out assessments (sees what triage sees)."""
    return Recipient(
        RecipientKind.TRIAGE,
        "arrest-referral-team",
        "Arrest referral team",
        f"{endpoint_base}assessment-requests",
    )


@dataclass(frozen=True)
class HubIdentity:
    """How the hub names itself and its identifier systems in FHIR."""

    name: str
    endpoint: str
    version: str
    identifier_base: str

    def system(self, kind: str) -> str:
        return f"{self.identifier_base}{kind}"


@dataclass(frozen=True)
class ReferralContext:
    """A referral the hub decided to make: for whom, to whom, and why it may need triage."""

    person_id: str
    referral_id: str
    recipient: Recipient
    hub: HubIdentity
    triage_reason: str | None = None
    triage_candidates: tuple[str, ...] = field(default_factory=tuple)
    #: Held because the person is under this identity review.
    review_id: str | None = None
