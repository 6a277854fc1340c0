"""Probation events (topic `probation.events.v1`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

from hub.core.contracts.court import AnyRequirements
from hub.core.contracts.envelope import Contract, Envelope, event_types


class PreSentenceReportRequested(Contract):
    requested_on: date
    due_on: date
    requirements_considered: AnyRequirements = ()


class PreSentenceReportRequestedEvent(Envelope):
    """`probation.psr_requested`: a pre-sentence report is needed (it feeds on the assessment)."""

    event_type: Literal["probation.psr_requested"]
    schema_version: Literal["1.0"]
    payload: PreSentenceReportRequested


class OrderCommenced(Contract):
    commenced_on: date
    requirements: AnyRequirements = ()


class OrderCommencedEvent(Envelope):
    """`probation.order_commenced`."""

    event_type: Literal["probation.order_commenced"]
    schema_version: Literal["1.0"]
    payload: OrderCommenced


class OrderEnding(StrEnum):
    COMPLETED = "completed"
    REVOKED = "revoked"
    BREACHED = "breached"


class OrderEnded(Contract):
    ended_on: date
    ending: OrderEnding


class OrderEndedEvent(Envelope):
    """`probation.order_ended`: completed, revoked or breached."""

    event_type: Literal["probation.order_ended"]
    schema_version: Literal["1.0"]
    payload: OrderEnded


PROBATION_EVENT_TYPES = event_types(
    PreSentenceReportRequestedEvent, OrderCommencedEvent, OrderEndedEvent
)
