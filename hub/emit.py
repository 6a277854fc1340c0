"""Publishing to Kafka with broker acknowledgement (acks=all, idempotent producer)."""

from __future__ import annotations

import asyncio

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hub.kafka_access import KafkaAccess, client_options
from hub.messages import OutboundMessage


class Emitter:
    """Sends records and waits until the broker has them durably."""

    def __init__(self, kafka: KafkaAccess | str, *, request_timeout_ms: int = 15_000) -> None:
        self._kafka = kafka
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **client_options(self._kafka), acks="all", enable_idempotence=True, linger_ms=2,
            request_timeout_ms=self._request_timeout_ms, client_id="referral-hub-emitter")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, messages: list[OutboundMessage]) -> list[bool]:
        """Send in order; return which ones the broker acknowledged. Queuing stops at the first
        message the producer refuses outright (e.g. its topic does not exist), so what was
        queued before it is still reported; raises only when nothing was acknowledged."""
        if self._producer is None:
            raise RuntimeError("the emitter is not started")
        if not messages:
            return []
        futures: list[asyncio.Future[object]] = []
        refused: BaseException | None = None
        for m in messages:
            try:
                futures.append(await self._producer.send(m.topic, m.value, key=m.key,
                                                         headers=list(m.headers)))
            except KafkaError as error:
                refused = error
                break
        results = list(await asyncio.gather(*futures, return_exceptions=True))
        acked = [not isinstance(r, BaseException) for r in results]
        acked += [False] * (len(messages) - len(acked))
        if not any(acked):
            failure = refused or next(r for r in results if isinstance(r, BaseException))
            raise failure
        return acked
