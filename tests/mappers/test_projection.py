"""Each recipient gets only what it needs (issue #8): every Bundle of every scenario is checked
against the projection table in `hub.mappers.projection`, so an element added to a mapper fails
here until the table says who may see it."""

from __future__ import annotations

import pytest

from hub.core.context import RecipientKind
from hub.mappers.projection import outside_projection
from tests.recipient_bundles import every_bundle


async def test_every_bundle_keeps_to_its_recipients_projection() -> None:
    found = await every_bundle()
    assert {kind for kind, _, _ in found} == set(RecipientKind)  # every recipient exercised
    assert {t for _, t, _ in found} >= {
        "referral-new",
        "referral-update",
        "referral-revoke",
        "triage",
        "identity-review",
        "assessment-request",
        "assessment-request-update",
        "assessment-shared",
    }
    problems = {
        (kind.value, kind_of): outside
        for kind, kind_of, bundle in found
        if (outside := outside_projection(bundle, kind))
    }
    assert problems == {}


async def test_courts_and_probation_get_a_summary_not_the_whole_assessment() -> None:
    shared = [
        (kind, bundle) for kind, t, bundle in await every_bundle() if t == "assessment-shared"
    ]
    assert {kind for kind, _ in shared} == {RecipientKind.COURT, RecipientKind.PROBATION}
    for _, bundle in shared:
        resources = [e["resource"] for e in bundle["entry"]]
        [response] = [r for r in resources if r["resourceType"] == "QuestionnaireResponse"]
        assert {i["linkId"] for i in response["item"]} <= {
            "substances",
            "alcohol",
            "treatment-history",
        }
        assert "substances" in {i["linkId"] for i in response["item"]}
        [person] = [r for r in resources if r["resourceType"] == "Patient"]
        assert "address" not in person


@pytest.mark.parametrize(
    ("element", "kind"),
    [
        ("sex-work", RecipientKind.COURT),
        ("goals-note", RecipientKind.PROBATION),
        ("mental-health-concern", RecipientKind.COURT),
    ],
)
def test_an_item_outside_the_table_is_caught(element: str, kind: RecipientKind) -> None:
    bundle = {
        "entry": [
            {
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "id": "x",
                    "item": [{"linkId": "substances"}, {"linkId": element}],
                }
            }
        ]
    }
    assert outside_projection(bundle, kind) == [f"QuestionnaireResponse.item {element}"]


def test_nested_items_and_identifiers_outside_the_table_are_caught() -> None:
    bundle = {
        "entry": [
            {
                "resource": {
                    "resourceType": "QuestionnaireResponse",
                    "id": "x",
                    "item": [
                        {
                            "linkId": "substances",
                            "item": [{"linkId": "substance"}, {"linkId": "sex-work"}],
                        },
                    ],
                }
            },
            {
                "resource": {
                    "resourceType": "ServiceRequest",
                    "id": "y",
                    "identifier": [
                        {"system": "https://referral-hub.example/id/custody-record", "value": "C1"}
                    ],
                }
            },
        ]
    }
    assert outside_projection(bundle, RecipientKind.COURT) == [
        "QuestionnaireResponse.item substances.item sex-work",
        "ServiceRequest",
    ]
    assert outside_projection(bundle, RecipientKind.PROVIDER) == [
        "QuestionnaireResponse.item substances.item sex-work",
        "ServiceRequest identifier custody-record",
    ]


def test_an_element_no_recipient_was_given_is_caught() -> None:
    bundle = {
        "entry": [
            {"resource": {"resourceType": "Patient", "id": "x", "telecom": []}},
            {"resource": {"resourceType": "Encounter", "id": "y"}},
        ]
    }
    assert outside_projection(bundle, RecipientKind.PROVIDER) == ["Patient.telecom", "Encounter"]
