"""Prometheus metrics of a hub process (served by `hub run` on `HUB_METRICS_PORT`; the
operations console's /metrics adds consumer lag and open dead letters)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

CONSUMED = Counter("hub_events_consumed", "Input records consumed.", ["topic"])
OUTCOMES = Counter(
    "hub_events_outcome",
    "What became of input records (referred, triaged, recorded, dead_letter, duplicate, ...).",
    ["topic", "outcome"],
)
ROUTED = Counter("hub_messages_published", "Messages published, by destination topic.", ["topic"])
DEAD_LETTERED = Counter(
    "hub_events_dead_lettered",
    "Input records sent to a dead-letter topic, by reason.",
    ["topic", "reason"],
)
CODE_ERRORS = Counter(
    "hub_code_errors",
    "Records whose handling raised a code error (each attempt), by topic.",
    ["topic"],
)
RETRIES = Counter("hub_retries", "Transient failures retried, by step.", ["step"])
LATENCY = Histogram(
    "hub_processing_seconds",
    "Time to process one input record, from consuming it to its outputs being acknowledged.",
    ["topic"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
RELAYED = Counter(
    "hub_outbox_relayed",
    "Outbox messages the relay published after their writer did not, by destination topic.",
    ["topic"],
)
OUTBOX_UNPUBLISHED = Gauge("hub_outbox_unpublished", "Outbox messages not yet published.")
OUTBOX_OLDEST_SECONDS = Gauge(
    "hub_outbox_oldest_unpublished_seconds", "Age of the oldest outbox message not yet published."
)
