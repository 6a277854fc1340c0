"""The access plan as Strimzi resources for Kubernetes: one `KafkaUser` per principal
(SCRAM-SHA-512, its ACLs from `hub.core.access`) and one `KafkaTopic` per topic. `hub access
strimzi` renders them; deploy/k8s/strimzi/access.yaml is the rendered file, checked for drift by
a test."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from hub.core.access import Grant, Principals, access_plan
from hub.core.providers import ProviderDirectory
from hub.core.topics import Topics

API = "kafka.strimzi.io/v1beta2"


def _acls(grants: list[Grant]) -> list[dict[str, Any]]:
    by_resource: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for g in grants:
        by_resource[(g.resource.value, g.name, g.pattern.value)].append(
            g.operation.value.capitalize()
        )
    return [
        {
            "resource": {"type": kind, "name": name, "patternType": pattern},
            "operations": sorted(operations),
            "host": "*",
        }
        for (kind, name, pattern), operations in sorted(by_resource.items())
    ]


def strimzi_resources(
    providers: ProviderDirectory,
    topics: Topics,
    principals: Principals,
    *,
    hub_group: str,
    cluster: str,
    partitions: int,
    replicas: int,
) -> list[dict[str, Any]]:
    """KafkaTopic resources for every topic, then a KafkaUser for every principal."""
    labels = {"strimzi.io/cluster": cluster}
    plan = access_plan(providers, topics, principals, hub_group=hub_group)
    resources: list[dict[str, Any]] = [
        {
            "apiVersion": API,
            "kind": "KafkaTopic",
            "metadata": {
                "name": topic.replace(".", "-").replace("_", "-").lower(),
                "labels": labels,
            },
            "spec": {"topicName": topic, "partitions": partitions, "replicas": replicas},
        }
        for topic in topics.all(providers)
    ]
    for user in principals.all(providers):
        resources.append(
            {
                "apiVersion": API,
                "kind": "KafkaUser",
                "metadata": {"name": user, "labels": labels},
                "spec": {
                    "authentication": {"type": "scram-sha-512"},
                    "authorization": {
                        "type": "simple",
                        "acls": _acls([g for g in plan if g.user == user]),
                    },
                },
            }
        )
    return resources


def render(resources: list[dict[str, Any]]) -> str:
    """A multi-document YAML file (each document in JSON, which is YAML)."""
    head = (
        "# Rendered by `hub access strimzi` from hub/config/providers.json and the topic "
        "table; do not edit\n# (a test fails when this file and the code disagree).\n"
    )
    return head + "".join(f"---\n{json.dumps(r, indent=2)}\n" for r in resources)
