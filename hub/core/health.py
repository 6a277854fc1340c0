"""What says the hub is well: consumer lag per partition, hub instances per consumer group,
and what flowed through each input topic. No I/O: the use cases are in
`hub.service.operations.health`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

#: Outcomes of an input record that sent a referral on.
ROUTED = ("referred", "referral_updated")


@dataclass
class PartitionLag:
    topic: str
    partition: int
    end: int
    committed: int

    @property
    def lag(self) -> int:
        return max(self.end - self.committed, 0)


@dataclass
class BrokerState:
    reachable: bool
    lag: list[PartitionLag] = field(default_factory=list)
    members: dict[str, int] = field(default_factory=dict)  # group → members
    error: str | None = None


@dataclass(frozen=True)
class Flow:
    """An input topic's records over a period: processed (of them routed and triaged), and
    dead-lettered."""

    processed: int
    routed: int
    triaged: int
    dead_lettered: int


@dataclass(frozen=True)
class OutboxBacklog:
    """Outputs written but not yet acknowledged by the broker (the relay sends them)."""

    unpublished: int
    oldest: datetime | None

    def age(self, now: datetime) -> timedelta | None:
        return None if self.oldest is None else max(now - self.oldest, timedelta())


def duration(span: timedelta | None) -> str:
    """`3 h 4 min`, `4 min 5 s`, `12 s` (staff read an age, not seconds)."""
    if span is None:
        return ""
    seconds = int(span.total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, seconds = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "min"), (seconds, "s")]
    shown = [f"{n} {unit}" for n, unit in parts if n]
    return " ".join(shown[:2]) or "0 s"
