"""The hub's tables (SQLAlchemy Core). Changes go through an Alembic migration in `migrations/`."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID

metadata = MetaData()

persons = Table(
    "persons",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("merged_into", UUID(as_uuid=False), ForeignKey("persons.id")),
)

person_demographics = Table(
    "person_demographics",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("given_name", String(100)),
    Column("family_name", String(100), nullable=False),
    Column("date_of_birth", Date, nullable=False, index=True),
    Column("postcode", String(10)),
    Column("nhs_number", String(10)),
    Column("source_event_id", UUID(as_uuid=False), nullable=False),
    # Candidate search's second blocking key: family name and postcode district.
    Index(
        "ix_person_demographics_name_district",
        "family_name",
        func.split_part(text("postcode"), " ", 1),
    ),
)

person_merges = Table(
    "person_merges",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("kept_person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False),
    Column("merged_person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False),
    Column("operator", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("moved", JSONB, nullable=False),
    Column("merged_at", DateTime(timezone=True), nullable=False),
    Column("unmerged_by", String(100)),
    Column("unmerge_reason", Text),
    Column("unmerged_at", DateTime(timezone=True)),
)

person_identifiers = Table(
    "person_identifiers",
    metadata,
    Column("system", String(40), primary_key=True),
    Column("value", String(64), primary_key=True),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("first_seen_event", UUID(as_uuid=False), nullable=False),
)

inbound_events = Table(
    "inbound_events",
    metadata,
    Column("event_id", UUID(as_uuid=False), primary_key=True),
    Column("event_type", String(100), nullable=False),
    Column("topic", String(249), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("content_sha256", String(64), nullable=False),
    Column("outcome", String(40), nullable=False),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id")),
    Column("occurred_at", DateTime(timezone=True), nullable=False, index=True),
    Column("processed_at", DateTime(timezone=True), nullable=False),
    # For the commissioner's report: where it happened, the authority of residence, and the
    # event's few non-personal facts (e.g. DRR granted) — see hub/core/report_facts.py.
    Column("site", Text),
    Column("authority", String(9)),
    Column("facts", JSONB),
)

drug_tests = Table(
    "drug_tests",
    metadata,
    Column(
        "event_id", UUID(as_uuid=False), ForeignKey("inbound_events.event_id"), primary_key=True
    ),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("site", Text, nullable=False),
    Column("tested_at", DateTime(timezone=True), nullable=False),
    Column("sample_type", String(20), nullable=False),
    Column("opiates", String(10), nullable=False),
    Column("cocaine", String(10), nullable=False),
    Column("trigger_offence", Boolean, nullable=False),
)

referrals = Table(
    "referrals",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("provider_id", String(40)),
    Column("status", String(20), nullable=False),
    Column(
        "source_event_id",
        UUID(as_uuid=False),
        ForeignKey("inbound_events.event_id"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True)),
    # Where the referral is in the provider's hands (hub/core/journey.py), and its FHIR Task.
    Column("milestone", String(30), nullable=False, server_default="referred"),
    Column("task", JSONB),
    Column("authority", String(9)),
)

referral_feedback = Table(
    "referral_feedback",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "referral_id", UUID(as_uuid=False), ForeignKey("referrals.id"), nullable=False, index=True
    ),
    Column(
        "event_id",
        UUID(as_uuid=False),
        ForeignKey("inbound_events.event_id"),
        nullable=False,
        unique=True,
    ),
    Column("provider_id", String(40), nullable=False),
    Column("milestone", String(30), nullable=False),
    Column("reason", String(40)),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    # applied | repeat | late | after_end (hub/core/journey.py)
    Column("effect", String(20), nullable=False),
    Column("milestone_before", String(30), nullable=False),
    Column("milestone_after", String(30), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
)

referral_changes = Table(
    "referral_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "referral_id", UUID(as_uuid=False), ForeignKey("referrals.id"), nullable=False, index=True
    ),
    Column("event_id", UUID(as_uuid=False), ForeignKey("inbound_events.event_id"), nullable=False),
    Column("change", String(20), nullable=False),  # update (a duplicate avoided) | revoke
    Column("created_at", DateTime(timezone=True), nullable=False),
)

triage_items = Table(
    "triage_items",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("referral_id", UUID(as_uuid=False), ForeignKey("referrals.id")),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id")),
    Column("reason", String(40), nullable=False),
    Column("candidates", JSONB, nullable=False),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: A referral held because its person is under identity review: that review (released
    #: when an operator decides it).
    Column("review_id", UUID(as_uuid=False), ForeignKey("triage_items.id"), index=True),
    #: And why its residence would hold it too, if it would (None: its one candidate routes).
    Column("residence_reason", String(40)),
    # Open reviews of the persons a batch reads.
    Index("ix_triage_items_open_person", "person_id", postgresql_where=text("status = 'open'")),
)

dead_letters = Table(
    "dead_letters",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("topic", String(249), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("dlq_topic", String(249), nullable=False),
    Column("stage", String(10), nullable=False),
    Column("reason", String(60), nullable=False),
    Column("error_class", String(200), nullable=False),
    Column("error_message", Text, nullable=False),
    Column("event_id", UUID(as_uuid=False)),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    # For operations staff: what it seems to be (read from the bytes, unvalidated), and the
    # optimistic lock that stops two operators acting on one dead letter.
    Column("source_system", String(200)),
    Column("event_type", String(100)),
    Column("version", Integer, nullable=False, server_default="0"),
    Column("acted_by", String(100)),
    Column("acted_at", DateTime(timezone=True)),
    UniqueConstraint("topic", "partition", "offset", name="uq_dead_letters_position"),
)

dead_letter_actions = Table(
    "dead_letter_actions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("dead_letter_id", BigInteger, ForeignKey("dead_letters.id"), nullable=False, index=True),
    Column("action", String(20), nullable=False),  # replay | replay_edited | discard | reveal
    Column("actor", String(100), nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("edits", JSONB),  # [{path, value}] for replay_edited
    Column("original_value", LargeBinary),
    Column("sent_value", LargeBinary),
    Column("replay_id", String(36)),
    Column("replay_topic", String(249)),
    Column("replay_partition", Integer),
    Column("replay_offset", BigInteger),
    # When the retention policy removed the message copies (values, edited values) it kept.
    Column("purged_at", DateTime(timezone=True)),
)

ops_users = Table(
    "ops_users",
    metadata,
    Column("username", String(100), primary_key=True),
    Column("password_hash", Text, nullable=False),
    Column("role", String(20), nullable=False),  # viewer | operator | admin
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="false"),
    # Raised by logout, a new password, a role change and disabling: a session signed under
    # an older epoch is refused (copied cookies end with the session they were copied from).
    Column("session_epoch", Integer, nullable=False, server_default="0"),
)

#: Who created, re-passworded, promoted, demoted, disabled or enabled a console user, when.
ops_user_changes = Table(
    "ops_user_changes",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("username", String(100), nullable=False, index=True),
    Column("change", String(40), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

triage_decisions = Table(
    "triage_decisions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "triage_item_id",
        UUID(as_uuid=False),
        ForeignKey("triage_items.id"),
        nullable=False,
        index=True,
    ),
    Column("decision", String(30), nullable=False),  # route | confirm_match | reject_match
    Column("detail", String(100)),
    Column("actor", String(100), nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("source_ref", String(300), nullable=False, index=True),
    Column("topic", String(249), nullable=False),
    Column("key", LargeBinary),
    Column("value", LargeBinary, nullable=False),
    Column("headers", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("published_at", DateTime(timezone=True)),
    # When the retention policy emptied `value` (`hub retention purge`; a dead letter's copy
    # loses the producer's key and headers too); the row stays: what went where, when.
    Column("purged_at", DateTime(timezone=True)),
    # The relay's sweep: only the few rows still waiting are indexed.
    Index("ix_outbox_unpublished", "id", postgresql_where=text("published_at IS NULL")),
)

#: Each run of `hub retention purge`: the periods it applied and what it removed.
retention_runs = Table(
    "retention_runs",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("messages_days", Integer),
    Column("dead_letters_days", Integer),
    Column("messages_purged", BigInteger, nullable=False),
    Column("dead_letters_purged", BigInteger, nullable=False),
)

assessments = Table(
    "assessments",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column(
        "source_event_id",
        UUID(as_uuid=False),
        ForeignKey("inbound_events.event_id"),
        nullable=False,
    ),
    Column("event_type", String(100), nullable=False),
    Column("assessed_at", DateTime(timezone=True), nullable=False),
    Column("answers", JSONB, nullable=False),
    Column("questionnaire_response", JSONB, nullable=False),
    Column("outcome", String(40)),
    Column("voluntary", Boolean, nullable=False),
    Column("suitability", JSONB),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

assessment_requests = Table(
    "assessment_requests",
    metadata,
    Column("id", UUID(as_uuid=False), primary_key=True),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("assessment_type", String(40), nullable=False),
    Column(
        "source_event_id",
        UUID(as_uuid=False),
        ForeignKey("inbound_events.event_id"),
        nullable=False,
    ),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("requester_kind", String(20)),
    Column("requested_by", Text),
    Column("status", String(20), nullable=False, server_default="open"),
    Column("fulfilled_at", DateTime(timezone=True)),
    # A court's or probation's request keeps its subject (as the event gave it) while it waits,
    # to answer it in the requester's own references later; cleared when it is answered.
    Column("subject", JSONB),
    # The date a court's or probation's request is needed by (the hearing it adjourned to, the
    # report's due date); past it, the request lapses unanswered.
    Column("needed_by", Date),
    Column("lapsed_at", DateTime(timezone=True)),
)

assessment_shares = Table(
    "assessment_shares",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("assessment_id", UUID(as_uuid=False), ForeignKey("assessments.id"), nullable=False),
    Column("person_id", UUID(as_uuid=False), ForeignKey("persons.id"), nullable=False, index=True),
    Column("request_event_id", UUID(as_uuid=False), nullable=False),
    Column("recipient", Text, nullable=False),
    Column("reason", String(20), nullable=False),  # reuse (an assessment avoided) | fulfils_request
    Column("created_at", DateTime(timezone=True), nullable=False),
)

#: The full-postcode directory an operator loaded (ONSPD/NSPL; B, CV, DY, WS, WV areas only).
postcode_directory = Table(
    "postcode_directory",
    metadata,
    Column("postcode", String(8), primary_key=True),  # compact: "B147AA"
    Column("authority_code", String(9), nullable=False),
    Column("terminated", Boolean, nullable=False),
)

postcode_directory_loads = Table(
    "postcode_directory_loads",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("source_name", String(300), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("rows_read", BigInteger, nullable=False),
    Column("units_kept", BigInteger, nullable=False),
    Column("loaded_by", String(100), nullable=False),
    Column("loaded_at", DateTime(timezone=True), nullable=False),
)
