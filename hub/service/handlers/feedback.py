"""What provider feedback does: moves the referral on its journey and keeps the history."""

from __future__ import annotations

from hub.core.contracts.feedback import FEEDBACK_EVENT_TYPES, FeedbackEvent
from hub.core.failures import Reason, Rejected, Stage
from hub.core.journey import REPORTED, TASK_STATE, Contradiction, Effect, Milestone, advance
from hub.core.registry import Registry
from hub.mappers.task import task_after_feedback
from hub.service.handlers.common import Handled, Handler, HandlingEnv


def provider_feedback(registry: Registry, event: FeedbackEvent, env: HandlingEnv) -> Handled:
    """Apply one piece of feedback to the referral it names (a provider's own referrals only)."""
    referral = registry.referrals.get(str(event.referral_id))
    if referral is None:
        raise Rejected(
            Stage.RESOLVE,
            Reason.UNKNOWN_REFERRAL,
            "no referral has this referral_id",
            "UnknownReferral",
        )
    if referral.provider_id != event.provider_id:
        raise Rejected(
            Stage.RESOLVE,
            Reason.NOT_PROVIDERS_REFERRAL,
            "the referral was not sent to this provider",
            "NotProvidersReferral",
        )
    current, reported = Milestone(referral.milestone), REPORTED[event.event_type]
    try:
        transition = advance(current, reported)
    except Contradiction as contradiction:
        raise Rejected(
            Stage.RESOLVE,
            Reason.CONTRADICTS_EARLIER_FEEDBACK,
            f"{contradiction} (the referral stays {current.value})",
            "Contradiction",
        ) from None
    reason = getattr(event.payload, "reason", None)
    registry.insert(
        "referral_feedback",
        referral_id=referral.id,
        event_id=str(event.event_id),
        provider_id=event.provider_id,
        milestone=reported.value,
        reason=reason.value if reason else None,
        occurred_at=event.payload.at,
        effect=transition.effect.value,
        milestone_before=current.value,
        milestone_after=transition.milestone.value,
        recorded_at=env.now,
    )
    if transition.effect is Effect.APPLIED:
        task = task_after_feedback(
            referral.task,
            referral_id=referral.id,
            person_id=referral.person_id,
            milestone=transition.milestone,
            reason=reason.value if reason else None,
            at=event.payload.at,
        )
        registry.change_referral(
            referral.id,
            milestone=transition.milestone.value,
            task=task,
            updated_at=env.now,
            status=TASK_STATE[transition.milestone].referral_status,
        )
    return Handled(f"feedback_{transition.effect.value}", referral.person_id)


def feedback_handlers(sender: str) -> dict[str, Handler]:
    """The handlers for one provider's feedback topic. The broker's ACL proves the sender
    (only that provider may write its topic); as defence in depth the payload must name the
    same provider, else the record is dead-lettered as not_providers_referral."""

    def from_sender(registry: Registry, event: FeedbackEvent, env: HandlingEnv) -> Handled:
        if event.provider_id != sender:
            raise Rejected(
                Stage.RESOLVE,
                Reason.NOT_PROVIDERS_REFERRAL,
                "the feedback names another provider than its topic's",
                "NotProvidersReferral",
            )
        return provider_feedback(registry, event, env)

    return dict.fromkeys(FEEDBACK_EVENT_TYPES, from_sender)
