"""The deployment files agree with the code: settings they set exist, commands they run exist,
and the autoscaler watches exactly the hub's input topics and consumer groups."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import typer
import yaml

from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.entrypoints.cli.main import app
from hub.settings import Settings

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
K8S = DEPLOY / "k8s"


def documents(path: Path) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]


def manifests() -> list[dict[str, Any]]:
    return [d for p in sorted(K8S.glob("*.yaml")) for d in documents(p)]


def of_kind(kind: str) -> list[dict[str, Any]]:
    return [d for d in manifests() if d.get("kind") == kind]


def configmap() -> dict[str, str]:
    return of_kind("ConfigMap")[0]["data"]


SETTINGS = {f"HUB_{name.upper()}" for name in Settings.model_fields}


def hub_variables() -> set[str]:
    found: set[str] = set()
    for path in [*K8S.glob("*.yaml"), DEPLOY / "compose.yaml", DEPLOY / "env.example"]:
        found |= set(re.findall(r"\bHUB_[A-Z0-9_]+", path.read_text(encoding="utf-8")))
    return found - {"HUB_DB_PASSWORD"}  # compose's own variable, put into HUB_DATABASE_URL


def test_every_setting_the_deployment_sets_exists() -> None:
    unknown = hub_variables() - SETTINGS
    assert not unknown, f"not settings of the hub: {sorted(unknown)}"
    assert {"HUB_KAFKA_BOOTSTRAP", "HUB_DATABASE_URL", "HUB_OPS_SECRET_KEY"} <= hub_variables()


def command_exists(words: list[str]) -> bool:
    command: Any = typer.main.get_command(app)
    for word in words:
        if word.startswith("-"):
            break
        subcommands = getattr(command, "commands", {})
        if word not in subcommands:
            return False
        command = subcommands[word]
    # a command, or a group that runs on its own (`hub ops`)
    return not getattr(command, "commands", None) or command.invoke_without_command


def hub_commands() -> list[list[str]]:
    found: list[list[str]] = []
    pods = [d["spec"]["template"] for d in of_kind("Deployment") + of_kind("Job")]
    pods += [d["spec"]["jobTemplate"]["spec"]["template"] for d in of_kind("CronJob")]
    for pod in pods:
        for container in pod["spec"]["containers"]:
            if "args" in container:
                found.append(container["args"])
            for line in container.get("command", []):
                found += [part.split()[1:] for part in line.split("&&") if "hub " in part]
    compose = documents(DEPLOY / "compose.yaml")[0]["services"]
    for service in compose.values():
        found += [service["command"]] if "command" in service else []
        for line in service.get("entrypoint", []):
            found += [part.split()[1:] for part in line.split("&&") if "hub " in part]
    return found


def test_every_command_the_deployment_runs_exists() -> None:
    commands = hub_commands()
    assert ["run"] in commands and ["ops"] in commands and ["db", "upgrade"] in commands
    assert ["topics", "create"] in commands and ["requests", "lapse"] in commands
    assert ["retention", "purge"] in commands
    for words in commands:
        assert command_exists(words), words


def test_the_autoscaler_watches_every_input_topic_and_its_group() -> None:
    scaled = of_kind("ScaledObject")[0]["spec"]
    config = configmap()
    watched = {
        (t["metadata"]["topic"], t["metadata"]["consumerGroup"])
        for t in scaled["triggers"]
        if t["type"] == "kafka"
    }
    group = config["HUB_CONSUMER_GROUP"]
    topics = Topics.of(load_providers())
    assert watched == {
        (topic, f"{group}.{suffix}") for topic, suffix in topics.input_groups.items()
    }
    assert {t["metadata"]["bootstrapServers"] for t in scaled["triggers"]} == {
        config["HUB_KAFKA_BOOTSTRAP"]
    }
    assert scaled["maxReplicaCount"] == int(config["HUB_TOPIC_PARTITIONS"])
    assert scaled["scaleTargetRef"]["name"] in {
        d["metadata"]["name"] for d in of_kind("Deployment")
    }


@pytest.mark.parametrize("resource", documents(K8S / "kustomization.yaml")[0]["resources"])
def test_the_kustomization_lists_files_that_exist(resource: str) -> None:
    assert (K8S / resource).is_file()


def test_the_metrics_port_is_the_one_scraped() -> None:
    consumers = next(d for d in of_kind("Deployment") if d["metadata"]["name"] == "referral-hub")
    template = consumers["spec"]["template"]
    env = {e["name"]: e["value"] for e in template["spec"]["containers"][0]["env"]}
    assert env["HUB_METRICS_PORT"] == template["metadata"]["annotations"]["prometheus.io/port"]


def test_keda_authenticates_with_the_hubs_own_secret() -> None:
    auth = of_kind("TriggerAuthentication")[0]
    secret = next(d for d in documents(K8S / "secret.example.yaml"))
    refs = {r["parameter"]: r for r in auth["spec"]["secretTargetRef"]}
    assert set(refs) == {"sasl", "username", "password", "tls"}
    assert all(
        r["name"] == secret["metadata"]["name"] and r["key"] in secret["stringData"]
        for r in refs.values()
    )
    triggers = of_kind("ScaledObject")[0]["spec"]["triggers"]
    assert {t["authenticationRef"]["name"] for t in triggers} == {auth["metadata"]["name"]}
    assert configmap()["HUB_KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
