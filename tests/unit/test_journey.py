"""The referral journey: every (current, reported) pair has a deliberate answer."""

from __future__ import annotations

from datetime import UTC, datetime
from itertools import product

import pytest
from fhir.resources.R4B.task import Task

from hub.core.journey import Contradiction, Effect, Milestone, advance
from hub.mappers.task import task_after_feedback

M = Milestone
REPORTABLE = [
    M.RECEIVED,
    M.ACCEPTED,
    M.REJECTED,
    M.APPOINTMENT_BOOKED,
    M.ENTERED_TREATMENT,
    M.NOT_CONVERTED,
    M.CLOSED,
]


def walk(*reports: Milestone) -> list[tuple[Effect, Milestone]]:
    current, seen = M.REFERRED, []
    for reported in reports:
        step = advance(current, reported)
        seen.append((step.effect, step.milestone))
        current = step.milestone
    return seen


def test_the_main_road_is_applied_in_order() -> None:
    assert walk(M.RECEIVED, M.ACCEPTED, M.APPOINTMENT_BOOKED, M.ENTERED_TREATMENT, M.CLOSED) == [
        (Effect.APPLIED, M.RECEIVED),
        (Effect.APPLIED, M.ACCEPTED),
        (Effect.APPLIED, M.APPOINTMENT_BOOKED),
        (Effect.APPLIED, M.ENTERED_TREATMENT),
        (Effect.APPLIED, M.CLOSED),
    ]


def test_a_later_milestone_implies_the_earlier_ones_which_then_arrive_late() -> None:
    assert walk(M.ACCEPTED, M.RECEIVED, M.ENTERED_TREATMENT, M.APPOINTMENT_BOOKED) == [
        (Effect.APPLIED, M.ACCEPTED),
        (Effect.LATE, M.ACCEPTED),
        (Effect.APPLIED, M.ENTERED_TREATMENT),
        (Effect.LATE, M.ENTERED_TREATMENT),
    ]


def test_repeats_change_nothing() -> None:
    assert walk(M.RECEIVED, M.RECEIVED, M.NOT_CONVERTED, M.NOT_CONVERTED) == [
        (Effect.APPLIED, M.RECEIVED),
        (Effect.REPEAT, M.RECEIVED),
        (Effect.APPLIED, M.NOT_CONVERTED),
        (Effect.REPEAT, M.NOT_CONVERTED),
    ]


def test_not_converted_then_attending_is_entry_into_treatment() -> None:
    assert walk(M.ACCEPTED, M.NOT_CONVERTED, M.APPOINTMENT_BOOKED, M.ENTERED_TREATMENT)[-2:] == [
        (Effect.LATE, M.NOT_CONVERTED),
        (Effect.APPLIED, M.ENTERED_TREATMENT),
    ]


@pytest.mark.parametrize("end", [M.CLOSED, M.REJECTED, M.REVOKED])
def test_nothing_moves_an_ended_referral(end: Milestone) -> None:
    for reported in REPORTABLE:
        step = advance(end, reported)
        assert step.milestone is end
        assert step.effect is (Effect.REPEAT if reported is end else Effect.AFTER_END)


@pytest.mark.parametrize(
    ("current", "reported"),
    [
        (M.ACCEPTED, M.REJECTED),
        (M.APPOINTMENT_BOOKED, M.REJECTED),
        (M.ENTERED_TREATMENT, M.REJECTED),
        (M.NOT_CONVERTED, M.REJECTED),
        (M.ENTERED_TREATMENT, M.NOT_CONVERTED),
    ],
)
def test_contradictions_are_refused(current: Milestone, reported: Milestone) -> None:
    with pytest.raises(Contradiction):
        advance(current, reported)


def test_every_pair_has_an_answer() -> None:
    for current, reported in product(M, REPORTABLE):
        try:
            step = advance(current, reported)
        except Contradiction:
            continue
        assert step.effect in Effect
        assert step.milestone in (current, reported)


def test_the_task_follows_the_milestone_and_keeps_its_identity() -> None:
    sent = {
        "resourceType": "Task",
        "id": "task-1",
        "status": "requested",
        "intent": "order",
        "focus": {"reference": "urn:uuid:ref-1"},
        "for": {"reference": "urn:uuid:p-1"},
        "businessStatus": {"coding": [{"code": "referred"}]},
    }
    at = datetime(2026, 11, 9, 10, 20, tzinfo=UTC)
    task = task_after_feedback(
        sent,
        referral_id="ref-1",
        person_id="p-1",
        milestone=M.NOT_CONVERTED,
        reason="did_not_attend",
        at=at,
    )
    Task.model_validate(task)
    assert (task["id"], task["status"], task["lastModified"]) == (
        "task-1",
        "failed",
        "2026-11-09T10:20:00Z",
    )
    assert task["businessStatus"]["coding"][0]["code"] == "not-converted"
    assert task["statusReason"]["coding"][0]["code"] == "did_not_attend"
    entered = task_after_feedback(
        task,
        referral_id="ref-1",
        person_id="p-1",
        milestone=M.ENTERED_TREATMENT,
        reason=None,
        at=at,
    )
    assert entered["status"] == "in-progress" and "statusReason" not in entered
