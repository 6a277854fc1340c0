"""Golden files: `golden/<source>/<case>.in.json` → `<case>.bundle.json`, for every mapper and
every output message type (`hub.mappers.definitions.MessageType`, and a triaged referral an
operator routes to a provider). The HAPI validator checks every golden (test_hapi_validation.py).

Regenerate explicitly with `pytest tests/mappers --update-goldens` and review the diff.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle

from hub.core.context import HubIdentity, NewId, Recipient, RecipientKind, ReferralContext
from hub.core.contracts.catalogue import ALL_EVENT_TYPES
from hub.core.contracts.court import SuitabilityAssessmentCompletedEvent
from hub.core.contracts.custody import (
    DrugTestResultEvent,
    RequiredAssessmentCompletedEvent,
)
from hub.core.decisions import ReferralRevoked, RequestAnswered, RequestLapsed
from hub.mappers import court, custody, probation
from hub.mappers.assessment import questionnaire_response
from hub.mappers.definitions import MessageType
from hub.mappers.identity import map_identity_review
from hub.mappers.message import FhirMessage, to_json
from hub.mappers.questionnaire import shared_assessment_questionnaire
from hub.mappers.sharing import map_assessment_share
from hub.mappers.triage import readdress_to_provider
from hub.service.publishing import bundle_of

GOLDEN = Path(__file__).parent / "golden"
HUB = HubIdentity(
    "Referral Hub",
    "https://referral-hub.example/endpoint/hub",
    "golden",
    "https://referral-hub.example/id/",
)


def provider(pid: str, name: str, code: str) -> Recipient:
    return Recipient(
        RecipientKind.PROVIDER,
        pid,
        name,
        f"https://referral-hub.example/endpoint/provider/{pid}",
        code,
    )


BIRMINGHAM = provider("birmingham", "Change Grow Live (Birmingham)", "E08000025")
TRIAGE = Recipient(
    RecipientKind.TRIAGE,
    "arrest-referral-triage",
    "Arrest referral team (triage)",
    "https://referral-hub.example/endpoint/triage",
)
TEAM = Recipient(
    RecipientKind.TRIAGE,
    "arrest-referral-team",
    "Arrest referral team",
    "https://referral-hub.example/endpoint/assessment-requests",
)


COURT = Recipient(
    RecipientKind.COURT,
    "golden-magistrates-court",
    "Golden Magistrates' Court",
    "https://referral-hub.example/endpoint/court/golden-magistrates-court",
)
PROBATION = Recipient(
    RecipientKind.PROBATION,
    "golden-probation-office",
    "Golden probation office",
    "https://referral-hub.example/endpoint/probation/golden-probation-office",
)
REQUEST_EVENT_ID = "11111111-0000-4000-8000-0000000000ee"


def context(n: int, recipient: Recipient, *triage: Any) -> ReferralContext:
    return ReferralContext(
        f"5f1c9a2e-0000-4000-8000-00000000000{n}",
        f"5f1c9a2e-0000-4000-8000-0000000000a{n}",
        recipient,
        HUB,
        *triage,
    )


def revoked(
    event: DrugTestResultEvent, ctx: ReferralContext, *, now: datetime, new_id: NewId
) -> FhirMessage:
    """The person moved: the old provider's referral revoked (as publishing makes it)."""
    bundle, kind = bundle_of(ReferralRevoked(event, ctx), now=now, new_id=new_id)
    assert kind is MessageType.REFERRAL_REVOKE
    return bundle


def request_answered(
    event: SuitabilityAssessmentCompletedEvent,
    ctx: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """The team's open request closed: an assessment on record answered it."""
    bundle, kind = bundle_of(RequestAnswered(event, ctx), now=now, new_id=new_id)
    assert kind is MessageType.ASSESSMENT_REQUEST_UPDATE
    return bundle


def request_lapsed(
    event: SuitabilityAssessmentCompletedEvent,
    ctx: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """The team's open request withdrawn: it passed the date it was needed by unanswered."""
    bundle, kind = bundle_of(RequestLapsed(event, ctx), now=now, new_id=new_id)
    assert kind is MessageType.ASSESSMENT_REQUEST_UPDATE
    return bundle


def shared(
    event: SuitabilityAssessmentCompletedEvent | RequiredAssessmentCompletedEvent,
    ctx: ReferralContext,
    *,
    now: datetime,
    new_id: NewId,
) -> FhirMessage:
    """The stored assessment (with the court's suitability, if any) answering a request."""
    answers = event.payload.assessment
    stored = questionnaire_response(answers, ctx.person_id, new_id())
    suitability = getattr(event.payload, "suitability", None)
    return map_assessment_share(
        event.subject,
        stored,
        ctx,
        now=now,
        new_id=new_id,
        request_event_id=REQUEST_EVENT_ID,
        assessed_at=answers.assessed_at,
        suitability=suitability.model_dump(mode="json") if suitability else None,
    )


def routed_from_triage(
    event: DrugTestResultEvent, ctx: ReferralContext, *, now: datetime, new_id: NewId
) -> FhirMessage:
    """A referral held in triage, then sent on by an operator to Birmingham's provider."""
    triaged = json.loads(
        to_json(custody.map_drug_test_referral(event, ctx, now=now, new_id=new_id))
    )
    return readdress_to_provider(triaged, BIRMINGHAM, HUB, now=now, new_id=new_id)


CASES: dict[str, tuple[Callable[..., FhirMessage], ReferralContext]] = {
    "custody/positive-opiates-provider": (custody.map_drug_test_referral, context(1, BIRMINGHAM)),
    "custody/positive-both-urine-provider": (
        custody.map_drug_test_referral,
        context(2, BIRMINGHAM),
    ),
    "custody/positive-refused-triage-split": (
        custody.map_drug_test_referral,
        context(3, TRIAGE, "residence_split", ("E07000234", "E08000025", "E08000029")),
    ),
    "custody/required-assessment-referral": (
        custody.map_assessment_referral,
        context(4, provider("walsall", "Change Grow Live Dudley and Walsall", "E08000030")),
    ),
    "custody/voluntary-assessment-referral": (
        custody.map_assessment_referral,
        context(5, provider("coventry", "Coventry provider", "E08000026")),
    ),
    "custody/required-assessment-request": (
        custody.map_required_assessment_request,
        context(6, TEAM),
    ),
    "custody/out-of-hours-request": (custody.map_out_of_hours_request, context(7, TEAM)),
    "court/suitability-assessment-request": (
        court.map_suitability_assessment_request,
        context(8, TEAM),
    ),
    "court/sentence-referral": (
        court.map_sentence_referral,
        context(9, provider("dudley", "Change Grow Live Dudley and Walsall", "E08000027")),
    ),
    "probation/pre-sentence-report-request": (
        probation.map_pre_sentence_report_request,
        context(0, TEAM),
    ),
    "custody/identity-review": (
        partial(
            map_identity_review,
            candidates=[
                (
                    "5f1c9a2e-0000-4000-8000-0000000000ff",
                    75,
                    (
                        "date_of_birth_equal",
                        "family_name_differs",
                        "given_name_equal",
                        "postcode_equal",
                    ),
                )
            ],
        ),
        context(1, TRIAGE),
    ),
    "custody/referral-update": (
        partial(custody.map_drug_test_referral, reason="update"),
        context(1, BIRMINGHAM),
    ),
    "custody/referral-revoke": (revoked, context(1, BIRMINGHAM)),
    "custody/triage-routed-to-provider": (
        routed_from_triage,
        context(3, TRIAGE, "residence_split", ("E08000025", "E08000029")),
    ),
    "court/assessment-shared": (shared, context(8, COURT)),
    "court/assessment-request-update": (request_answered, context(8, TEAM)),
    "court/assessment-request-lapsed": (request_lapsed, context(8, TEAM)),
    "probation/assessment-shared": (shared, context(0, PROBATION)),
}


def message(case: str) -> FhirMessage:
    raw = json.loads((GOLDEN / f"{case}.in.json").read_text())
    event = ALL_EVENT_TYPES[raw["event_type"]].model_validate_json(json.dumps(raw))
    mapper, ctx = CASES[case]
    ids = (str(uuid.UUID(int=i)) for i in itertools.count(1))
    return mapper(event, ctx, now=datetime(2026, 10, 1, 9, 5, tzinfo=UTC), new_id=lambda: next(ids))


def mapped(case: str) -> bytes:
    return to_json(message(case))


def resources(case: str, kind: str) -> list[dict[str, Any]]:
    bundle = json.loads(mapped(case))
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def test_every_golden_input_has_a_case() -> None:
    inputs = {str(p.relative_to(GOLDEN))[: -len(".in.json")] for p in GOLDEN.glob("*/*.in.json")}
    assert inputs == set(CASES)


@pytest.mark.parametrize("case", sorted(CASES))
def test_mapper_output_matches_golden(case: str, request: pytest.FixtureRequest) -> None:
    produced = json.loads(mapped(case))
    expected_path = GOLDEN / f"{case}.bundle.json"
    if request.config.getoption("--update-goldens"):
        expected_path.write_text(json.dumps(produced, indent=2) + "\n")
    expected = json.loads(expected_path.read_text())
    Bundle.model_validate(expected)  # the golden file itself is valid FHIR R4(B)
    Bundle.model_validate(produced)
    assert produced == expected
    # Byte for byte: the golden file's text (key order too), and the wire form is exactly what
    # the fhir.resources serialiser writes for the validated Bundle.
    assert expected_path.read_text() == json.dumps(produced, indent=2) + "\n"
    built = message(case)
    assert to_json(built) == built.model.model_dump_json(exclude_none=True).encode()


def test_provider_copy_carries_no_police_references() -> None:
    text = mapped("custody/positive-opiates-provider").decode()
    assert "pnc-id" not in text and "custody-record" not in text
    assert "https://fhir.nhs.uk/Id/nhs-number" in text


def test_triage_copy_lets_the_team_find_the_person() -> None:
    text = mapped("custody/positive-refused-triage-split").decode()
    assert "pnc-id" in text and "custody-record" in text
    (request,) = resources("custody/positive-refused-triage-split", "ServiceRequest")
    assert request["status"] == "draft" and "performer" not in request


def test_refused_test_has_no_value_but_a_reason() -> None:
    observations = resources("custody/positive-refused-triage-split", "Observation")
    refused = [o for o in observations if "dataAbsentReason" in o]
    assert len(refused) == 1 and "valueCodeableConcept" not in refused[0]


def test_only_voluntary_referrals_carry_consent() -> None:
    assert len(resources("custody/voluntary-assessment-referral", "Consent")) == 1
    assert resources("custody/required-assessment-referral", "Consent") == []


def test_assessment_requests_are_due_when_the_court_sits_again() -> None:
    (task,) = resources("court/suitability-assessment-request", "Task")
    assert task["restriction"]["period"]["end"].startswith("2026-11-23")
    (request,) = resources("court/suitability-assessment-request", "ServiceRequest")
    assert [c["coding"][0]["code"] for c in request["reasonCode"]] == ["atr", "drr"]


def _questionnaire_items() -> dict[str, str]:
    def walk(items: list[Any]) -> dict[str, str]:
        found = {}
        for item in items:
            found[item.linkId] = item.type
            found.update(walk(item.item or []))
        return found

    return walk(shared_assessment_questionnaire().item)


_ANSWER_TYPES = {
    "valueBoolean": "boolean",
    "valueInteger": "integer",
    "valueString": "string",
    "valueCoding": "choice",
}


@pytest.mark.parametrize(
    "case", ["custody/required-assessment-referral", "custody/voluntary-assessment-referral"]
)
def test_responses_answer_the_canonical_questionnaire(case: str) -> None:
    items = _questionnaire_items()

    def check(response_items: list[dict[str, Any]]) -> int:
        count = 0
        for item in response_items:
            assert item["linkId"] in items
            for answer in item.get("answer", []):
                (kind,) = answer
                assert _ANSWER_TYPES[kind] == items[item["linkId"]], item["linkId"]
                count += 1
            count += check(item.get("item", []))
        return count

    (response,) = resources(case, "QuestionnaireResponse")
    assert check(response["item"]) > 10
