"""Bounded exponential backoff with jitter around one call that can fail transiently (tenacity);
when retries run out, `PartitionStalled` (DESIGN.md §8)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from hub.core.failures import PartitionStalled
from hub.metrics import RETRIES

log = logging.getLogger("hub.failures")
T = TypeVar("T")
#: Says whether a fault may pass by itself (the adapters know their drivers' errors).
Transient = Callable[[BaseException], bool]


class RetryPolicy:
    """Bounded exponential backoff with jitter around one call that can fail transiently."""

    def __init__(self, attempts: int, initial: float, maximum: float, transient: Transient) -> None:
        self.attempts = attempts
        self.initial = initial
        self.maximum = maximum
        self.transient = transient

    async def call(self, what: str, func: Callable[[], Awaitable[T]]) -> T:
        def _log(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            log.warning(
                "transient failure in %s (attempt %d): %s",
                what,
                state.attempt_number,
                type(error).__name__,
            )
            RETRIES.labels(what).inc()

        retrying = AsyncRetrying(
            retry=retry_if_exception(self.transient),
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=self.initial, max=self.maximum),
            before_sleep=_log,
            reraise=True,
        )

        async def attempt() -> T:
            return await func()

        try:
            return await retrying(attempt)
        except Exception as error:
            if self.transient(error):
                raise PartitionStalled(
                    f"{what}: retries exhausted ({type(error).__name__})"
                ) from error
            raise
