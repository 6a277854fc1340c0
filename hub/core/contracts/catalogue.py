"""Every inbound contract, by source topic."""

from __future__ import annotations

import re
from collections.abc import Mapping

from hub.core.contracts.court import COURT_EVENT_TYPES
from hub.core.contracts.custody import CUSTODY_EVENT_TYPES
from hub.core.contracts.envelope import Event
from hub.core.contracts.feedback import FEEDBACK_EVENT_TYPES
from hub.core.contracts.probation import PROBATION_EVENT_TYPES

#: One topic's event types.
Catalogue = Mapping[str, type[Event]]

#: Base topic name (without prefix) → that topic's event types.
INBOUND: Mapping[str, Catalogue] = {
    "custody.events.v1": CUSTODY_EVENT_TYPES,
    "court.events.v1": COURT_EVENT_TYPES,
    "probation.events.v1": PROBATION_EVENT_TYPES,
    "provider.<provider>.feedback.v1": FEEDBACK_EVENT_TYPES,
}
#: Any provider's own feedback topic (each provider writes only its own).
_FEEDBACK_TOPIC = re.compile(r"(^|\.)provider\.[a-z][a-z0-9-]*\.feedback\.v1$")

ALL_EVENT_TYPES: dict[str, type[Event]] = {
    name: model for catalogue in INBOUND.values() for name, model in catalogue.items()
}


def catalogue_of(topic: str) -> Catalogue:
    """The event types a (prefixed) input topic carries; every type for any other name."""
    if _FEEDBACK_TOPIC.search(topic):
        return FEEDBACK_EVENT_TYPES
    return next(
        (catalogue for base, catalogue in INBOUND.items() if topic.endswith(base)), ALL_EVENT_TYPES
    )


_EVENT_TYPE_SHAPE = re.compile(r"[a-z][a-z0-9_]{0,40}(\.[a-z][a-z0-9_]{0,40}){1,3}")


def shown_event_type(value: object) -> str | None:
    """An event type as operators may see it unrevealed: a known one, or one shaped like an
    event type name (lower-case dotted words: a typo, a type from a newer producer); anything
    else could be somebody's data and is not kept."""
    if not isinstance(value, str) or len(value) > 100:
        return None
    return value if value in ALL_EVENT_TYPES or _EVENT_TYPE_SHAPE.fullmatch(value) else None
