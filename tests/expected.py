"""Where each example in `contracts/examples/` must end (None: recorded, no message).

The same table as the README's "What each event produces"; the e2e and real-broker tests use it.
"""

from __future__ import annotations

EXPECTED: dict[str, str | None] = {
    "custody/custody.booked_in.json": None,
    "custody/custody.drug_test_result.json": "referrals.birmingham.v1",
    "custody/custody.drug_test_result.negative-recorded.json": None,
    "custody/custody.drug_test_result.positive-coventry-authority-code.json": (
        "referrals.coventry.v1"
    ),
    "custody/custody.drug_test_result.positive-no-address-triage.json": "referrals.triage.v1",
    "custody/custody.drug_test_result.positive-split-district-triage.json": "referrals.triage.v1",
    "custody/custody.required_assessment_requested.json": "assessment.requests.v1",
    "custody/custody.required_assessment_completed.json": "referrals.walsall.v1",
    "custody/custody.required_assessment_failed_to_attend.json": None,
    "custody/custody.voluntary_assessment_offered.json": None,
    "custody/custody.voluntary_assessment_declined.json": None,
    "custody/custody.voluntary_assessment_completed.json": "referrals.coventry.v1",
    "custody/custody.out_of_hours_appointment_booked.json": "assessment.requests.v1",
    "custody/custody.released.json": None,
    "court/court.adjourned_for_suitability_assessment.json": "assessment.requests.v1",
    "court/court.suitability_assessment_completed.json": None,
    "court/court.sentence_imposed.json": "referrals.dudley.v1",
    "probation/probation.psr_requested.json": "assessment.requests.v1",
    "probation/probation.order_commenced.json": None,
    "probation/probation.order_ended.json": None,
    # Feedback about the referrals above (the referral id is the provider's newest referral).
    "feedback/1-provider.referral_received.json": None,
    "feedback/2-provider.referral_accepted.json": None,
    "feedback/3-provider.first_appointment_booked.json": None,
    "feedback/4-provider.treatment_entered.json": None,
    "feedback/5-provider.case_closed.json": None,
    "feedback/6-provider.referral_rejected.json": None,
    "feedback/7-provider.referral_not_converted.json": None,
    "dead-letter/malformed-json.json": "custody.events.dlq.v1",
    "dead-letter/contract-violation-unknown-result.json": "custody.events.dlq.v1",
}

#: The demo sends the samples one by one, and several are about the same synthetic person, so
#: some end differently than they would alone (EXPECTED): the person moves from Walsall
#: to Coventry (the Walsall referral is revoked), and the court's own suitability assessment
#: answers the request the adjournment opened.
IN_SEQUENCE = {
    "custody/custody.voluntary_assessment_completed.json": (
        "referrals.walsall.v1, referrals.coventry.v1  (referred)"
    ),
    "court/court.suitability_assessment_completed.json": (
        "assessments.shared.v1, assessment.requests.v1  (assessed)"
    ),
}
