"""`hub access`: the broker's principals and ACLs, from the provider directory."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from hub.bootstrap import broker_access
from hub.core.access import Grant, Principals, access_plan
from hub.core.providers import load_providers
from hub.core.topics import Topics
from hub.settings import Settings

access_cli = typer.Typer(
    help="Who may read and write which topics on the broker (ACLs and "
    "SCRAM users, one per partner).",
    no_args_is_help=True,
)
console = Console()
STRIMZI_FILE = Path("deploy/k8s/strimzi/access.yaml")


def _plan(settings: Settings) -> tuple[Principals, Topics, tuple[Grant, ...]]:
    providers = load_providers(settings.providers_file)
    topics = Topics.of(providers, settings.topic_prefix)
    principals = Principals(settings.access_namespace)
    return (
        principals,
        topics,
        access_plan(providers, topics, principals, hub_group=settings.consumer_group),
    )


@access_cli.command("plan")
def plan() -> None:
    """Print every ACL the broker should hold: principal, operation, resource."""
    for grant in _plan(Settings())[2]:
        console.print(str(grant), highlight=False, soft_wrap=True)


@access_cli.command("apply")
def apply() -> None:
    """Create the planned ACLs and remove those the plan's principals hold beyond it
    (idempotent: a second run changes nothing)."""
    from hub.adapters.kafka.acls import apply_plan

    settings = Settings()
    principals, _, planned = _plan(settings)
    done = asyncio.run(apply_plan(broker_access(settings), planned, principals))
    for grant in done.create:
        console.print(f"created  {grant}", highlight=False, soft_wrap=True)
    for grant in done.delete:
        console.print(f"removed  {grant}", highlight=False, soft_wrap=True)
    console.print(
        f"{len(planned)} ACLs planned: {len(done.create)} created, {len(done.delete)} removed"
    )


@access_cli.command("users")
def users(
    names: Annotated[
        list[str] | None,
        typer.Argument(
            help="The users to create or rotate (default: every principal of the plan)."
        ),
    ] = None,
) -> None:
    """Create or rotate SCRAM-SHA-512 credentials. Passwords are read from stdin, one line
    `user=password` each (at a terminal: asked for, hidden); they are never printed."""
    from hub.adapters.kafka.acls import upsert_scram_users

    settings = Settings()
    known = Principals(settings.access_namespace).all(load_providers(settings.providers_file))
    wanted = names or list(known)
    if unknown := sorted(set(wanted) - set(known)):
        raise typer.BadParameter(f"not a principal of the plan: {', '.join(unknown)}")
    if sys.stdin.isatty():
        passwords = {u: typer.prompt(f"password for {u}", hide_input=True) for u in wanted}
    else:
        passwords = {}
        for line in sys.stdin.read().splitlines():
            user, sep, password = line.partition("=")
            if line.strip() and (not sep or not password):
                raise typer.BadParameter("each line must be user=password")
            if user in wanted:
                passwords[user] = password
    if missing := [u for u in wanted if u not in passwords]:
        raise typer.BadParameter(f"no password given for {', '.join(missing)}")
    asyncio.run(upsert_scram_users(broker_access(settings), passwords))
    for user in passwords:
        console.print(f"credential set  {user}", highlight=False)


@access_cli.command("strimzi")
def strimzi(
    check: Annotated[bool, typer.Option(help="Fail if the file differs from the plan.")] = False,
    out: Annotated[Path, typer.Option(help="Where to write.")] = STRIMZI_FILE,
    cluster: Annotated[str, typer.Option(help="The Strimzi cluster's name.")] = "referral-hub",
    replicas: Annotated[int, typer.Option(help="Topic replicas.")] = 3,
) -> None:
    """Render the plan as Strimzi KafkaTopic and KafkaUser resources."""
    from hub.entrypoints.strimzi import render, strimzi_resources

    settings = Settings()
    providers = load_providers(settings.providers_file)
    principals, topics, _ = _plan(settings)
    text = render(
        strimzi_resources(
            providers,
            topics,
            principals,
            hub_group=settings.consumer_group,
            cluster=cluster,
            partitions=settings.topic_partitions,
            replicas=replicas,
        )
    )
    if check:
        if not out.exists() or out.read_text() != text:
            console.print(f"[red]{out} differs from the plan: run `hub access strimzi`[/red]")
            raise typer.Exit(1)
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    console.print(f"wrote {out}")
