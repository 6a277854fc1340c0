"""The indicators the commissioner monitors (DOMAIN.md), each with its definition in words and
the registry rows it counts. The words are printed in the report: keep them true to the SQL.

Every indicator counts *facts*: rows with a person, an authority of residence, a site and a
time. A period includes a fact when its time falls in it (UK local dates); months are UK months.
The SQL below is assembled only from constants in this module (never from input).
"""

from __future__ import annotations

from dataclasses import dataclass

ENGAGEMENT = (
    "custody.drug_test_result",
    "custody.voluntary_assessment_offered",
    "custody.voluntary_assessment_declined",
    "custody.voluntary_assessment_completed",
    "custody.required_assessment_requested",
    "custody.required_assessment_completed",
    "custody.required_assessment_failed_to_attend",
    "custody.out_of_hours_appointment_booked",
    "court.suitability_assessment_completed",
)
REQUIRED_DONE = "custody.required_assessment_completed"
VOLUNTARY_DONE = "custody.voluntary_assessment_completed"
SUITABILITY_DONE = "court.suitability_assessment_completed"
ADJOURNED = "court.adjourned_for_suitability_assessment"
PSR = "probation.psr_requested"
SENTENCE = "court.sentence_imposed"


def events(*types: str, facts: str = "") -> str:
    """Facts from processed inbound events of these types (optionally with a payload fact)."""
    names = ", ".join(f"'{t}'" for t in types)
    condition = f" AND {facts}" if facts else ""
    return (
        "SELECT person_id, authority, site, occurred_at AS at, NULL AS reason "  # noqa: S608
        f"FROM inbound_events WHERE event_type IN ({names}){condition}"
    )


def shares(reason: str) -> str:
    """Facts from assessments shared with a court or probation office (by the request)."""
    return (
        "SELECT s.person_id, e.authority, e.site, e.occurred_at AS at, NULL AS reason "  # noqa: S608
        "FROM assessment_shares s JOIN inbound_events e ON e.event_id = s.request_event_id "
        f"WHERE s.reason = '{reason}'"
    )


#: Each referral and when it was made: when the event that prompted it happened or, for a
#: referral held in triage and later routed by an operator, when it was routed (so a period
#: already reported never gains referrals afterwards). `triaged`: it went to triage first.
MADE = (
    "SELECT r.id, r.person_id, r.authority, r.provider_id, e.site, "
    "e.authority AS event_authority, e.occurred_at AS prompted_at, "
    "COALESCE(routed.at, e.occurred_at) AS made_at, t.id IS NOT NULL AS triaged, "
    "t.reason AS triage_reason "
    "FROM referrals r JOIN inbound_events e ON e.event_id = r.source_event_id "
    "LEFT JOIN triage_items t ON t.referral_id = r.id "
    "LEFT JOIN (SELECT triage_item_id, min(at) AS at FROM triage_decisions "
    "WHERE decision = 'route' GROUP BY 1) routed ON routed.triage_item_id = t.id"
)
REFERRALS = (
    "SELECT person_id, authority, site, made_at AS at, NULL AS reason "  # noqa: S608
    f"FROM ({MADE}) m WHERE provider_id IS NOT NULL"
)
TRIAGED = (
    "SELECT person_id, event_authority AS authority, site, prompted_at AS at, "  # noqa: S608
    f"triage_reason AS reason FROM ({MADE}) m WHERE triaged"
)
#: Referrals an operator closed in triage without routing them, with how it ended.
CLOSED_IN_TRIAGE = (
    "SELECT r.person_id, e.authority, e.site, d.at, d.detail AS reason "
    "FROM triage_decisions d JOIN triage_items t ON t.id = d.triage_item_id "
    "JOIN referrals r ON r.id = t.referral_id "
    "JOIN inbound_events e ON e.event_id = r.source_event_id WHERE d.decision = 'close'"
)
#: Feedback the hub recorded (anything not dead-lettered: applied, late, repeat or after the
#: end), dated by the provider's time but never before the referral was made (a provider's
#: clock or back-dated entry must not put it in an earlier period than its referral).
FEEDBACK = (
    "SELECT f.id, f.referral_id, f.milestone, f.effect, m.person_id, m.authority, "  # noqa: S608
    "m.site, GREATEST(f.occurred_at, m.made_at) AS at, "
    "CASE WHEN f.milestone = 'rejected' THEN 'rejected: ' || f.reason ELSE f.reason END "
    f"AS reason FROM referral_feedback f JOIN ({MADE}) m ON m.id = f.referral_id"
)
ENTRIES = (
    "SELECT DISTINCT ON (referral_id) person_id, authority, site, at, "  # noqa: S608
    f"NULL AS reason FROM ({FEEDBACK}) fb WHERE milestone = 'entered_treatment' "
    "ORDER BY referral_id, at, id"
)
NOT_CONVERTED = (
    "SELECT DISTINCT ON (referral_id) person_id, authority, site, at, reason "  # noqa: S608
    f"FROM ({FEEDBACK}) fb WHERE milestone IN ('not_converted', 'rejected') AND NOT EXISTS ("
    f"SELECT 1 FROM ({FEEDBACK}) entered WHERE entered.referral_id = fb.referral_id "
    "AND entered.milestone = 'entered_treatment' AND entered.at < :end) "
    "ORDER BY referral_id, at, id"
)
CLOSED = (
    "SELECT person_id, authority, site, at, reason "  # noqa: S608
    f"FROM ({FEEDBACK}) fb WHERE milestone = 'closed' AND effect = 'applied'"
)
#: Court and probation requests that lapsed unanswered past the date they were needed by,
#: dated by the request (as the shares are), so that every request of a period ends in one of
#: `assessments_avoided`, `requests_answered_later`, `requests_lapsed`, or is still open; the
#: requester's kind is the breakdown.
LAPSED = (
    "SELECT q.person_id, e.authority, e.site, e.occurred_at AS at, "
    "q.requester_kind AS reason FROM assessment_requests q "
    "JOIN inbound_events e ON e.event_id = q.source_event_id WHERE q.status = 'lapsed'"
)
DUPLICATES_AVOIDED = (
    "SELECT r.person_id, r.authority, e.site, e.occurred_at AS at, NULL AS reason "
    "FROM referral_changes c JOIN referrals r ON r.id = c.referral_id "
    "JOIN inbound_events e ON e.event_id = c.event_id WHERE c.change = 'update'"
)


@dataclass(frozen=True)
class Indicator:
    key: str
    number: str  # the commissioner's numbering ("1", "2a", …); "+" for the hub's own additions
    title: str
    definition: str
    facts: str  # SQL giving (person_id, authority, site, at, reason)
    distinct_people: bool = False
    reasons: bool = False  # also broken down by the provider's reason


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "engaged",
        "+",
        "Individuals engaged",
        "Distinct people with at least one contact in the period: a drug test on arrest, "
        "a voluntary assessment offered, declined or completed, a required assessment "
        "requested, completed or missed, an out-of-hours appointment, or a court "
        "suitability assessment. Each person counts once per total, authority, site and "
        "month.",
        events(*ENGAGEMENT),
        distinct_people=True,
    ),
    Indicator(
        "assessments_completed",
        "+",
        "Assessments completed",
        "Completed assessments of every kind: required (statutory), voluntary, and court "
        "suitability assessments.",
        events(REQUIRED_DONE, VOLUNTARY_DONE, SUITABILITY_DONE),
    ),
    Indicator(
        "statutory_assessments_completed",
        "+",
        "Statutory assessments completed",
        "Required assessments completed after a positive drug test on arrest (Drugs Act "
        "2005 s.9/10).",
        events(REQUIRED_DONE),
    ),
    Indicator(
        "voluntary_and_court_assessments_completed",
        "+",
        "Voluntary and court-mandated assessments completed",
        "Voluntary assessments completed in custody plus court suitability assessments completed.",
        events(VOLUNTARY_DONE, SUITABILITY_DONE),
    ),
    Indicator(
        "voluntary_assessments",
        "1",
        "Voluntary needs assessments",
        "Voluntary assessments completed in custody.",
        events(VOLUNTARY_DONE),
    ),
    Indicator(
        "required_assessments_requested",
        "2a",
        "Required assessments requested",
        "Required assessments requested in custody, including out-of-hours appointments "
        "booked by police when no worker was on site.",
        events("custody.required_assessment_requested", "custody.out_of_hours_appointment_booked"),
    ),
    Indicator(
        "required_assessments_completed",
        "2b",
        "Required assessments completed",
        "Required assessments completed.",
        events(REQUIRED_DONE),
    ),
    Indicator(
        "required_assessments_missed",
        "2c",
        "Required assessments not attended",
        "Required assessments the person failed to attend (reported to police).",
        events("custody.required_assessment_failed_to_attend"),
    ),
    Indicator(
        "suitability_assessments_requested",
        "3a",
        "Suitability assessments requested",
        "Requests for an assessment of suitability for a DRR/ATR: court adjournments "
        "for a suitability assessment and probation pre-sentence report requests, "
        "whether answered by a new assessment or by one on record, or lapsed unanswered "
        "past the hearing or due date.",
        events(ADJOURNED, PSR),
    ),
    Indicator(
        "suitability_assessments_completed",
        "3b",
        "Suitability assessments completed",
        "Court suitability assessments completed.",
        events(SUITABILITY_DONE),
    ),
    Indicator(
        "adjournments",
        "4",
        "Adjournments for suitability assessments",
        "Court hearings adjourned for a DRR/ATR suitability assessment.",
        events(ADJOURNED),
    ),
    Indicator(
        "suitable_drr",
        "5a",
        "Assessed as suitable for DRR",
        "Suitability assessments that found the person suitable for a Drug "
        "Rehabilitation Requirement.",
        events(SUITABILITY_DONE, facts="facts->>'drr' = 'suitable'"),
    ),
    Indicator(
        "suitable_atr",
        "5b",
        "Assessed as suitable for ATR",
        "Suitability assessments that found the person suitable for an Alcohol Treatment "
        "Requirement.",
        events(SUITABILITY_DONE, facts="facts->>'atr' = 'suitable'"),
    ),
    Indicator(
        "suitable_drr_or_atr",
        "5c",
        "Assessed as suitable for DRR and/or ATR",
        "Suitability assessments that found the person suitable for either.",
        events(
            SUITABILITY_DONE, facts="(facts->>'drr' = 'suitable' OR facts->>'atr' = 'suitable')"
        ),
    ),
    Indicator(
        "drr_granted",
        "6a",
        "DRRs assigned",
        "Sentences that included a Drug Rehabilitation Requirement.",
        events(SENTENCE, facts="(facts->>'drr_granted')::boolean"),
    ),
    Indicator(
        "atr_granted",
        "6b",
        "ATRs assigned",
        "Sentences that included an Alcohol Treatment Requirement.",
        events(SENTENCE, facts="(facts->>'atr_granted')::boolean"),
    ),
    Indicator(
        "referrals",
        "7",
        "Referrals made into mainstream treatment",
        "New referrals sent to one of the seven local treatment providers, by the time of "
        "the event that prompted them; a referral held in triage and routed by an operator "
        "counts when it was routed. A second referral while one is open updates it and is "
        "not counted again; a referral revoked because the person moved still counts.",
        REFERRALS,
    ),
    Indicator(
        "entries",
        "8",
        "Entries into mainstream treatment",
        "Referrals whose provider reported the first appointment attended (entry into "
        "treatment), each counted once, by the first such report's time as the provider "
        "gave it (never before the referral was made), even when it arrived late or "
        "after the case was closed; only feedback sent to the dead-letter topic is "
        "ignored.",
        ENTRIES,
    ),
    Indicator(
        "not_converted",
        "9",
        "Referrals not converting to entry",
        "Referrals the provider reported as not converted (with its reason) or rejected "
        "(reason prefixed 'rejected'), each counted once, by its first such report, "
        "unless the provider reported it entered treatment by the end of the period "
        "(a person who re-engaged is an entry, not a non-conversion).",
        NOT_CONVERTED,
        reasons=True,
    ),
    Indicator(
        "cases_closed",
        "10",
        "Cases closed",
        "Referrals the provider closed, with the closure reason (feedback dates are never "
        "before the referral was made).",
        CLOSED,
        reasons=True,
    ),
    Indicator(
        "assessments_avoided",
        "+",
        "Assessments avoided by reuse",
        "Court and probation requests answered with an assessment already on record "
        "(inside the validity window, with consent for voluntary ones) instead of a new "
        "assessment.",
        shares("reuse"),
    ),
    Indicator(
        "requests_answered_later",
        "+",
        "Requests answered by a later assessment",
        "Court and probation requests still open when an assessment was completed, "
        "answered with it.",
        shares("fulfils_request"),
    ),
    Indicator(
        "requests_lapsed",
        "+",
        "Requests lapsed unanswered",
        "Court and probation requests for an assessment that nobody answered by the hearing "
        "or report due date they were for, by the time of the request, by requester (court "
        "or probation). Nothing was shared with the requester; a request already sent to the "
        "arrest referral team was withdrawn. It counts once it lapsed: at once when it came "
        "after its date or found only assessments made after it, when a later assessment "
        "arrives, at an identity-review decision, or when the daily `hub requests lapse` "
        "closes it (a few days after its date).",
        LAPSED,
        reasons=True,
    ),
    Indicator(
        "duplicate_referrals_avoided",
        "+",
        "Duplicate referrals avoided",
        "Referral-prompting events for a person who already had an open referral to "
        "the same provider: the open referral was updated instead.",
        DUPLICATES_AVOIDED,
    ),
    Indicator(
        "referrals_to_triage",
        "+",
        "Referrals to triage",
        "Referrals the hub could not route to one provider (residence unknown, split "
        "or outside the seven; no fixed abode; or an identity under review), by the time "
        "of the event that prompted them, with the reason. A referral an operator later "
        "routes stays counted here (and counts as a referral into treatment when "
        "routed).",
        TRIAGED,
        reasons=True,
    ),
    Indicator(
        "closed_in_triage",
        "+",
        "Referrals closed in triage without routing",
        "Referrals held in triage that an operator closed without sending them to a "
        "provider, by when it was decided, with how it ended (signposted: lives outside "
        "the seven; no_contact_possible: residence unknown).",
        CLOSED_IN_TRIAGE,
        reasons=True,
    ),
)


@dataclass(frozen=True)
class Rate:
    key: str
    title: str
    numerator: str
    denominator: str
    definition: str


#: Indicators that add up to one another (the same events counted whole and in parts): a
#: breakdown's count hidden in one of them is hidden in all (`hub.core.disclosure`).
FAMILIES: tuple[tuple[str, ...], ...] = (
    (
        "assessments_completed",
        "statutory_assessments_completed",
        "voluntary_and_court_assessments_completed",
    ),
    (
        "voluntary_and_court_assessments_completed",
        "voluntary_assessments",
        "suitability_assessments_completed",
    ),
    ("statutory_assessments_completed", "required_assessments_completed"),
    (
        "required_assessments_requested",
        "required_assessments_completed",
        "required_assessments_missed",
    ),
    ("suitability_assessments_requested", "adjournments"),
    # Each request ends avoided, answered later or lapsed (or is still open), all by the request.
    (
        "suitability_assessments_requested",
        "assessments_avoided",
        "requests_answered_later",
        "requests_lapsed",
    ),
    ("suitable_drr_or_atr", "suitable_drr", "suitable_atr"),
)

RATES: tuple[Rate, ...] = (
    Rate(
        "assessment_rate",
        "Completed assessments per individual engaged",
        "assessments_completed",
        "engaged",
        "Assessments completed ÷ individuals engaged (the published 27.2% for 2022/23).",
    ),
    Rate(
        "drr_grant_rate",
        "DRRs assigned per person suitable for DRR",
        "drr_granted",
        "suitable_drr",
        "DRRs assigned ÷ assessed as suitable for DRR (21% in 2022/23).",
    ),
    Rate(
        "atr_grant_rate",
        "ATRs assigned per person suitable for ATR",
        "atr_granted",
        "suitable_atr",
        "ATRs assigned ÷ assessed as suitable for ATR (32% in 2022/23).",
    ),
    Rate(
        "conversion_rate",
        "Entries into treatment per referral",
        "entries",
        "referrals",
        "Entries ÷ referrals in the same period (entries may follow referrals of an earlier "
        "period).",
    ),
)

BY_KEY = {i.key: i for i in INDICATORS}
