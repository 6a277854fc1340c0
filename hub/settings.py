"""One settings object for the hub, read from `HUB_*` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.core.masking import KnownSources


class Settings(BaseSettings):
    """Everything the hub can be told from outside. Built once, passed down, never mutated."""

    model_config = SettingsConfigDict(env_prefix="HUB_", frozen=True, extra="ignore")

    kafka_bootstrap: str | None = Field(
        default=None, description="Kafka bootstrap servers; unset means the local dev broker."
    )
    database_url: SecretStr | None = Field(
        default=None, description="SQLAlchemy URL of PostgreSQL; unset means embedded PostgreSQL."
    )
    var_dir: Path = Field(default=Path("var"), description="Where local services keep data.")
    kafka_security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = Field(
        default="PLAINTEXT", description="How the hub's Kafka clients talk to the broker."
    )
    kafka_sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] = "PLAIN"
    kafka_sasl_username: str | None = None
    kafka_sasl_password: SecretStr | None = Field(default=None, description="Never printed.")
    kafka_ssl_cafile: Path | None = Field(
        default=None, description="CA bundle for the broker's certificate (else the system's)."
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="`hub run`'s log level (DEBUG adds per-batch timings; "
        "logs never hold personal data).",
    )
    dev_kafka_port: int = 19092
    dev_postgres_port: int = 15432
    dev_kafka_libs: Path | None = Field(
        default=None, description="Where the Kafka jars are cached; unset means <var>/kafka/libs."
    )

    topic_prefix: str = Field(default="", description="Prepended to every topic name.")
    access_namespace: str = Field(
        default="",
        description="Prepended to every principal of the access plan (`hub "
        "access`), so deployments sharing a cluster keep apart.",
    )
    consumer_group: str = "referral-hub"
    topic_partitions: int = 6
    topic_replication_factor: int = Field(
        default=1,
        ge=1,
        description="Copies of each partition of the topics the hub creates (a cluster: 3).",
    )
    topic_min_insync_replicas: int | None = Field(
        default=None,
        ge=1,
        description="`min.insync.replicas` of the topics the hub creates "
        "(a cluster: 2, so a write acknowledged by acks=all survives a broker lost); unset: "
        "the broker's default.",
    )

    identifier_base: str = "https://referral-hub.example/id/"
    endpoint_base: str = "https://referral-hub.example/endpoint/"
    providers_file: Path | None = Field(
        default=None, description="JSON provider directory; unset means the packaged one."
    )

    assessment_validity_days: int = Field(
        default=28, ge=0, description="How long a completed assessment may be reused."
    )

    match_auto_link_score: int = Field(
        default=95, ge=0, le=100, description="Name+DOB+postcode score that links automatically."
    )
    match_possible_score: int = Field(
        default=60, ge=0, le=100, description="Score from which a person reviews the match."
    )

    request_lapse_grace_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description=(
            "Days after a court's or probation's date before `hub requests lapse` closes an"
            " unanswered request (an assessment made in time may still be on its way)."
        ),
    )

    retain_messages_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description=(
            "Days the hub keeps its copy of a message after the broker acknowledged it (the"
            " Bundles it sent, the updates); `hub retention purge` then empties the copy and"
            " keeps the row (what went where, when). Unset: kept (the service sets the policy)."
        ),
    )
    retain_dead_letters_days: int | None = Field(
        default=None,
        ge=1,
        le=36500,
        description=(
            "Days the hub keeps a dead letter's message (and an edited replay's values) after"
            " it was replayed or discarded; open ones are always kept. Unset: kept."
        ),
    )

    batch_max_records: int = Field(
        default=500,
        ge=1,
        le=2_000,
        description="Most records one batch takes from the broker (1: one record at a time).",
    )
    batch_wait_ms: int = Field(
        default=10,
        ge=1,
        le=10_000,
        description="How long the consumer waits for records when none are there yet.",
    )

    retry_attempts: int = Field(default=6, ge=1, le=20)
    retry_initial_seconds: float = Field(default=0.2, gt=0)
    retry_max_seconds: float = Field(default=5.0, gt=0)
    code_error_retries: int = Field(
        default=2,
        ge=0,
        le=10,
        description="A record whose handling raised a code error (not "
        "bad input, not transient) is tried again this many times, with backoff, before it is "
        "dead-lettered as internal_error.",
    )
    code_error_limit: int = Field(
        default=5,
        ge=1,
        le=1000,
        description="After this many internal_error dead letters in "
        "a row on one partition, the partition is paused with an ALERT (a circuit breaker: a "
        "bad deploy does not dead-letter a whole topic).",
    )
    partition_pause_seconds: float = Field(
        default=60.0, gt=0, description="How long a partition rests after retries are exhausted."
    )
    outbox_relay_seconds: float = Field(
        default=10.0,
        gt=0,
        description="How often `hub run` sweeps the outbox for messages left unpublished.",
    )
    outbox_grace_seconds: float = Field(
        default=30.0,
        ge=0,
        description="An outbox message younger than this is left to the process that wrote it.",
    )
    outbox_alert_seconds: float = Field(
        default=300.0,
        gt=0,
        description="An ALERT is logged while a message has waited "
        "longer than this to be published.",
    )

    ops_host: str = Field(default="127.0.0.1", description="Where `hub ops` listens.")
    ops_port: int = Field(default=18080, description="The operations console's port.")
    ops_secret_key: SecretStr | None = Field(
        default=None,
        description="Signs console sessions; unset: a new key per start "
        "(everyone logs in again after a restart).",
    )
    ops_session_minutes: int = Field(default=30, ge=1, description="Console sessions expire.")
    ops_idle_minutes: int = Field(
        default=15,
        ge=1,
        description="A console session ends after this long without a "
        "request (beside the absolute expiry).",
    )
    known_source_systems: list[str] = Field(
        default=[
            "example-court-system",
            "example-custody-records",
            "example-custody-system",
            "example-probation-system",
            "example-provider-case-system",
        ],
        description="Source systems shown in dead-letter views; any other `source.system` "
        "is the sender's text and masked there (default: those of the examples).",
    )
    known_source_sites: list[str] = Field(
        default=[
            "Example Central custody suite",
            "Example Magistrates' Court",
            "Example drug and alcohol service (Birmingham)",
            "Example probation office",
            "Example recovery service (Walsall)",
            "Example treatment service (Coventry)",
        ],
        description="Source sites shown in dead-letter views; any other `source.site` is "
        "masked there (default: those of the examples).",
    )
    ops_allowed_hosts: list[str] = Field(
        default=["127.0.0.1", "localhost"],
        description="Host names the console answers to (besides HUB_OPS_HOST); any other Host "
        "header is refused (400).",
    )
    ops_secure_cookies: bool = Field(
        default=False, description="Session cookie only over HTTPS (set behind TLS)."
    )
    metrics_port: int | None = Field(
        default=None, description="`hub run` serves Prometheus /metrics on this port."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Where `hub run` serves /metrics (0.0.0.0 for a scraper on another host).",
    )

    @model_validator(mode="after")
    def _insync_within_replicas(self) -> Settings:
        wanted = self.topic_min_insync_replicas
        if wanted is not None and wanted > self.topic_replication_factor:
            raise ValueError(
                f"HUB_TOPIC_MIN_INSYNC_REPLICAS ({wanted}) is more than "
                f"HUB_TOPIC_REPLICATION_FACTOR ({self.topic_replication_factor}): "
                "no write could ever be acknowledged"
            )
        return self

    @property
    def known_sources(self) -> KnownSources:
        return KnownSources(
            frozenset(self.known_source_systems), frozenset(self.known_source_sites)
        )

    @property
    def kafka_bootstrap_or_dev(self) -> str:
        """The broker to use: the configured one, else the local dev broker."""
        return self.kafka_bootstrap or f"127.0.0.1:{self.dev_kafka_port}"

    def database_url_or_dev(self) -> str:
        """The database to use: the configured one, else the embedded dev PostgreSQL."""
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.dev_postgres_port}/postgres"
