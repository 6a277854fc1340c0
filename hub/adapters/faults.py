"""Which faults may pass by themselves (the failure policy's "transient"), for the drivers the
adapters use: database connections, the broker, timeouts. The service layer is told this by the
bootstrap; it never imports a driver."""

from __future__ import annotations

import asyncio

from aiokafka.errors import KafkaError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from hub.core.failures import Rejected


class StaleRead(Exception):  # noqa: N818 - a reason to read again, like a timeout
    """What a batch read changed under it (a merge took its person): read again."""


def is_transient(error: BaseException) -> bool:
    """Faults that may pass by themselves: connection and timeouts, retriable broker errors,
    a batch whose registry view went stale."""
    if isinstance(error, Rejected):
        return False
    if isinstance(error, StaleRead):
        return True
    if isinstance(error, OperationalError | InterfaceError):
        return True
    if isinstance(error, DBAPIError):
        return bool(error.connection_invalidated)
    if isinstance(error, KafkaError):
        return bool(getattr(error, "retriable", False)) or type(error).__name__ in {
            "KafkaConnectionError",
            "KafkaTimeoutError",
            "RequestTimedOutError",
            "NodeNotReadyError",
            "NotLeaderForPartitionError",
            "LeaderNotAvailableError",
        }
    return isinstance(error, TimeoutError | ConnectionError | asyncio.TimeoutError)
