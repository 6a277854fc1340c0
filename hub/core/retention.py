"""What the retention policy is (`hub.service.operations.retention` applies it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Policy:
    messages: timedelta | None
    dead_letters: timedelta | None

    @classmethod
    def of_days(cls, messages: int | None, dead_letters: int | None) -> Policy:
        return cls(
            None if messages is None else timedelta(days=messages),
            None if dead_letters is None else timedelta(days=dead_letters),
        )

    @property
    def keeps_everything(self) -> bool:
        return self.messages is None and self.dead_letters is None


@dataclass(frozen=True)
class Purged:
    messages: int
    dead_letters: int
