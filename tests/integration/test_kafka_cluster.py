"""The hub, the console and the `hub` commands against a 3-broker KRaft cluster (replication
factor 3, min.insync.replicas 2), `HUB_KAFKA_BOOTSTRAP` listing all three brokers, as a
deployment runs them; one broker SIGKILLed while `hub run` works through a stream, and
restarted.

One deployment for the module (a database, topics made by `hub topics create`, a `hub run
--demo` process), since each costs seconds; the tests run in file order on it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest
from aiokafka import AIOKafkaProducer

from hub.adapters.local.cluster import LocalKafkaCluster
from hub.adapters.local.kafka import run_blocking
from hub.core.access import Principals
from hub.core.providers import load_providers
from hub.core.topics import Topics
from tests.cluster import coordinator_of, replicas, topic_config, wait_fully_replicated
from tests.conftest import ROOT, Services
from tests.e2e.test_simulated_year import SCALE, SEED
from tests.expected import EXPECTED, IN_SEQUENCE
from tests.factories import drug_test_event, encode
from tests.kafka_helpers import poll_until, read_all, wait_for_members, wait_until_committed
from tests.ports import free_ports

pytestmark = [pytest.mark.kafka_cluster, pytest.mark.kafka, pytest.mark.postgres, pytest.mark.e2e]
HUB = str(ROOT / ".venv" / "bin" / "hub")
EVENTS = 400  # before the kill; and AFTER_KILL more while the broker is down
AFTER_KILL = 100
PASSWORD = "correct horse battery"


@dataclass
class Deployment:
    env: dict[str, str]
    topics: Topics
    database_url: str
    bootstrap: str
    created: str  # what `hub topics create` printed
    log: Path  # `hub run --demo`'s output
    hub: subprocess.Popen[bytes]

    def hub_cli(
        self, *args: str, stdin: str | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        started = time.monotonic()
        done = subprocess.run(
            [HUB, *args],
            env=self.env,
            cwd=ROOT,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        print(f"\nhub {' '.join(args)}: exit {done.returncode}, {time.monotonic() - started:.1f}s")
        return done

    def count(self, sql: str) -> int:
        with psycopg.connect(self.database_url.replace("+psycopg", "")) as conn:
            row = conn.execute(sql).fetchone()
            return int(row[0]) if row else 0


def _database(services: Services, template: str) -> str:
    name = f"cluster_{uuid.uuid4().hex[:10]}"
    admin_url = services.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    return services.database_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(scope="module")
def deployment(
    kafka_cluster: LocalKafkaCluster,
    services: Services,
    template_database: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Deployment]:
    prefix = f"c{uuid.uuid4().hex[:8]}."
    admin_url = services.database_url.replace("postgresql+psycopg://", "postgresql://")
    database_url = _database(services, template_database)
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": kafka_cluster.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": prefix,
        "HUB_CONSUMER_GROUP": f"{prefix}hub",
        "HUB_ACCESS_NAMESPACE": prefix,
        "HUB_TOPIC_PARTITIONS": "3",
        "HUB_TOPIC_REPLICATION_FACTOR": "3",
        "HUB_TOPIC_MIN_INSYNC_REPLICAS": "2",
        "HUB_BATCH_MAX_RECORDS": "25",
        "HUB_OUTBOX_GRACE_SECONDS": "1",
        "HUB_OUTBOX_RELAY_SECONDS": "1",
    }
    log = tmp_path_factory.mktemp("cluster") / "hub-run.log"
    created = subprocess.run(
        [HUB, "topics", "create"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    with log.open("wb") as out:
        hub = subprocess.Popen(
            [HUB, "run", "--demo"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    providers = load_providers()
    try:
        yield Deployment(
            env,
            Topics.of(providers, prefix),
            database_url,
            kafka_cluster.bootstrap,
            created.stdout,
            log,
            hub,
        )
    finally:
        if hub.poll() is None:
            hub.send_signal(signal.SIGINT)
            hub.wait(60)
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database_url.rsplit("/", 1)[1]}" WITH (FORCE)')


async def test_hub_topics_create_makes_every_topic_three_copies_two_in_sync(
    deployment: Deployment,
) -> None:
    names = list(deployment.topics.all(load_providers()))
    assert all(
        f"{name} " in deployment.created and "created" in line
        for name, line in zip(names, deployment.created.splitlines(), strict=True)
    )
    found = await replicas(deployment.bootstrap, names)
    assert {t for t, _ in found} == set(names)
    assert Counter(t for t, _ in found) == dict.fromkeys(names, 3)  # HUB_TOPIC_PARTITIONS
    assert set(found.values()) == {(3, 3)}  # three replicas, all in sync
    assert set(
        (await topic_config(deployment.bootstrap, names, "min.insync.replicas")).values()
    ) == {"2"}
    again = deployment.hub_cli("topics", "create")
    assert again.returncode == 0 and again.stdout.count(" exists") == len(names), again.stdout


def _demo_lines(log: Path, within: float) -> list[str]:
    deadline = time.monotonic() + within
    while "samples done" not in (text := log.read_text(errors="replace")):
        assert time.monotonic() < deadline, text[-3000:]
        time.sleep(0.5)  # polled until the deadline
    return text.splitlines()


async def test_a_broker_killed_mid_run_loses_and_duplicates_nothing(
    deployment: Deployment,
    kafka_cluster: LocalKafkaCluster,
) -> None:
    # The examples, end to end through `hub run --demo` on the cluster.
    seen = await asyncio.to_thread(_demo_lines, deployment.log, 120)
    for sample, destination in {**EXPECTED, **IN_SEQUENCE}.items():
        line = next((x for x in seen if x.startswith(f"{sample} ")), None)
        assert line is not None, f"{sample} not reported:\n" + "\n".join(seen[-40:])
        ended = line.split("->", 1)[1].strip().replace(deployment.topics.prefix, "")
        assert ended.startswith(destination or "(no output"), line
    before = deployment.count("SELECT count(*) FROM inbound_events")

    topics, bootstrap = deployment.topics, deployment.bootstrap
    group = f"{topics.prefix}hub.custody-events"
    await wait_for_members(bootstrap, group, 1, 60)
    events = [
        drug_test_event(postcode="B12 9ZZ", with_nhs=False) for _ in range(EVENTS + AFTER_KILL)
    ]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        for event in events[:EVENTS]:
            await producer.send(
                topics.custody_events, encode(event), key=event["subject"]["pnc_id"].encode()
            )
        await producer.flush()

        async def some_processed() -> str | None:
            done = deployment.count("SELECT count(*) FROM inbound_events") - before
            return None if done >= EVENTS // 4 else f"{done} processed"

        await poll_until(some_processed, 60)
        victim = await coordinator_of(bootstrap, group)  # the group's coordinator, too
        kafka_cluster.nodes[victim - 1].kill()
        killed_at = time.monotonic()
        # Usually mid-run; on a fast machine the first EVENTS may all be done by now, but the
        # AFTER_KILL events below are always sent and processed while the broker is down.
        at_kill = deployment.count("SELECT count(*) FROM inbound_events") - before
        for event in events[EVENTS:]:  # acks=all: two of three in sync is enough
            await producer.send_and_wait(
                topics.custody_events, encode(event), key=event["subject"]["pnc_id"].encode()
            )
    finally:
        await producer.stop()

    await wait_until_committed(bootstrap, group, topics.custody_events, within=120)
    caught_up = time.monotonic() - killed_at

    async def all_published() -> str | None:
        waiting = deployment.count("SELECT count(*) FROM outbox WHERE published_at IS NULL")
        return None if waiting == 0 else f"{waiting} outbox rows unpublished"

    await poll_until(all_published, 60)
    assert deployment.hub.poll() is None, "hub run must survive the broker's death"

    kafka_cluster.nodes[victim - 1].up()  # restarted: it catches up and is in sync again
    names = list(topics.all(load_providers()))
    await wait_fully_replicated(bootstrap, names, within=90)

    topic = topics.provider("referrals.birmingham.v1")
    records = (await read_all(bootstrap, [topic]))[topic]
    ids = Counter(dict(r.headers)["message-id"] for r in records)
    duplicates = sum(n - 1 for n in ids.values())
    by_event = Counter(dict(r.headers)["causation-id"].decode() for r in records)
    mine = {e["event_id"] for e in events}
    print(
        f"\ncluster: broker {victim} killed after {at_kill} of {EVENTS} events; "
        f"{AFTER_KILL} more sent while it was down; all committed {caught_up:.1f}s after "
        f"the kill; {len(records)} referral messages on {topic}, {len(ids)} message ids, "
        f"{duplicates} duplicates"
    )
    assert duplicates == 0
    assert mine <= set(by_event) and all(by_event[e] == 1 for e in mine)  # each event: one
    assert deployment.count("SELECT count(*) FROM inbound_events") - before == len(events)
    listed = ",".join(f"'{e}'" for e in mine)
    assert deployment.count(
        "SELECT count(*) FROM referrals WHERE source_event_id IN "  # noqa: S608
        f"({listed})"
    ) == len(events)


def _letter(deployment: Deployment, reason: str) -> int:
    return deployment.count(
        f"SELECT min(id) FROM dead_letters WHERE reason = '{reason}' "  # noqa: S608
        "AND status = 'open'"
    )


@pytest.fixture(scope="module")
def console(deployment: Deployment) -> Iterator[httpx.Client]:
    """`hub ops` on the cluster, and a browser's session of operator otto."""
    saved = deployment.hub_cli(
        "ops", "user", "otto", "--role", "operator", "--password-stdin", stdin=PASSWORD + "\n"
    )
    assert saved.returncode == 0, saved.stdout + saved.stderr
    port = free_ports()
    env = {**deployment.env, "HUB_OPS_PORT": str(port), "HUB_OPS_SECRET_KEY": "cluster-test"}
    served = subprocess.Popen(
        [HUB, "ops"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=15) as client:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert served.poll() is None and time.monotonic() < deadline
                time.sleep(0.2)  # polled until the deadline
            form = client.get("/login").text
            answer = client.post(
                "/login", data={"username": "otto", "password": PASSWORD, "csrf": _csrf(form)}
            )
            assert answer.status_code == 303, answer.text
            yield client
    finally:
        served.terminate()
        served.wait(30)


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf"\s+value="([^"]+)"', page)
    assert found, page[:500]
    return found.group(1)


def test_the_console_serves_its_pages_and_a_replay_reaches_the_cluster(
    deployment: Deployment,
    console: httpx.Client,
) -> None:
    overview = console.get("/")
    assert overview.status_code == 200
    assert re.search(r'id="broker">\s*reachable', overview.text), overview.text[:2000]
    assert f"{deployment.topics.prefix}hub.custody-events" in overview.text  # its group's lag
    assert console.get("/readyz").status_code == 200
    for path in ("/dead-letters", "/triage", "/audit", "/admin/users"):
        assert console.get(path).status_code in {200, 403}, path
    letter = _letter(deployment, "contract_violation")  # the demo's broken example
    listed = console.get("/dead-letters", params={"reason": "contract_violation"})
    assert f'href="/dead-letters/{letter}"' in listed.text
    page = console.get(f"/dead-letters/{letter}").text
    replayed = console.post(
        f"/dead-letters/{letter}/replay",
        data={
            "csrf": _csrf(page),
            "version": 0,
            "path": "payload.results.opiates",
            "value": "positive",
            "reason": "confirmed positive by phone",
        },
    )
    assert replayed.status_code == 303, replayed.text[:2000]

    deadline = time.monotonic() + 60
    while "processed: referred" not in console.get(f"/dead-letters/{letter}").text:
        assert time.monotonic() < deadline, "the hub did not process the replay"
        time.sleep(0.5)  # polled until the deadline
    custody = deployment.topics.custody_events
    sent = run_blocking(read_all(deployment.bootstrap, [custody]))[custody]
    replays = [r for r in sent if dict(r.headers).get("hub.replay.of") == str(letter).encode()]
    assert len(replays) == 1
    assert json.loads(replays[0].value)["payload"]["results"]["opiates"] == "positive"


def test_every_hub_command_that_talks_to_kafka_works_on_the_cluster(
    deployment: Deployment,
) -> None:
    # hub dlq list / show / replay: the replayed message goes to the cluster, the hub reads it.
    listed = deployment.hub_cli("dlq", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    letter = _letter(deployment, "invalid_json")
    assert letter in {row["id"] for row in json.loads(listed.stdout)}
    shown = deployment.hub_cli("dlq", "show", str(letter))
    assert shown.returncode == 0 and "invalid_json" in shown.stdout, shown.stdout
    replayed = deployment.hub_cli(
        "dlq", "replay", str(letter), "--operator", "cli-otto", "--wait", "60"
    )
    assert replayed.returncode == 0, replayed.stdout + replayed.stderr
    where = re.search(r"replayed to (\S+) partition (\d+) offset (\d+)", replayed.stdout)
    assert where and where.group(1) == deployment.topics.custody_events, replayed.stdout
    # Unchanged, it fails again, but the hub has read it from the cluster: an outcome.
    assert "outcome: " in replayed.stdout and "still waiting" not in replayed.stdout, (
        replayed.stdout
    )
    custody = deployment.topics.custody_events
    sent = run_blocking(read_all(deployment.bootstrap, [custody]))[custody]
    assert any(
        r.partition == int(where.group(2))
        and r.offset == int(where.group(3))
        and dict(r.headers).get("hub.replay.of") == str(letter).encode()
        for r in sent
    )

    # hub access apply / users: the ACLs and SCRAM credentials, on the cluster's controllers.
    applied = deployment.hub_cli("access", "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    planned = re.search(r"(\d+) ACLs planned: (\d+) created, 0 removed", applied.stdout)
    assert planned and planned.group(1) == planned.group(2) != "0", applied.stdout
    again = deployment.hub_cli("access", "apply")
    assert f"{planned.group(1)} ACLs planned: 0 created, 0 removed" in again.stdout, again.stdout
    user = Principals(deployment.topics.prefix).hub
    credential = deployment.hub_cli("access", "users", user, stdin=f"{user}=s3cret-enough\n")
    assert credential.returncode == 0 and f"credential set  {user}" in credential.stdout, (
        credential.stdout + credential.stderr
    )

    # What the hub recorded from the cluster: stats and the report.
    stats = deployment.hub_cli("stats", "--json")
    assert stats.returncode == 0 and json.loads(stats.stdout), stats.stderr
    report = deployment.hub_cli(
        "report", "kpis", "--from", "2026-01-01", "--to", "2026-12-31", "--format", "json"
    )
    assert report.returncode == 0 and json.loads(report.stdout)["indicators"], report.stderr

    # hub simulate: a small year (its report window holds nothing else: the other tests' events
    # are of today) through the cluster and the running hub, its report checked against what
    # it simulated and the published rates (the scale and seed of tests/e2e: at smaller scales
    # a rate of a few cases cannot come within 2% of the published one).
    simulated = deployment.hub_cli(
        "simulate", "--year", "2022", "--seed", str(SEED), "--scale", str(SCALE), timeout=300
    )
    assert simulated.returncode == 0, simulated.stdout[-3000:] + simulated.stderr[-2000:]
