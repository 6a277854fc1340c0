"""Every inbound contract, by source topic."""

from __future__ import annotations

from collections.abc import Mapping

from hub.contracts.court import COURT_EVENT_TYPES
from hub.contracts.custody import CUSTODY_EVENT_TYPES
from hub.contracts.envelope import Event
from hub.contracts.feedback import FEEDBACK_EVENT_TYPES
from hub.contracts.probation import PROBATION_EVENT_TYPES

#: Base topic name (without prefix) → that topic's event types.
INBOUND: Mapping[str, Mapping[str, type[Event]]] = {
    "custody.events.v1": CUSTODY_EVENT_TYPES,
    "court.events.v1": COURT_EVENT_TYPES,
    "probation.events.v1": PROBATION_EVENT_TYPES,
    "provider.feedback.v1": FEEDBACK_EVENT_TYPES,
}

ALL_EVENT_TYPES: dict[str, type[Event]] = {
    name: model for catalogue in INBOUND.values() for name, model in catalogue.items()}
