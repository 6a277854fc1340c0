"""The console's own Prometheus metrics: consumer lag per partition, hub instances per
consumer group and open dead letters — computed at scrape time from the broker and the
database. (A hub process's counters are on its own `/metrics`, `HUB_METRICS_PORT`.)"""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily

from hub.core.health import BrokerState


def console_metrics(broker: BrokerState, open_letters: list[tuple[str, str, int]]) -> bytes:
    lag = GaugeMetricFamily(
        "hub_consumer_lag",
        "Records not yet committed by the hub's consumer group.",
        labels=["topic", "partition"],
    )
    members = GaugeMetricFamily(
        "hub_consumer_group_members", "Hub instances in each consumer group.", labels=["group"]
    )
    letters = GaugeMetricFamily(
        "hub_dead_letters_open", "Dead letters waiting for an operator.", labels=["topic", "reason"]
    )
    reachable = GaugeMetricFamily(
        "hub_broker_reachable", "1 when the console reached the broker at this scrape."
    )
    reachable.add_metric([], 1 if broker.reachable else 0)
    for p in broker.lag:
        lag.add_metric([p.topic, str(p.partition)], p.lag)
    for group, n in broker.members.items():
        members.add_metric([group], n)
    for topic, reason, n in open_letters:
        letters.add_metric([topic, reason], n)
    registry = CollectorRegistry()
    registry.register(_Fixed([lag, members, letters, reachable]))
    return generate_latest(registry)


class _Fixed:
    """A collector returning metric families computed for this scrape."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families
