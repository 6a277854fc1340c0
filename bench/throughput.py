"""Throughput and latency of the hub on the real broker and database, beside raw aiokafka
passthroughs in the same run (`make bench`).

    python -m bench.throughput [--groups 3000] [--paced-seconds 30] [--only mix,tls]
                               [--rounds N] [--profile DIR] [--hub-logs DIR]

Uses the local dev services (`hub dev up`) unless HUB_KAFKA_BOOTSTRAP / HUB_DATABASE_URL are
set. Every line gets its own topics, consumer group and a fresh database. Each run starts its
consumers first, then produces the whole workload at once (a backlog) and times until every
record is committed: events/s = events / that time. Latency is the output's broker timestamp
minus its input's (CreateTime, ms), over the events that yield a Bundle (`timed`: about one
in eight of the mix; the paced line runs 30 s by default, so its p99 rests on some 800 of them,
not on the two or three slowest of a few hundred). Lines:

- batched passthrough (getmany → send all → one flush → one commit): the ceiling;
- per-record passthrough (getone → send_and_wait → commit);
- the batched passthrough that first stores each batch in one PostgreSQL transaction, one row
  per record (one `INSERT … SELECT FROM unnest`): the least a hub that keeps every record
  durably before its offset is committed must do;
- the hub on the realistic mix (7 recorded-only events to 1 Bundle, with provider feedback);
- the hub on all-referral custody events;
- the hub at an offered load of 200 events/s (the realistic mix, paced): end-to-end latency;
- two `hub run` processes in one group on the realistic mix, beside one (`x one process`);
- the hub on all-referral custody events through the SASL_SSL listener (SCRAM-SHA-512, the
  certificate verified), as its own principal with the access plan's ACLs, beside the same
  workload through PLAINTEXT in the same run: the ratio is the cost of TLS and SASL. The bench
  sets the listener up itself (topics, ACLs, a SCRAM credential of the run's own, removed
  afterwards); its own clients (producer, simulated providers) stay on PLAINTEXT, so only the
  hub's traffic is encrypted. It needs the local broker's listener (`hub dev up`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.workloads import FEEDBACK, Event, all_referrals, feedback_for, realistic_mix
from hub.adapters.kafka.topics import create_topics, delete_topics
from hub.adapters.local.services import LocalServices
from hub.bootstrap import services as _services
from hub.core.providers import load_providers
from hub.core.topics import INPUT_GROUPS, Topics
from hub.settings import Settings
from tests.kafka_helpers import read_all, wait_for_members
from tests.secure_listener import open_secure_listener

ROOT = Path(__file__).resolve().parents[1]
PROFILE_DIR: Path | None = None  # --profile: every `hub run` under cProfile, one file each
STALL_SECONDS = 120.0  # a line whose referrals stop coming fails instead of waiting forever
LOG_DIR: Path | None = None  # --hub-logs: every `hub run`'s log, one file each


@dataclass(frozen=True)
class SecureListener:
    """The broker's SASL_SSL listener and the CA its certificate is from."""

    bootstrap: str
    ca_file: Path


@dataclass(frozen=True)
class Line:
    name: str
    events: int
    seconds: float
    latencies_ms: list[int]

    @property
    def rate(self) -> float:
        return self.events / self.seconds

    def percentile(self, n: int) -> float:
        """The n-th percentile of the latencies (1..99); nan with fewer than two."""
        if len(self.latencies_ms) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies_ms, n=100)[n - 1]

    def text(self, ceiling: float | None, beside: tuple[Line, str] | None = None) -> str:
        """The line; its rate as a share of the ceiling's, and of the line `beside` (a line
        and what to call it) when given."""
        p50, p99 = self.percentile(50), self.percentile(99)
        ratio = f"   {self.rate / ceiling:5.2f} x ceiling" if ceiling else ""
        if beside is not None:
            line, called = beside
            ratio += f"   {self.rate / line.rate:5.2f} x {called}"
        return (
            f"{self.name:<40} {self.rate:8.1f} events/s   p50 {p50:7.1f} ms   "
            f"p99 {p99:7.1f} ms   (n={self.events}, {len(self.latencies_ms)} timed){ratio}"
        )


async def produce(
    bootstrap: str, records: Iterable[tuple[str, bytes, bytes | None]], rate: float | None = None
) -> None:
    """Send (topic, value, key) records, keyed by their number where the key is None."""
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        started = time.monotonic()
        for i, (topic, value, key) in enumerate(records):
            if rate is not None:
                delay = started + i / rate - time.monotonic()
                if delay > 0:
                    await producer.flush()
                    await asyncio.sleep(delay)
            await producer.send(
                topic, value, key=key or str(i).encode(), headers=[("bench-id", str(i).encode())]
            )
        await producer.flush()
    finally:
        await producer.stop()


async def leaders_ready(bootstrap: str, topics: Iterable[str], within: float = 60) -> None:
    """Wait until every partition of `topics` has a leader (a new topic takes a moment)."""
    wanted = set(topics)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            cluster = await consumer._client.fetch_all_metadata()
            if all(
                cluster.partitions_for_topic(t)
                and all(
                    cluster.leader_for_partition(TopicPartition(t, p)) not in (None, -1)
                    for p in cluster.partitions_for_topic(t)
                )
                for t in wanted
            ):
                return
            await asyncio.sleep(0.2)
        raise TimeoutError("topics without leaders")
    finally:
        await consumer.stop()


async def committed_all(bootstrap: str, groups: dict[str, str], within: float = 900) -> float:
    """Wait until each group has committed every record of its topic; the time it did."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await consumer.start()
    await admin.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()
        ends: dict[str, dict[TopicPartition, int]] = {}
        for topic in groups:
            parts = [TopicPartition(topic, p) for p in cluster.partitions_for_topic(topic) or ()]
            ends[topic] = await consumer.end_offsets(parts)
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            late = False
            for topic, group in groups.items():
                done = await admin.list_consumer_group_offsets(group)
                late |= any(
                    end > 0 and (tp not in done or done[tp].offset < end)
                    for tp, end in ends[topic].items()
                )
            if not late:
                return time.monotonic()
            await asyncio.sleep(0.05)
        raise TimeoutError(f"not all committed within {within}s")
    finally:
        await admin.close()
        await consumer.stop()


def drop_database(url: str, database_url: str) -> None:
    name = database_url.rsplit("/", 1)[1]
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(url: str) -> str:
    name = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


def run_settings(base: Settings, label: str) -> Settings:
    prefix = f"{base.topic_prefix}{label}."
    return base.model_copy(update={"topic_prefix": prefix, "consumer_group": f"{prefix}hub"})


def groups_of(settings: Settings, topics: Topics, names: Iterable[str]) -> dict[str, str]:
    """Each input topic named (base names; FEEDBACK: every provider's) → the hub's group."""
    wanted = set(names)
    return {
        topic: f"{settings.consumer_group}.{suffix}"
        for topic, suffix in topics.input_groups.items()
        if topic.removeprefix(topics.prefix) in wanted
        or (FEEDBACK in wanted and topic in topics.feedback_topics)
    }


async def simulated_providers(
    bootstrap: str, topics: Topics, settings: Settings, causes: set[str]
) -> int:
    """Read the referrals the hub makes for `causes` (event ids) and answer each with
    "accepted", like a provider."""
    expected = len(causes)
    providers = load_providers(settings.providers_file)
    topic_of = {topics.provider(p.topic): p.id for p in providers.providers}
    consumer = AIOKafkaConsumer(
        *topic_of,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=f"{settings.consumer_group}.bench-providers",
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", linger_ms=5, max_batch_size=512 * 1024
    )
    await consumer.start()
    await producer.start()
    answered = 0
    loop = asyncio.get_running_loop()
    last_progress = loop.time()
    try:
        while answered < expected:
            if loop.time() - last_progress > STALL_SECONDS:
                raise RuntimeError(
                    f"{expected - answered} of {expected} referrals did not come within "
                    f"{STALL_SECONDS:.0f}s of the last one (held in triage?)"
                )
            batch = await consumer.getmany(timeout_ms=200, max_records=500)
            if batch:
                last_progress = loop.time()
            for records in batch.values():
                for r in records:
                    if dict(r.headers).get("causation-id", b"").decode() not in causes:
                        continue  # the warm-up's
                    await producer.send(
                        topics.feedback(topic_of[r.topic]),
                        feedback_for(json.loads(r.value), topic_of[r.topic]),
                    )
                    answered += 1
            await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    return answered


async def latencies(
    bootstrap: str, topics: Topics, settings: Settings, events: list[Event]
) -> list[int]:
    providers = load_providers(settings.providers_file)
    outputs = [topics.provider(p.topic) for p in providers.providers] + [topics.triage]
    inputs = sorted({topics.name(e.topic) for e in events})
    found = await read_all(bootstrap, [*inputs, *outputs])
    sent = {json.loads(r.value)["event_id"]: r.timestamp for t in inputs for r in found[t]}
    wanted = {e.event_id for e in events if e.yields_bundle}
    result = []
    for topic in outputs:
        for r in found[topic]:
            cause = dict(r.headers).get("causation-id", b"").decode()
            if cause in wanted:
                result.append(r.timestamp - sent[cause])
    return result


@contextlib.asynccontextmanager
async def hub_kafka(
    settings: Settings, bootstrap: str, topics: Topics, secure: SecureListener | None
) -> AsyncIterator[dict[str, str]]:
    """How the hub processes reach the broker (their `HUB_KAFKA_*`): PLAINTEXT at
    `bootstrap`, or the `secure` listener as the run's own hub principal, its ACLs applied
    (and removed afterwards)."""
    if secure is None:
        yield {"HUB_KAFKA_BOOTSTRAP": bootstrap}
        return
    broker = await open_secure_listener(
        bootstrap,
        secure.bootstrap,
        secure.ca_file,
        topics.prefix,
        hub_group=settings.consumer_group,
        partitions=settings.topic_partitions,
    )
    hub = broker.as_hub(settings)
    assert hub.kafka_sasl_password is not None
    try:
        yield {
            "HUB_KAFKA_BOOTSTRAP": secure.bootstrap,
            "HUB_KAFKA_SECURITY_PROTOCOL": hub.kafka_security_protocol,
            "HUB_KAFKA_SASL_MECHANISM": hub.kafka_sasl_mechanism,
            "HUB_KAFKA_SASL_USERNAME": str(hub.kafka_sasl_username),
            "HUB_KAFKA_SASL_PASSWORD": hub.kafka_sasl_password.get_secret_value(),
            "HUB_KAFKA_SSL_CAFILE": str(hub.kafka_ssl_cafile),
        }
    finally:
        await broker.close(bootstrap)


@contextlib.asynccontextmanager
async def hub_processes(
    settings: Settings, bootstrap: str, url: str, count: int, secure: SecureListener | None = None
) -> AsyncIterator[Topics]:
    """`count` `hub run` processes on a fresh database (processes of their own: the bench's
    clients do not share their event loop), through the `secure` listener when given."""
    database = fresh_database(url)
    providers = load_providers(settings.providers_file)
    topics = Topics.of(providers, settings.topic_prefix)
    try:
        await create_topics(bootstrap, topics.all(providers), settings.topic_partitions)
        await leaders_ready(bootstrap, topics.all(providers))
        async with (
            hub_kafka(settings, bootstrap, topics, secure) as kafka_env,
            _hub_run(settings, database, count, kafka_env),
        ):
            for group in groups_of(settings, topics, [*INPUT_GROUPS, FEEDBACK]).values():
                await wait_for_members(bootstrap, group, count, within=120)
            yield topics
    finally:
        drop_database(url, database)


@contextlib.asynccontextmanager
async def _hub_run(
    settings: Settings, database: str, count: int, kafka_env: dict[str, str]
) -> AsyncIterator[None]:
    env = {
        **os.environ,
        **kafka_env,
        "HUB_DATABASE_URL": database,
        "HUB_TOPIC_PREFIX": settings.topic_prefix,
        "HUB_CONSUMER_GROUP": settings.consumer_group,
    }
    hub = str(Path(sys.executable).with_name("hub"))
    procs = []
    for i in range(count):
        profiled = (
            [
                sys.executable,
                "-m",
                "cProfile",
                "-o",
                str(PROFILE_DIR / f"{settings.topic_prefix}{i}.prof"),
            ]
            if PROFILE_DIR
            else []
        )
        log = (
            (LOG_DIR / f"{settings.topic_prefix}{i}.log").open("wb")
            if LOG_DIR
            else asyncio.subprocess.DEVNULL
        )
        procs.append(
            await asyncio.create_subprocess_exec(
                *profiled, hub, "run", env=env, stdout=log, stderr=log
            )
        )
    try:
        yield
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            await asyncio.wait_for(proc.wait(), timeout=60)


async def bench_hub(
    name: str,
    base: Settings,
    bootstrap: str,
    url: str,
    events: list[Event],
    *,
    processes: int = 1,
    rate: float | None = None,
    warm_up: list[Event] | None = None,
    secure: SecureListener | None = None,
) -> Line:
    """Start the hub(s) (on the `secure` listener when given), run `warm_up` through them
    untimed (new topics and connections settle), then time `events`."""
    settings = run_settings(base, uuid.uuid4().hex[:6])
    referrals = sum(e.yields_bundle for e in events)
    with_feedback = rate is None and any(not e.yields_bundle for e in events)
    async with hub_processes(settings, bootstrap, url, processes, secure) as topics:
        groups = groups_of(settings, topics, {e.topic for e in events})
        if with_feedback:
            groups.update(groups_of(settings, topics, [FEEDBACK]))
        for group in groups.values():
            await wait_for_members(bootstrap, group, processes, within=120)
        if warm_up:  # at the line's own pace, so a paced line measures its steady state
            await produce(
                bootstrap, [(topics.name(e.topic), e.value, e.key) for e in warm_up], rate
            )
            await committed_all(bootstrap, groups)
        started = time.monotonic()
        causes = {e.event_id for e in events if e.yields_bundle}
        answering = (
            asyncio.create_task(simulated_providers(bootstrap, topics, settings, causes))
            if with_feedback
            else None
        )
        await produce(bootstrap, [(topics.name(e.topic), e.value, e.key) for e in events], rate)
        if answering is not None:
            await answering
        done = await committed_all(bootstrap, groups)
    total = len(events) + (referrals if with_feedback else 0)
    measured = await latencies(bootstrap, topics, settings, events)
    await delete_topics(bootstrap, settings.topic_prefix)
    return Line(name, total, done - started, measured)


#: The stored passthrough's table: one row per record, claimed by its position (as the hub
#: claims each event id), the record's value kept.
_PASSED = """CREATE TABLE passed (
    topic text NOT NULL, part integer NOT NULL, "offset" bigint NOT NULL, value bytea NOT NULL,
    stored_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (topic, part, "offset"))"""
_STORE_PASSED = """INSERT INTO passed (topic, part, "offset", value)
    SELECT * FROM unnest(%s::text[], %s::integer[], %s::bigint[], %s::bytea[])
    ON CONFLICT DO NOTHING"""


async def _passed_store(url: str) -> psycopg.AsyncConnection:
    """A connection to a fresh database with the stored passthrough's table."""
    store = await psycopg.AsyncConnection.connect(fresh_database(url).replace("+psycopg", ""))
    await store.execute(_PASSED)
    await store.commit()
    return store


async def _drop_store(url: str, store: psycopg.AsyncConnection) -> None:
    database = url.rsplit("/", 1)[0] + "/" + store.info.dbname
    await store.close()
    drop_database(url, database)


async def _store_passed(store: psycopg.AsyncConnection, records: list[Any]) -> None:
    """One transaction, one statement: a row per record of the batch."""
    await store.execute(
        _STORE_PASSED,
        [
            [r.topic for r in records],
            [r.partition for r in records],
            [r.offset for r in records],
            [r.value for r in records],
        ],
    )
    await store.commit()


async def bench_passthrough(
    base: Settings, bootstrap: str, n: int, *, batched: bool, url: str | None = None
) -> Line:
    """A raw aiokafka passthrough: batched (getmany → send all → one flush → one commit), or
    one record at a time (getone → send_and_wait → commit). With `url` (batched only), each
    batch is first stored in one PostgreSQL transaction, one row per record (one statement),
    on a fresh database: the least a hub that keeps every record durably must do."""
    prefix = f"{base.topic_prefix}pass{uuid.uuid4().hex[:4]}."
    source, sink = f"{prefix}in", f"{prefix}out"
    await create_topics(bootstrap, (source, sink), base.topic_partitions)
    await leaders_ready(bootstrap, (source, sink))
    consumer = AIOKafkaConsumer(
        source,
        bootstrap_servers=bootstrap,
        group_id=f"{prefix}pass",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    producer = AIOKafkaProducer(
        bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, max_batch_size=512 * 1024
    )
    await consumer.start()
    await producer.start()
    store = await _passed_store(url) if url else None
    try:
        await wait_for_members(bootstrap, f"{prefix}pass", 1)
        started = time.monotonic()
        feeding = asyncio.create_task(produce(bootstrap, [(source, b"x" * 1200, None)] * n))
        moved = 0
        while moved < n:
            if batched:
                batch = await consumer.getmany(timeout_ms=100, max_records=500)
                records = [r for rs in batch.values() for r in rs]
                if store is not None and records:
                    await _store_passed(store, records)
                futures = [
                    await producer.send(sink, r.value, key=r.key, headers=list(r.headers))
                    for r in records
                ]
                await producer.flush()
                await asyncio.gather(*futures)
                if futures:
                    await consumer.commit()
                moved += len(futures)
            else:
                r = await consumer.getone()
                await producer.send_and_wait(sink, r.value, key=r.key, headers=list(r.headers))
                await consumer.commit()
                moved += 1
        done = time.monotonic()
        await feeding
    finally:
        await consumer.stop()
        await producer.stop()
        if store is not None:
            await _drop_store(url or "", store)
    found = await read_all(bootstrap, [source, sink])
    sent = {dict(r.headers)["bench-id"]: r.timestamp for r in found[source]}
    lat = [r.timestamp - sent[dict(r.headers)["bench-id"]] for r in found[sink]]
    await delete_topics(bootstrap, prefix)
    name = (
        "raw batched passthrough (ceiling)"
        if batched and not url
        else "batched passthrough + 1 stored row each"
        if batched
        else "raw per-record passthrough"
    )
    return Line(name, n, done - started, lat)


async def main(
    groups: int,
    paced_seconds: int,
    base: Settings,
    bootstrap: str,
    url: str,
    only: set[str] | None = None,
    secure: SecureListener | None = None,
    rounds: int = 1,
) -> None:
    started = time.monotonic()
    total_mix = 8 * groups
    print(
        f"realistic mix: {groups} people, {total_mix} events (7 recorded-only : 1 Bundle, "
        f"with feedback); {base.topic_partitions} partitions; batch up to "
        f"{base.batch_max_records} records",
        flush=True,
    )
    ceiling = await bench_passthrough(base, bootstrap, total_mix, batched=True)
    print(ceiling.text(None), flush=True)
    per_record = await bench_passthrough(base, bootstrap, min(total_mix, 3000), batched=False)
    print(per_record.text(ceiling.rate), flush=True)
    stored = await bench_passthrough(base, bootstrap, total_mix, batched=True, url=url)
    print(stored.text(ceiling.rate), flush=True)
    if only and "tls" in only:
        only = {*only, "referrals"}  # what the TLS line is beside, in the same run
    if only and "two" in only:
        only = {*only, "mix"}  # what the two processes are beside, in the same run
    ran: list[dict[str, Line]] = []
    for number in range(rounds):
        if rounds > 1:
            print(f"-- round {number + 1} of {rounds}", flush=True)
        ran.append(
            await _hub_lines(groups, paced_seconds, base, bootstrap, url, only, secure, ceiling)
        )
    if rounds > 1:
        _medians(ran, ceiling)
    print(f"(whole run {time.monotonic() - started:.0f} s)")


#: Lines printed beside another line of the same round: (that line, what to call it).
BESIDE = {"tls": ("referrals", "PLAINTEXT"), "two": ("mix", "one process")}


async def _hub_lines(
    groups: int,
    paced_seconds: int,
    base: Settings,
    bootstrap: str,
    url: str,
    only: set[str] | None,
    secure: SecureListener | None,
    ceiling: Line,
) -> dict[str, Line]:
    """One round of the hub lines (each on new events, topics and a fresh database)."""
    done: dict[str, Line] = {}
    # As many all-referral events as the mix has people (three Bundles for each of the mix's
    # eight events would take longer than the mix for no more certainty).
    referrals = max(groups, 500)
    for key, line in [
        # The paced line first: its latency is not disturbed by the log and database clean-up
        # that heavy lines leave behind on the same machine.
        (
            "paced",
            (
                "hub, realistic mix offered at 200/s",
                realistic_mix(paced_seconds * 200 // 7),
                1,
                200.0,
            ),
        ),
        ("mix", ("hub, realistic mix", realistic_mix(groups), 1, None)),
        ("referrals", ("hub, all-referral custody events", all_referrals(referrals), 1, None)),
        ("two", ("two hub processes, realistic mix", realistic_mix(groups), 2, None)),
        ("tls", ("hub on SASL_SSL, all-referral events", all_referrals(referrals), 1, None)),
    ]:
        if only and key not in only:
            continue
        name, events, processes, rate = line
        if key == "tls" and secure is None:
            print(
                f"{name:<40} not run: it needs the local broker's SASL_SSL listener "
                "(HUB_KAFKA_BOOTSTRAP is set)",
                flush=True,
            )
            continue
        warm = realistic_mix(int(5 * rate / 8) if rate else 20 * processes)  # paced: 5 s
        done[key] = await bench_hub(
            name,
            base,
            bootstrap,
            url,
            events,
            processes=processes,
            rate=rate,
            warm_up=warm,
            secure=secure if key == "tls" else None,
        )
        beside = BESIDE.get(key)
        print(
            done[key].text(ceiling.rate, (done[beside[0]], beside[1]) if beside else None),
            flush=True,
        )
    return done


def _medians(ran: list[dict[str, Line]], ceiling: Line) -> None:
    """Each hub line's median rate and p99 latency over the rounds, and the median of each
    round's ratio to the line it is beside."""
    print(f"-- medians of {len(ran)} rounds", flush=True)
    for key in ran[0]:
        lines = [r[key] for r in ran]
        rates = [line.rate for line in lines]
        text = (
            f"{lines[0].name:<40} {statistics.median(rates):8.1f} events/s median "
            f"({', '.join(f'{r:.0f}' for r in rates)})   "
            f"{statistics.median(rates) / ceiling.rate:5.2f} x ceiling"
        )
        p99s = [line.percentile(99) for line in lines]
        each = ", ".join(f"{q:.0f}" for q in p99s)
        text += f"   p99 {statistics.median(p99s):.1f} ms median ({each})"
        if (beside := BESIDE.get(key)) is not None:
            ratios = [r[key].rate / r[beside[0]].rate for r in ran]
            text += (
                f"   {statistics.median(ratios):5.2f} x {beside[1]} "
                f"({', '.join(f'{q:.2f}' for q in ratios)})"
            )
        print(text, flush=True)


if __name__ == "__main__":
    import logging

    logging.basicConfig(level=logging.WARNING)
    for noisy in ("aiokafka", "faststream", "hub"):  # the broker's retries and per-batch lines
        logging.getLogger(noisy).setLevel(logging.ERROR)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 3,000 people (24,000 events): at 1,000 a line lasted a few seconds, mostly its start and
    # the last referrals' feedback; two processes then measured 0.82-1.09 x one, at 3,000 1.9 x.
    parser.add_argument("--groups", type=int, default=3000, help="people in the realistic mix")
    parser.add_argument("--paced-seconds", type=int, default=30)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="run the hub lines this many times, then print each line's median",
    )
    parser.add_argument(
        "--only",
        default="",
        help="comma-separated hub lines to run: "
        "mix, referrals, paced, two, tls (tls: beside referrals; default: "
        "all)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="run every hub under cProfile; write DIR/<prefix><n>.prof",
    )
    parser.add_argument(
        "--hub-logs",
        type=Path,
        default=None,
        metavar="DIR",
        help="keep every hub's log (its per-batch timings): DIR/<prefix><n>.log",
    )
    options = parser.parse_args()
    if options.hub_logs:
        options.hub_logs.mkdir(parents=True, exist_ok=True)
        LOG_DIR = options.hub_logs.resolve()
    if options.profile:
        options.profile.mkdir(parents=True, exist_ok=True)
        PROFILE_DIR = options.profile.resolve()
    run_prefix = f"bench{uuid.uuid4().hex[:6]}."
    bench_settings = Settings(topic_prefix=run_prefix, consumer_group=f"{run_prefix}hub")
    kafka, database = _services(bench_settings)  # the bench's own clients speak PLAINTEXT
    local = LocalServices.from_settings(bench_settings).kafka
    listener = (
        None
        if bench_settings.kafka_bootstrap
        else SecureListener(local.secure_bootstrap, local.certificates.ca_file)
    )
    asyncio.run(
        main(
            options.groups,
            options.paced_seconds,
            bench_settings,
            kafka.bootstrap,
            database,
            set(filter(None, options.only.split(","))),
            listener,
            options.rounds,
        )
    )
