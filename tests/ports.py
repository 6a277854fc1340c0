"""Free local ports for the services a test run starts, so two runs at once do not collide.

Ports are drawn at random below the kernel's ephemeral range (32768 and up, where client sockets
could take them meanwhile) and checked by binding; `count` consecutive ports are reserved
together (Kafka's listener, controller and SASL listener)."""

from __future__ import annotations

import random
import socket

LOW, HIGH = 20_000, 32_000


def _free(port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def free_ports(count: int = 1) -> int:
    """The first of `count` consecutive free ports."""
    chooser = random.SystemRandom()
    for _ in range(500):
        base = chooser.randrange(LOW, HIGH - count)
        if all(_free(base + i) for i in range(count)):
            return base
    raise RuntimeError(f"no {count} free consecutive ports in {LOW}-{HIGH}")
