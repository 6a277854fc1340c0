"""A producer started when it is first needed, and again after the broker was away: what
lets the operations console start and serve pages without the broker (a decision made then
stays in the outbox for the relay)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError


class ProducerOnDemand:
    def __init__(self, make: Callable[[], AIOKafkaProducer]) -> None:
        self._make = make
        self._producer: AIOKafkaProducer | None = None
        self._lock = asyncio.Lock()

    async def started(self) -> AIOKafkaProducer:
        """The running producer; KafkaError when the broker cannot be reached now."""
        async with self._lock:
            if self._producer is None:
                producer = self._make()
                try:
                    await producer.start()
                except KafkaError:
                    await producer.stop()
                    raise
                except OSError as error:
                    await producer.stop()
                    raise KafkaConnectionError(str(error)) from error
                self._producer = producer
            return self._producer

    async def send_and_wait(
        self,
        topic: str,
        value: bytes,
        key: bytes | None = None,
        headers: list[tuple[str, bytes]] | None = None,
    ) -> Any:
        producer = await self.started()
        return await producer.send_and_wait(topic, value, key=key, headers=headers)

    async def stop(self) -> None:
        async with self._lock:
            if self._producer is not None:
                await self._producer.stop()
                self._producer = None
