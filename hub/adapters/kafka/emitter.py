"""Publishing to Kafka with broker acknowledgement (acks=all, idempotent producer)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
    UnknownTopicOrPartitionError,
)

from hub.adapters.kafka.access import KafkaAccess, client_options
from hub.adapters.kafka.on_demand import ProducerOnDemand
from hub.core.messages import OutboundMessage

#: The broker refuses this message (its topic, size or rights), not every message: reported as
#: not acknowledged, so the caller can hold back its key and go on with the others.
REFUSED_MESSAGE = (
    UnknownTopicOrPartitionError,
    InvalidTopicError,
    MessageSizeTooLargeError,
    TopicAuthorizationFailedError,
)


class Emitter:
    """Sends records and waits until the broker has them durably."""

    def __init__(self, kafka: KafkaAccess | str, *, request_timeout_ms: int = 15_000) -> None:
        self._kafka = kafka
        self._request_timeout_ms = request_timeout_ms
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            **client_options(self._kafka),
            acks="all",
            enable_idempotence=True,
            linger_ms=2,
            max_batch_size=512 * 1024,  # a batch's Bundles (kilobytes each) in few requests
            request_timeout_ms=self._request_timeout_ms,
            client_id="referral-hub-emitter",
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def send(self, messages: list[OutboundMessage]) -> list[bool]:
        """Send in order; return which ones the broker acknowledged. Queuing stops at the first
        message the producer refuses outright (e.g. its topic does not exist), so what was
        queued before it is still reported. Raises when nothing was acknowledged, unless the
        first message was refused for reasons of its own (`REFUSED_MESSAGE`)."""
        if self._producer is None:
            raise RuntimeError("the emitter is not started")
        if not messages:
            return []
        futures: list[asyncio.Future[object]] = []
        refused: BaseException | None = None
        for m in messages:
            try:
                futures.append(
                    await self._producer.send(m.topic, m.value, key=m.key, headers=list(m.headers))
                )
            except Exception as error:  # what was queued before it is still awaited below
                refused = error
                break
        results = list(await asyncio.gather(*futures, return_exceptions=True))
        acked = [not isinstance(r, BaseException) for r in results]
        acked += [False] * (len(messages) - len(acked))
        if not any(acked) and not isinstance(refused, REFUSED_MESSAGE):
            failure = refused or next(r for r in results if isinstance(r, BaseException))
            raise failure  # nothing got through: the broker is away (or the producer)
        return acked


def send_one_by_one(
    producer: AIOKafkaProducer | ProducerOnDemand,
) -> Callable[[list[OutboundMessage]], Awaitable[list[bool]]]:
    """Sending an operator's messages in order, each waiting for its acknowledgement; nothing
    after the first the broker did not acknowledge."""

    async def send(messages: list[OutboundMessage]) -> list[bool]:
        acked: list[bool] = []
        for m in messages:
            if acked and not acked[-1]:
                acked.append(False)  # keep the order: nothing after a failure
                continue
            try:
                await producer.send_and_wait(m.topic, m.value, key=m.key, headers=list(m.headers))
                acked.append(True)
            except KafkaError:
                acked.append(False)
        return acked

    return send
