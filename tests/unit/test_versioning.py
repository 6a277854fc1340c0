"""Schema versions: unknown ones are refused by name; adding an optional field is compatible."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import create_model

from hub.core.contracts.catalogue import ALL_EVENT_TYPES
from hub.core.contracts.envelope import Envelope
from hub.core.contracts.parse import parse_event
from hub.core.failures import Reason, Rejected
from tests.mutations import VALID


def with_optional_payload_field(model: type[Envelope]) -> type[Envelope]:
    """The next minor version of `model`: its payload gains an optional field."""
    payload = model.model_fields["payload"].annotation
    newer_payload = create_model(
        f"{payload.__name__}Next",
        __base__=payload,  # type: ignore[union-attr]
        note_for_partners=(str | None, None),
    )
    fields: Any = {"payload": (newer_payload, ...)}
    return create_model(f"{model.__name__}Next", __base__=model, **fields)


@pytest.mark.parametrize("name", sorted(VALID))
def test_adding_an_optional_field_keeps_old_messages_valid(name: str) -> None:
    message = VALID[name]
    model = ALL_EVENT_TYPES[message["event_type"]]
    newer = with_optional_payload_field(model)
    newer.model_validate_json(json.dumps(message))  # an old message is valid under the new one
    old_required = set(model.model_json_schema()["required"])
    assert set(newer.model_json_schema()["required"]) == old_required


def test_an_unknown_version_is_refused_with_that_reason() -> None:
    message = {**next(iter(VALID.values())), "schema_version": "2.0"}
    with pytest.raises(Rejected) as caught:
        parse_event(json.dumps(message).encode(), ALL_EVENT_TYPES)
    assert caught.value.reason is Reason.UNSUPPORTED_SCHEMA_VERSION
    # Says what is supported; never repeats the value sent (the text reaches logs and headers).
    assert caught.value.message == "schema_version: expected one of 1.0"


def test_an_unknown_event_type_is_not_echoed() -> None:
    message = {**next(iter(VALID.values())), "event_type": "custody.Jamie Smithers 1990"}
    with pytest.raises(Rejected) as caught:
        parse_event(json.dumps(message).encode(), ALL_EVENT_TYPES)
    assert caught.value.reason is Reason.UNKNOWN_EVENT_TYPE
    assert "Smithers" not in caught.value.message
    assert caught.value.message.startswith("event_type: expected one handled on this topic: ")


def test_an_event_type_on_the_wrong_topic_is_unknown_there() -> None:
    from hub.core.contracts.court import COURT_EVENT_TYPES

    custody_message = next(m for m in VALID.values() if m["event_type"].startswith("custody."))
    with pytest.raises(Rejected) as caught:
        parse_event(json.dumps(custody_message).encode(), COURT_EVENT_TYPES)
    assert caught.value.reason is Reason.UNKNOWN_EVENT_TYPE
