"""The published 2022/23 figures (DOMAIN.md) the simulated year reproduces, and the assumptions
the simulation adds where nothing was published (said so here, kept in one place).

2022/23 is the financial year 1 April 2022 to 31 March 2023 (UK dates): `hub simulate --year
2022` plans and reports that period."""

from __future__ import annotations

from dataclasses import dataclass

#: Published (2022/23).
ENGAGED = 16_599
ASSESSMENTS_COMPLETED = 4_521  # 27.2% of those engaged
STATUTORY_COMPLETED = 2_839
VOLUNTARY_AND_COURT_COMPLETED = 1_682
ENTRIES = 1_828  # "transferred to local drug treatment providers": entries into treatment
DRR_GRANTED, DRR_GRANT_RATE = 226, 0.21
ATR_GRANTED, ATR_GRANT_RATE = 135, 0.32

#: Assumptions (not published).
SUITABILITY_COMPLETED = 1_300  # of the 1,682 voluntary and court-mandated; the rest voluntary
REQUIRED_MISSED = 250  # required assessments not attended
VOLUNTARY_REFERRALS = 210  # voluntary assessments leading to a referral (with consent)
NON_RESIDENT_SHARE_OF_POSITIVES = 0.07  # positive tests of people living outside the seven
SENTENCE_FIRST_REFERRAL_SHARE = 0.4  # DRR/ATR orders for people with no referral yet
OUT_OF_HOURS_SHARE = 0.10  # required assessments booked out of hours by police
REUSED_ADJOURNMENTS = 180  # adjournments answered with a recent custody assessment
PSR_SHARE_OF_SUITABILITY = 0.4  # PSRs requested soon after a suitability assessment
OPEN_PSR_REQUESTS = 60  # PSRs for people with no assessment on record
CONTACT_REPEAT_SHARE = 0.15  # people with only contacts, arrested twice in the year
MESSY_SHARE = 0.01  # share of extra messages that are broken, duplicated or misaddressed
NO_FIXED_ABODE_SHARE_OF_POSITIVES = 0.03  # no postcode, no authority: triage (unknown)
REPEAT_WITHOUT_PNC_SHARE = 0.3  # repeat arrests recorded without the PNC id (or NHS number):
#                               the hub links them on identical name + date of birth + postcode
#: What became of referrals (shares of referrals).
REJECTED_SHARE = 0.06
#: Assumption: the share of referrals that become entries. Nothing on referrals was published,
#: so referrals = ENTRIES / ENTERED_SHARE (2,948 for the full year).
ENTERED_SHARE = 0.62
REFERRALS = round(ENTRIES / ENTERED_SHARE)
NOT_CONVERTED_REASONS = {
    "did_not_attend": 0.45,
    "unable_to_contact": 0.2,
    "declined": 0.15,
    "in_custody": 0.08,
    "moved": 0.05,
    "died": 0.01,
    "other": 0.06,
}
CLOSURE_REASONS = {
    "treatment_completed": 0.5,
    "dropped_out": 0.35,
    "transferred": 0.08,
    "in_custody": 0.04,
    "other": 0.03,
}
REJECTION_REASONS = {"not_eligible": 0.4, "already_in_treatment": 0.4, "other": 0.2}
#: Resident population shares of the seven authorities (ONS mid-2021, rounded).
POPULATION = {
    "E08000025": 1_145,
    "E08000026": 345,
    "E08000027": 323,
    "E08000028": 341,
    "E08000029": 216,
    "E08000030": 284,
    "E08000031": 264,
}


@dataclass(frozen=True)
class Quotas:
    """Exact counts for one simulated year at a scale (rates preserved when scaled down)."""

    engaged: int
    required_completed: int
    required_missed: int
    voluntary_completed: int
    suitability_completed: int
    drr_suitable: int
    atr_suitable: int
    drr_granted: int
    atr_granted: int
    referrals: int
    entries: int
    voluntary_referrals: int
    reused_adjournments: int
    open_psr_requests: int


def quotas(scale: float) -> Quotas:
    def n(value: float) -> int:
        return max(1, round(value * scale))

    drr, atr = n(DRR_GRANTED), n(ATR_GRANTED)
    suitability = n(SUITABILITY_COMPLETED)
    entries = n(ENTRIES)
    return Quotas(
        engaged=n(ENGAGED),
        required_completed=n(STATUTORY_COMPLETED),
        required_missed=n(REQUIRED_MISSED),
        voluntary_completed=n(VOLUNTARY_AND_COURT_COMPLETED) - suitability,
        suitability_completed=suitability,
        drr_suitable=min(suitability, round(drr / DRR_GRANT_RATE)),
        atr_suitable=min(suitability, round(atr / ATR_GRANT_RATE)),
        drr_granted=drr,
        atr_granted=atr,
        referrals=round(entries / ENTERED_SHARE),
        entries=entries,
        voluntary_referrals=n(VOLUNTARY_REFERRALS),
        reused_adjournments=n(REUSED_ADJOURNMENTS),
        open_psr_requests=n(OPEN_PSR_REQUESTS),
    )


#: Report indicator → the published figure it must reproduce (±2%), before scaling.
CALIBRATION = {
    "engaged": ENGAGED,
    "assessments_completed": ASSESSMENTS_COMPLETED,
    "statutory_assessments_completed": STATUTORY_COMPLETED,
    "voluntary_and_court_assessments_completed": VOLUNTARY_AND_COURT_COMPLETED,
    "entries": ENTRIES,
    "drr_granted": DRR_GRANTED,
    "atr_granted": ATR_GRANTED,
}
CALIBRATED_RATES = {
    "assessment_rate": ASSESSMENTS_COMPLETED / ENGAGED,
    "drr_grant_rate": DRR_GRANT_RATE,
    "atr_grant_rate": ATR_GRANT_RATE,
}
