"""Parsing the envelope: every way in is a typed event or a precise, value-free reason."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.core.contracts.custody import CUSTODY_EVENT_TYPES, DrugTestResultEvent
from hub.core.contracts.envelope import Subject, nhs_number_is_valid
from hub.core.contracts.parse import parse_event
from hub.core.failures import Reason, Rejected
from tests.factories import drug_test_event


def reason_for(value: bytes) -> Rejected:
    with pytest.raises(Rejected) as caught:
        parse_event(value, CUSTODY_EVENT_TYPES)
    return caught.value


def test_a_valid_event_parses() -> None:
    event = parse_event(json.dumps(drug_test_event()).encode(), CUSTODY_EVENT_TYPES)
    assert isinstance(event, DrugTestResultEvent) and event.payload.is_positive


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("9434765919", True),
        ("9434765918", False),
        ("943476591", False),
        ("94347659190", False),
        ("9990001006", True),
        ("abcdefghij", False),
    ],
)
def test_nhs_number_check_digit(number: str, valid: bool) -> None:
    assert nhs_number_is_valid(number) is valid


def test_postcodes_are_normalised_but_never_unpadded() -> None:
    assert Subject(custody_record_number="X", postcode="b12 9zz").postcode == "B12 9ZZ"
    assert Subject(custody_record_number="X", postcode="B129ZZ").postcode == "B12 9ZZ"
    assert Subject(custody_record_number="X", postcode="wv1").postcode == "WV1"
    for padded in (" B12 9ZZ", "B12 9ZZ ", "B12  9ZZ"):
        with pytest.raises(ValueError, match="should match pattern"):
            Subject(custody_record_number="X", postcode=padded)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (b"{not json", Reason.INVALID_JSON),
        (b"\xff\xfe{}", Reason.INVALID_ENCODING),
        (b"[1, 2]", Reason.CONTRACT_VIOLATION),
        (b'{"a": NaN}', Reason.INVALID_JSON),
        (
            json.dumps({**drug_test_event(), "event_type": "custody.unknown"}).encode(),
            Reason.UNKNOWN_EVENT_TYPE,
        ),
        (
            json.dumps({**drug_test_event(), "schema_version": "9.0"}).encode(),
            Reason.UNSUPPORTED_SCHEMA_VERSION,
        ),
        (json.dumps({**drug_test_event(), "extra": 1}).encode(), Reason.CONTRACT_VIOLATION),
        (
            json.dumps({**drug_test_event(), "occurred_at": "2026-10-01T09:00:00"}).encode(),
            Reason.CONTRACT_VIOLATION,
        ),  # not timezone-aware
    ],
)
def test_bad_input_gets_a_precise_reason(value: bytes, reason: Reason) -> None:
    assert reason_for(value).reason is reason


def test_reasons_name_the_field_but_never_the_value() -> None:
    event = drug_test_event(nhs_number="9434765918", family_name="Uniquesurname")
    event["subject"]["date_of_birth"] = "1990-02-30"
    rejected = reason_for(json.dumps(event).encode())
    assert "subject.nhs_number" in rejected.message
    assert "subject.date_of_birth" in rejected.message
    assert "9434765918" not in rejected.message and "1990-02-30" not in rejected.message


def test_a_subject_needs_an_identifier() -> None:
    event = drug_test_event()
    event["subject"] = {"given_name": "Only", "family_name": "Names"}
    assert "at least one identifier" in reason_for(json.dumps(event).encode()).message


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=50),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    field=st.sampled_from(
        ["event_id", "occurred_at", "source", "subject", "payload", "schema_version", "event_type"]
    ),
    replacement=_json,
)
def test_any_corrupted_field_is_rejected_never_crashes(field: str, replacement: object) -> None:
    event = drug_test_event()
    event[field] = replacement
    # Either it still parses (the replacement happened to be valid) or it is Rejected; any other
    # exception escapes and fails the test.
    with contextlib.suppress(Rejected):
        parse_event(json.dumps(event).encode(), CUSTODY_EVENT_TYPES)


@settings(max_examples=300)
@given(st.binary(max_size=300))
def test_any_bytes_are_rejected_never_crash(value: bytes) -> None:
    with pytest.raises(Rejected):
        parse_event(value, CUSTODY_EVENT_TYPES)
