"""Validating a recurring code once (`hub.mappers.message`): the same Bundles, the same bytes,
and an invalid element is refused whether or not an equal valid one was seen before."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from fhir.resources.R4B.bundle import Bundle
from pydantic import ValidationError

from hub.mappers import message

GOLDEN = Path(__file__).parent / "golden"


def _goldens() -> list[dict[str, Any]]:
    return [json.loads(p.read_text()) for p in sorted(GOLDEN.glob("*/*.bundle.json"))]


def test_shared_elements_give_the_bytes_of_validating_everything() -> None:
    for body in _goldens():
        alone = Bundle.model_validate(copy.deepcopy(body)).model_dump_json(exclude_none=True)
        first = message.to_json(message.validated(copy.deepcopy(body)))
        again = message.to_json(message.validated(copy.deepcopy(body)))  # from what was kept
        assert first == again == alone.encode()


def test_an_element_seen_before_is_the_validated_instance() -> None:
    coding = {"system": "http://snomed.info/sct", "code": "260385009"}
    [first] = message._shared(
        {"code": {"coding": [coding]}}, message.get_fhir_model_class("Observation")
    )["code"].coding
    [second] = message._shared(
        {"code": {"coding": [dict(coding)]}}, message.get_fhir_model_class("Observation")
    )["code"].coding
    assert first is second


@pytest.mark.parametrize(
    "bad",
    [
        {"system": "http://example.org", "code": "x", "userSelected": "maybe"},
        {"system": "http://example.org", "code": " x"},
        {"system": "http://example.org", "code": "x", "nope": 1},
    ],
)
def test_an_invalid_code_is_refused_even_beside_a_valid_one(bad: dict[str, Any]) -> None:
    body = _goldens()[0]
    observation = {
        "resourceType": "Observation",
        "id": "a1",
        "status": "final",
        "code": {"coding": [{"system": "http://example.org", "code": "x"}]},
    }
    message.validated(
        {**body, "entry": [*body["entry"], {"fullUrl": "urn:uuid:a1", "resource": observation}]}
    )
    broken = {**observation, "code": {"coding": [bad]}}
    with pytest.raises(ValidationError):
        message.validated(
            {**body, "entry": [*body["entry"], {"fullUrl": "urn:uuid:a1", "resource": broken}]}
        )


def test_what_is_kept_is_bounded_and_holds_no_person() -> None:
    for body in _goldens():
        message.validated(body)
    assert len(message._VALIDATED) <= message._SHARED_LIMIT
    kinds = {model.__name__ for model, _ in message._VALIDATED}
    assert kinds <= message.SHARED_ELEMENTS
    assert "Patient" not in kinds and "HumanName" not in kinds and "Identifier" not in kinds
