"""Property-based: damaged versions of every example are rejected with a precise reason,
never anything else; and no reason quotes a personal value."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings

from hub.core.contracts.catalogue import ALL_EVENT_TYPES
from hub.core.contracts.parse import _parse_carefully, parse_event
from hub.core.failures import Reason, Rejected
from tests.mutations import VALID, corrupted

PARSE_REASONS = {
    Reason.INVALID_JSON,
    Reason.INVALID_ENCODING,
    Reason.CONTRACT_VIOLATION,
    Reason.UNKNOWN_EVENT_TYPE,
    Reason.UNSUPPORTED_SCHEMA_VERSION,
}
PERSONAL = ("family_name", "given_name", "nhs_number", "pnc_id", "date_of_birth", "postcode")


def test_every_event_type_has_a_valid_example() -> None:
    assert {m["event_type"] for m in VALID.values()} == set(ALL_EVENT_TYPES)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(corrupted())
def test_damaged_messages_are_rejected_precisely_or_still_valid(case: tuple[str, bytes]) -> None:
    name, value = case
    rejected: Rejected | None = None
    try:
        event = parse_event(value, ALL_EVENT_TYPES)
    except Rejected as caught:
        rejected = caught
    if rejected is None:
        assert event.event_type in ALL_EVENT_TYPES  # the damage happened to be harmless
        return
    assert rejected.reason in PARSE_REASONS
    assert rejected.message
    original = VALID[name].get("subject", {})
    for field in PERSONAL:
        if isinstance(original.get(field), str) and len(original[field]) > 3:
            assert original[field] not in rejected.message


def test_every_example_parses_to_its_own_type() -> None:
    for message in VALID.values():
        event = parse_event(json.dumps(message).encode(), ALL_EVENT_TYPES)
        assert event.event_type == message["event_type"]


def _verdict(parse: Any, value: bytes) -> Any:
    try:
        return parse(value, ALL_EVENT_TYPES).model_dump()
    except Rejected as rejected:
        return (rejected.stage, rejected.reason, rejected.message)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(corrupted())
def test_the_fast_way_and_the_careful_way_agree(case: tuple[str, bytes]) -> None:
    """`parse_event` reads a message once with orjson and falls back to the step-by-step
    parse for anything refused; on every damaged message both give the same event or the same
    refusal (reason and message)."""
    _, value = case
    assert _verdict(parse_event, value) == _verdict(_parse_carefully, value)


def test_what_only_orjson_refuses_gets_the_careful_verdict() -> None:
    """A lone surrogate escape and a number too large for a float are valid JSON to the
    standard library but not to orjson: they get the careful way's verdict (the contract's
    verdict: the contract refuses the escape, and the field the number sits in)."""
    base = next(m for m in VALID.values() if m["event_type"] == "custody.booked_in")
    lone = json.dumps({**base, "source": {**base["source"], "site": "Site \ud800"}}).encode()
    huge = json.dumps(base).encode().replace(b'"schema_version"', b'"x": 1e400, "schema_version"')
    for value, reason in ((lone, Reason.CONTRACT_VIOLATION), (huge, Reason.CONTRACT_VIOLATION)):
        assert _verdict(parse_event, value) == _verdict(_parse_carefully, value)
        assert _verdict(parse_event, value)[1] == reason
