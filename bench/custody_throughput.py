"""Throughput and latency of the hub on the real broker, beside a raw aiokafka passthrough.

    python bench/custody_throughput.py [--events N]

Uses the local dev services (`hub dev up`) unless HUB_KAFKA_BOOTSTRAP / HUB_DATABASE_URL are set.
Each run gets its own topics and a fresh database. Latency is broker timestamp of the output
minus broker timestamp of the input (CreateTime, ms). The passthrough does what the hub's consumer
loop must do at least: consume one record, produce it with acks=all, wait, commit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.app import build_hub
from hub.cli import _services
from hub.settings import Settings
from hub.topics import create_topics
from tests.factories import drug_test_event
from tests.kafka_helpers import read_all, wait_until_committed


def summary(name: str, latencies_ms: list[int], span_s: float, n: int) -> str:
    q = statistics.quantiles(latencies_ms, n=100)
    return (f"{name:<28} {n / span_s:8.1f} events/s   p50 {q[49]:6.1f} ms   "
            f"p99 {q[98]:6.1f} ms   (n={n})")


async def produce_all(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        for i, value in enumerate(values):
            await producer.send(topic, value, key=str(i).encode(),
                                headers=[("bench-id", str(i).encode())])
        await producer.flush()
    finally:
        await producer.stop()


def measure(inputs: list, outputs: list, by: str) -> tuple[list[int], float]:
    sent = {dict(r.headers)["bench-id"]: r.timestamp for r in inputs}
    received = {}
    for record in outputs:
        headers = dict(record.headers)
        ident = headers[by] if by == "bench-id" else headers["causation-id"]
        received[ident] = record.timestamp
    if by != "bench-id":  # map event ids back to bench ids
        received = {dict(r.headers)["bench-id"]: received[json.loads(r.value)["event_id"].encode()]
                    for r in inputs}
    latencies = [received[k] - sent[k] for k in sent]
    span = (max(received.values()) - min(sent.values())) / 1000
    return latencies, span


async def bench_hub(settings: Settings, bootstrap: str, url: str, n: int) -> str:
    database = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    database_url = url.rsplit("/", 1)[0] + f"/{database}"
    hub = build_hub(settings, bootstrap=bootstrap, database_url=database_url)
    await create_topics(bootstrap, hub.topics.all(hub.providers), settings.topic_partitions)
    await hub.app.start()
    try:
        values = [json.dumps(drug_test_event(postcode="B12 9ZZ")).encode() for _ in range(n)]
        await produce_all(bootstrap, hub.topics.custody_events, values)
        await wait_until_committed(bootstrap, f"{settings.consumer_group}.custody-events",
                                   hub.topics.custody_events,
                                   within=600)
    finally:
        await hub.app.stop()
    topic = hub.topics.provider("referrals.birmingham.v1")
    found = await read_all(bootstrap, [hub.topics.custody_events, topic])
    latencies, span = measure(found[hub.topics.custody_events], found[topic], by="causation-id")
    return summary("hub (parse+DB+FHIR+emit)", latencies, span, n)


async def bench_passthrough(prefix: str, bootstrap: str, n: int, partitions: int) -> str:
    source, sink = f"{prefix}pass.in", f"{prefix}pass.out"
    await create_topics(bootstrap, (source, sink), partitions)
    values = [b"x" * 1200 for _ in range(n)]
    await produce_all(bootstrap, source, values)
    consumer = AIOKafkaConsumer(source, bootstrap_servers=bootstrap, group_id=f"{prefix}pass",
                                enable_auto_commit=False, auto_offset_reset="earliest")
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await consumer.start()
    await producer.start()
    try:
        for _ in range(n):
            record = await consumer.getone()
            await producer.send_and_wait(sink, record.value, key=record.key,
                                         headers=list(record.headers))
            await consumer.commit()
    finally:
        await consumer.stop()
        await producer.stop()
    found = await read_all(bootstrap, [source, sink])
    latencies, span = measure(found[source], found[sink], by="bench-id")
    return summary("raw aiokafka passthrough", latencies, span, n)


async def main(n: int, settings: Settings, bootstrap: str, url: str) -> None:
    prefix = settings.topic_prefix
    started = time.monotonic()
    print(f"{n} custody drug test events, {settings.topic_partitions} partitions, one hub process")
    print(await bench_passthrough(prefix, bootstrap, n, settings.topic_partitions))
    print(await bench_hub(settings, bootstrap, url, n))
    print(f"(whole run {time.monotonic() - started:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    run_prefix = f"bench{uuid.uuid4().hex[:6]}."
    bench_settings = Settings(topic_prefix=run_prefix, consumer_group=f"{run_prefix}hub")
    kafka, database = _services(bench_settings)  # the bench's own clients speak PLAINTEXT
    asyncio.run(main(parser.parse_args().events, bench_settings, kafka.bootstrap, database))
