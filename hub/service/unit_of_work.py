"""The unit of work the batch core is written against: one transaction per batch.

`load` takes the locks and reads, in bulk, everything the batch can need into a `Registry`;
handlers then run over it in memory; `commit` writes the registry's changes and the outbox in
bulk and commits. Publishing the outbox comes after (`Outbox`), then the offsets are committed.
"""

from __future__ import annotations

from types import TracebackType
from typing import Protocol

from hub.core.registry import Needs, PendingMessage, Registry


class UnitOfWork(Protocol):
    """One batch's transaction."""

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    async def load(self, needs: Needs) -> Registry:
        """Lock what the batch touches and read what it needs."""
        ...

    async def commit(self, registry: Registry, republish: list[str]) -> list[PendingMessage]:
        """Write the registry's changes and outbox, commit; return what is to be published:
        the new outbox rows and those still unpublished for the `republish` references
        (redelivered events, dead letters recorded before), in outbox order."""
        ...

    @property
    def statements(self) -> int:
        """SQL statements this unit of work has run (a structural guard for tests)."""
        ...


class Outbox(Protocol):
    """Publishing stored messages: each is sent by one sender, then marked published."""

    async def publish(self, pending: list[PendingMessage]) -> list[PendingMessage]:
        """Send what is still unpublished among `pending`; return what was not acknowledged.
        Raises when the broker acknowledged none."""
        ...
