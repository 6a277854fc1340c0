"""A local single-node Apache Kafka broker (KRaft), from Maven Central jars, on the machine's Java.

The jars are resolved once with Maven into `<var>/kafka/libs` and reused, so a second start needs no
network. The broker listens on 127.0.0.1 only and keeps its data and log under `<var>/kafka/`.

Two client listeners, both on loopback:
- PLAINTEXT (`port`): the quick start's. Its clients are `User:ANONYMOUS`, a super user: anyone on
  this machine may do anything through it, so it never leaves loopback.
- SASL_SSL (`port + 2`): SCRAM-SHA-512 over TLS (certificate from `hub.adapters.local.tls`). The
  `StandardAuthorizer` with `allow.everyone.if.no.acl.found=false` grants its principals only
  what their ACLs say (`hub access apply`); users are made with `hub access users`.

A node of a local cluster (`quorum` given, see `hub.adapters.local.cluster`) has the PLAINTEXT
listener only (the same authorizer, its clients super users) and the cluster's replication.
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import hashlib
import os
import shutil
import signal
import subprocess
import time
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from hub.adapters.local.process import is_running, read_pid, start_detached, stop_pid, wait_for_port
from hub.adapters.local.tls import BrokerCertificates

_POM = resources.files("hub.adapters.local").joinpath("pom.xml")
_LOG4J = resources.files("hub.adapters.local").joinpath("log4j2.xml")


T = TypeVar("T")


def run_blocking(work: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous code, even when called inside a running
    event loop (then on a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(work)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, work).result()


class LocalKafkaError(RuntimeError):
    """The local broker could not be prepared or started."""


@dataclass(frozen=True)
class Quorum:
    """A node's place in a local cluster of combined broker+controller nodes: its id, every
    voter's (node id, controller port), the cluster's id, and its topics' replication."""

    node_id: int
    voters: tuple[tuple[int, int], ...]
    cluster_id: str
    replication: int = 3
    min_insync: int = 2

    def config(self) -> list[str]:
        """The replication of every topic, the internal ones included; and a broker that stops
        heartbeating is fenced (its partitions led elsewhere) after 3 s, not 9."""
        rf, isr = self.replication, self.min_insync
        return [
            f"default.replication.factor={rf}",
            f"min.insync.replicas={isr}",
            f"offsets.topic.replication.factor={rf}",
            f"transaction.state.log.replication.factor={rf}",
            f"transaction.state.log.min.isr={isr}",
            f"share.coordinator.state.topic.replication.factor={rf}",
            f"share.coordinator.state.topic.min.isr={isr}",
            "unclean.leader.election.enable=false",
            "broker.heartbeat.interval.ms=500",
            "broker.session.timeout.ms=3000",
        ]


#: The single node's replication: one copy of everything.
_SINGLE = [
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
]


@dataclass(frozen=True)
class LocalKafka:
    """The local broker's files and ports (and, in a local cluster, its place in the quorum)."""

    home: Path
    port: int
    libs_dir: Path | None = None
    heap: str = "-Xmx512m"
    quorum: Quorum | None = None
    jvm_options: tuple[str, ...] = ()

    @property
    def controller_port(self) -> int:
        return self.port + 1

    @property
    def secure_port(self) -> int:
        """The SASL_SSL (SCRAM-SHA-512) listener."""
        return self.port + 2

    @property
    def secure_bootstrap(self) -> str:
        return f"127.0.0.1:{self.secure_port}"

    @property
    def certificates(self) -> BrokerCertificates:
        """The local CA (`ca_file`: what clients of the secure listener verify against)."""
        return BrokerCertificates(self.home / "tls")

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def libs(self) -> Path:
        return self.libs_dir or self.home / "libs"

    @property
    def pid_file(self) -> Path:
        return self.home / "kafka.pid"

    @property
    def log_file(self) -> Path:
        return self.home / "server.log"

    def resolve_jars(self) -> None:
        """Copy Kafka and its runtime dependencies from Maven Central, once per pom version."""
        pom = _POM.read_bytes()
        stamp = self.libs / f".resolved-{hashlib.sha256(pom).hexdigest()[:16]}"
        if stamp.exists():
            return
        if shutil.which("mvn") is None:
            raise LocalKafkaError("Maven (mvn) is needed once to fetch the Kafka jars")
        if shutil.which("java") is None:
            raise LocalKafkaError("Java 17 is needed to run the local Kafka broker")
        shutil.rmtree(self.libs, ignore_errors=True)
        self.home.mkdir(parents=True, exist_ok=True)
        pom_path = self.home / "pom.xml"
        pom_path.write_bytes(pom)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "-B",
                "-f",
                str(pom_path),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={self.libs.resolve()}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalKafkaError(f"mvn could not resolve the Kafka jars:\n{result.stdout[-3000:]}")
        stamp.touch()

    def _security_config(self) -> list[str]:
        authorizer = [
            "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "allow.everyone.if.no.acl.found=false",
            # The loopback PLAINTEXT and CONTROLLER listeners' clients (the quick start, and the
            # broker talking to its own controller).
            "super.users=User:ANONYMOUS",
        ]
        if self.quorum is not None:
            return authorizer
        return [
            *authorizer,
            "sasl.enabled.mechanisms=SCRAM-SHA-512",
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config="
            "org.apache.kafka.common.security.scram.ScramLoginModule required;",
            *self.certificates.ensure().keystore_properties("sasl_ssl"),
        ]

    def _listener_config(self) -> list[str]:
        plain = f"PLAINTEXT://127.0.0.1:{self.port}"
        controller = f"CONTROLLER://127.0.0.1:{self.controller_port}"
        if self.quorum is None:
            secure = f"SASL_SSL://127.0.0.1:{self.secure_port}"
            return [
                "node.id=1",
                f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                f"listeners={plain},{controller},{secure}",
                f"advertised.listeners={plain},{secure}",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,"
                "SASL_SSL:SASL_SSL",
            ]
        voters = ",".join(f"{node}@127.0.0.1:{port}" for node, port in self.quorum.voters)
        return [
            f"node.id={self.quorum.node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners={plain},{controller}",
            f"advertised.listeners={plain}",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        ]

    def _write_config(self) -> Path:
        data = (self.home / "data").resolve()
        props = "\n".join(
            [
                "process.roles=broker,controller",
                *self._listener_config(),
                "controller.listener.names=CONTROLLER",
                *self._security_config(),
                "inter.broker.listener.name=PLAINTEXT",
                f"log.dirs={data}",
                "num.partitions=6",
                "offsets.topic.num.partitions=6",
                *(self.quorum.config() if self.quorum else _SINGLE),
                "group.initial.rebalance.delay.ms=0",
                "auto.create.topics.enable=false",
                "log.retention.hours=168",
                "",
            ]
        )
        path = self.home / "server.properties"
        path.touch(mode=0o600)  # it holds the broker's private key
        path.write_text(props)
        (self.home / "log4j2.xml").write_bytes(_LOG4J.read_bytes())
        return path

    def _java(self, main: str, *args: str, heap: str = "-Xmx512m") -> list[str]:
        return [
            "java",
            heap,
            *self.jvm_options,
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={(self.home / 'log4j2.xml').resolve()}",
            "-cp",
            f"{self.libs.resolve()}/*",
            main,
            *args,
        ]

    def _format_storage(self, config: Path) -> None:
        if (self.home / "data" / "meta.properties").exists():
            return
        cluster_id = self.quorum.cluster_id if self.quorum else new_cluster_id()
        result = subprocess.run(
            self._java(
                "kafka.tools.StorageTool",
                "format",
                "-t",
                cluster_id,
                "-c",
                str(config),
                heap="-Xmx256m",
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise LocalKafkaError(
                f"kafka StorageTool format failed:\n{result.stdout}{result.stderr}"
            )

    def is_running(self) -> bool:
        return is_running(read_pid(self.pid_file))

    def start(self) -> None:
        """Start the broker process unless it runs already; do not wait for it."""
        self.home.mkdir(parents=True, exist_ok=True)
        if self.is_running():
            return
        self.resolve_jars()
        config = self._write_config()
        self._format_storage(config)
        pid = start_detached(self._java("kafka.Kafka", str(config), heap=self.heap), self.log_file)
        self.pid_file.write_text(str(pid))

    def wait_until_serving(self, deadline: float) -> str:
        """Return once the broker accepts Kafka requests (by the `time.monotonic` deadline)."""
        wait_for_port("127.0.0.1", self.port, deadline, alive=self.is_running, log=self.log_file)
        run_blocking(_wait_until_serving(self.bootstrap, deadline))
        return self.bootstrap

    def up(self, timeout: float = 90.0) -> str:
        """Start the broker unless it runs already; return once it accepts Kafka requests."""
        self.start()
        return self.wait_until_serving(time.monotonic() + timeout)

    def down(self, grace: float = 30.0) -> None:
        """Stop the broker (SIGTERM, then SIGKILL after `grace` seconds)."""
        stop_pid(read_pid(self.pid_file), grace=grace)
        self.pid_file.unlink(missing_ok=True)

    def kill(self, timeout: float = 30.0) -> None:
        """SIGKILL the broker, as a crash would, and return once it is gone."""
        pid = read_pid(self.pid_file)
        if not is_running(pid):
            raise LocalKafkaError(f"the broker in {self.home} is not running")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + timeout
        while is_running(pid):
            if time.monotonic() > deadline:
                raise LocalKafkaError(f"broker {pid} still runs after SIGKILL")
            time.sleep(0.05)  # polled, with the deadline above
        self.pid_file.unlink(missing_ok=True)


def new_cluster_id() -> str:
    """A KRaft cluster id (URL-safe base64 of a UUID) that does not start with "-", which the
    StorageTool's argument parser would take for an option (Kafka's own tool avoids it too)."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not cluster_id.startswith("-"):
            return cluster_id


async def _wait_until_serving(bootstrap: str, deadline: float) -> None:
    """Poll with a deadline until the broker answers metadata requests."""
    from aiokafka.admin import AIOKafkaAdminClient

    last: Exception | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as exc:  # the broker is still starting; try again until the deadline
            last = exc
            await asyncio.sleep(0.5)
        finally:
            await admin.close()
    raise LocalKafkaError(f"the broker at {bootstrap} did not become ready: {last!r}")
