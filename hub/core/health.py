"""What says the hub is well: consumer lag per partition, hub instances per consumer group,
and what flowed through each input topic. No I/O: the use cases are in
`hub.service.operations.health`."""

from __future__ import annotations

from dataclasses import dataclass, field

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
