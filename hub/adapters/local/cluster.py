"""A local Apache Kafka cluster: several combined broker+controller nodes (KRaft, a controller
quorum of all of them), each a `LocalKafka` with its own ports and directory, on loopback, with
the jars of the single broker. Replication factor 3 and `min.insync.replicas=2` by default (what
a real deployment runs), so a node may be killed and the cluster keeps every acknowledged write.

Node `i` lives in `<home>/node-<i>/` and listens on `ports[i]` (PLAINTEXT) and `ports[i] + 1`
(its controller). The cluster's id is kept in `<home>/cluster.id`, so a node restarted later
rejoins the same cluster.
"""

from __future__ import annotations

import concurrent.futures
import time
from dataclasses import dataclass
from pathlib import Path

from hub.adapters.local.kafka import LocalKafka, Quorum, new_cluster_id


@dataclass(frozen=True)
class LocalKafkaCluster:
    """The cluster's files and ports; `nodes[i]` is one broker of it."""

    home: Path
    ports: tuple[int, ...]  # each node's PLAINTEXT listener (its controller: the port after)
    libs_dir: Path | None = None
    heap: str = "-Xmx384m"
    replication: int = 3
    min_insync: int = 2
    jvm_options: tuple[str, ...] = ()

    @property
    def cluster_id(self) -> str:
        path = self.home / "cluster.id"
        if not path.exists():
            self.home.mkdir(parents=True, exist_ok=True)
            path.write_text(new_cluster_id())
        return path.read_text().strip()

    @property
    def nodes(self) -> tuple[LocalKafka, ...]:
        voters = tuple((i + 1, port + 1) for i, port in enumerate(self.ports))
        cluster_id = self.cluster_id
        return tuple(
            LocalKafka(
                home=self.home / f"node-{node_id}",
                port=port,
                libs_dir=self.libs_dir or self.home / "libs",
                heap=self.heap,
                jvm_options=self.jvm_options,
                quorum=Quorum(node_id, voters, cluster_id, self.replication, self.min_insync),
            )
            for (node_id, _), port in zip(voters, self.ports, strict=True)
        )

    @property
    def bootstrap(self) -> str:
        """Every node, comma separated (as `HUB_KAFKA_BOOTSTRAP` lists a cluster)."""
        return ",".join(node.bootstrap for node in self.nodes)

    def up(self, timeout: float = 120.0) -> str:
        """Start every node not running, then wait until each serves (a node cannot serve
        before a majority of the quorum is up, so all start first); return the bootstrap."""
        nodes = self.nodes
        for node in nodes:
            node.start()
        deadline = time.monotonic() + timeout
        for node in nodes:
            node.wait_until_serving(deadline)
        return self.bootstrap

    def down(self, grace: float = 15.0) -> None:
        """Stop every node at once (one after another, the last ones would wait for a quorum
        that has gone), each killed if it has not stopped after `grace` seconds."""
        with concurrent.futures.ThreadPoolExecutor(len(self.ports)) as pool:
            list(pool.map(lambda node: node.down(grace), self.nodes))
