"""Every inbound contract, by source topic."""

from __future__ import annotations

from hub.contracts.court import COURT_EVENT_TYPES
from hub.contracts.custody import CUSTODY_EVENT_TYPES
from hub.contracts.envelope import Envelope
from hub.contracts.probation import PROBATION_EVENT_TYPES

#: Base topic name (without prefix) → that topic's event types.
INBOUND: dict[str, dict[str, type[Envelope]]] = {
    "custody.events.v1": CUSTODY_EVENT_TYPES,
    "court.events.v1": COURT_EVENT_TYPES,
    "probation.events.v1": PROBATION_EVENT_TYPES,
}

ALL_EVENT_TYPES: dict[str, type[Envelope]] = {
    name: model for catalogue in INBOUND.values() for name, model in catalogue.items()}
