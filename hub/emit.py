"""Publishing to Kafka with broker acknowledgement (acks=all, idempotent producer)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer

from hub.messages import OutboundMessage


class Emitter:
    """Sends records and waits until the broker has them durably."""

    def __init__(self, bootstrap: str) -> None:
        self._bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True, linger_ms=2,
            request_timeout_ms=15000, client_id="referral-hub-emitter")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, messages: list[OutboundMessage]) -> list[bool]:
        """Send all, in order; return which ones the broker acknowledged."""
        if self._producer is None:
            raise RuntimeError("the emitter is not started")
        futures = [await self._producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                   for m in messages]
        results = await asyncio.gather(*futures, return_exceptions=True)
        failures = [r for r in results if isinstance(r, BaseException)]
        if failures and len(failures) == len(results):
            raise failures[0]
        return [not isinstance(r, BaseException) for r in results]
