"""`hub ops` (the console, and its users), `hub dlq` (dead letters from the terminal),
`hub requests` (court and probation requests past their date) and `hub retention` (the
retention policy for the hub's copies of messages)."""

from __future__ import annotations

import json
import sys
import time
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from hub.settings import Settings

ops_cli = typer.Typer(help="The operations console (web) and its users.")
dlq_cli = typer.Typer(
    help="Dead letters: list, show, replay, discard (audited).", no_args_is_help=True
)
requests_cli = typer.Typer(
    help="Court and probation requests for an assessment.", no_args_is_help=True
)
retention_cli = typer.Typer(
    help="The retention policy for the hub's copies of messages.", no_args_is_help=True
)
console = Console()
Actor = Annotated[str, typer.Option("--operator", help="Who does this (recorded).")]


@ops_cli.callback(invoke_without_command=True)
def serve(ctx: typer.Context) -> None:
    """Run the console on HUB_OPS_HOST:HUB_OPS_PORT until Ctrl-C."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from hub.adapters.postgres.migrate import upgrade
    from hub.bootstrap import services as _services
    from hub.entrypoints.console.app import build_console

    settings = Settings()
    bootstrap, url = _services(settings)
    upgrade(url)
    app = build_console(settings, bootstrap=bootstrap, database_url=url)
    console.print(f"console on http://{settings.ops_host}:{settings.ops_port}/")
    uvicorn.run(app, host=settings.ops_host, port=settings.ops_port, log_level="info")


@ops_cli.command("user")
def user(
    username: str,
    role: Annotated[
        str | None,
        typer.Option(
            help="viewer, operator or admin (a new user: viewer unless given; an existing one "
            "keeps their role unless given)."
        ),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option(help="Read the password from standard input (for scripts).")
    ] = False,
    disable: Annotated[
        bool | None,
        typer.Option(
            "--disable/--enable", help="Disable or enable the user (nothing else changes)."
        ),
    ] = None,
) -> None:
    """Create a console user, or set a new password (and the role, when given); or disable /
    enable one. A new password ends the user's console sessions."""
    import getpass

    from hub.bootstrap import run_operations
    from hub.core.operators import Role
    from hub.service.operations.users import change_user, save_user

    actor = f"cli:{getpass.getuser()}"  # whoever has the database's credentials here
    if disable is not None:
        try:
            run_operations(
                lambda ops: change_user(
                    ops.users, username, disabled=disable, actor=actor, now=datetime.now(UTC)
                )
            )
        except LookupError as missing:
            console.print(f"[red]{missing}[/red]")
            raise typer.Exit(1) from None
        console.print(f"user {username} {'disabled' if disable else 'enabled'}")
        return
    password = (
        sys.stdin.readline().rstrip("\n")
        if password_stdin
        else typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    )
    try:
        chosen = Role(role) if role else None
        run_operations(
            lambda ops: save_user(
                ops.users, username, password, chosen, datetime.now(UTC), actor=actor
            )
        )
    except ValueError as refused:
        console.print(f"[red]{refused}[/red]")
        raise typer.Exit(1) from None
    console.print(f"user {username} saved" + (f" ({role})" if role else ""))


@dlq_cli.command("list")
def dlq_list(
    topic: Annotated[str | None, typer.Option(help="Dead-letter topic.")] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    source: Annotated[str | None, typer.Option(help="Source system.")] = None,
    status: Annotated[
        str, typer.Option(help="open, replaying, replayed, discarded or any.")
    ] = "open",
    since: Annotated[
        str | None, typer.Option(help="Recorded from (ISO date/time; without a zone, UK time).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Recorded before (as --since).")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Dead letters, newest first."""
    from hub.bootstrap import run_operations
    from hub.core.dead_letters import Filters
    from hub.service.operations.deadletters import find

    filters = Filters(
        topic,
        reason,
        source,
        None if status == "any" else status,
        _moment(since, "--since"),
        _moment(until, "--until"),
    )
    rows = run_operations(lambda ops: find(ops.dead_letters, filters))
    fields = (
        "id",
        "recorded_at",
        "dlq_topic",
        "source_system",
        "event_type",
        "stage",
        "reason",
        "status",
    )
    known = Settings().known_sources

    def shown(row: Any, name: str) -> Any:
        value = getattr(row, name)
        return known.system(value) if name == "source_system" else value

    if as_json:
        typer.echo(json.dumps([{f: shown(r, f) for f in fields} for r in rows], default=str))
        return
    table = Table(*fields)
    for r in rows:
        table.add_row(
            *(
                f"{r.recorded_at:%Y-%m-%d %H:%M:%S}"
                if f == "recorded_at"
                else str(shown(r, f) or "")
                for f in fields
            )
        )
    console.print(table)


@dlq_cli.command("show")
def dlq_show(
    letter_id: int,
    reveal: Annotated[
        bool, typer.Option(help="Show personal fields (recorded; needs --operator and --reason).")
    ] = False,
    operator: Annotated[str | None, typer.Option()] = None,
    reason: Annotated[str | None, typer.Option()] = None,
) -> None:
    """One dead letter: why it failed, its error headers, the message (masked) and history."""
    from hub.bootstrap import run_operations
    from hub.core.masking import masked
    from hub.core.moments import uk_time
    from hub.service.operations import deadletters as dl

    letter = run_operations(lambda ops: dl.show(ops.dead_letters, letter_id, datetime.now(UTC)))
    if letter is None:
        console.print(f"[red]no dead letter {letter_id}[/red]")
        raise typer.Exit(1)
    row, known = letter.row, Settings().known_sources
    facts = Table("", "", show_header=False)
    for name in (
        "id",
        "status",
        "reason",
        "stage",
        "error_class",
        "error_message",
        "topic",
        "partition",
        "offset",
        "source_system",
        "event_type",
        "recorded_at",
        "version",
    ):
        value = getattr(row, name)
        facts.add_row(name, str(known.system(value) if name == "source_system" else value))
    console.print(facts)
    console.print("error headers (written by the hub):", highlight=False)
    for name, value in letter.error_headers:
        console.print(f"  {name}: {value}", highlight=False, markup=False)
    if letter.producer_hub_headers:
        console.print(
            "hub.* headers sent by the producer (not written by the hub; values masked):",
            highlight=False,
        )
        for name in letter.producer_hub_headers:
            console.print(f"  {name}: •••", highlight=False, markup=False)
    if letter.purged_at is not None:
        console.print(f"message removed on {uk_time(letter.purged_at)} (retention policy)")
    elif reveal:
        if not (operator and reason):
            console.print("[red]--reveal needs --operator and --reason[/red]")
            raise typer.Exit(2)
        revealed = run_operations(
            lambda ops: dl.reveal(
                ops.dead_letters, letter_id, actor=operator, now=datetime.now(UTC), reason=reason
            )
        )
        console.print(revealed.decode(errors="replace"), highlight=False, markup=False)
    else:
        console.print(masked(letter.value, known), highlight=False, markup=False)
    for action in letter.actions:
        console.print(
            f"{action['at']:%Y-%m-%d %H:%M} {action['actor']} {action['action']}"
            f" {action['reason'] or ''} {action['edits_shown']}"
            f" {action['outcome'] or ''}",
            highlight=False,
            markup=False,
        )


@dlq_cli.command("replay")
def dlq_replay(
    letter_id: int,
    operator: Actor,
    set_field: Annotated[
        list[str] | None,
        typer.Option("--set", help="path=value to correct before replaying (repeatable)."),
    ] = None,
    reason: Annotated[str | None, typer.Option()] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the outcome.")] = 30.0,
) -> None:
    """Republish the original (or corrected) message to its source topic; once only."""
    from hub.bootstrap import Operations, run_operations
    from hub.core.dead_letters import AlreadyActedOn, EditRefused
    from hub.service.operations import deadletters as dl

    edits = [tuple(s.split("=", 1)) for s in set_field or []]
    if any(len(e) != 2 for e in edits):
        console.print("[red]--set needs path=value[/red]")
        raise typer.Exit(2)
    letter = run_operations(lambda ops: dl.show(ops.dead_letters, letter_id))
    if letter is None:
        console.print(f"[red]no dead letter {letter_id}[/red]")
        raise typer.Exit(1)

    async def go(ops: Operations) -> dict[str, Any]:
        producer = await _producer()
        try:
            return await dl.replay(
                ops.dead_letters,
                producer,
                letter_id,
                version=letter.row.version,
                actor=operator,
                now=datetime.now(UTC),
                edits=[(path, value) for path, value in edits] or None,
                reason=reason,
            )
        finally:
            await producer.stop()

    try:
        action = run_operations(go)
    except (AlreadyActedOn, EditRefused) as refused:
        console.print(f"[red]not replayed[/red]: {refused}")
        raise typer.Exit(1) from None
    console.print(
        f"replayed to {action['replay_topic']} partition "
        f"{action['replay_partition']} offset {action['replay_offset']}"
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        found = run_operations(lambda ops: dl.show(ops.dead_letters, letter_id))
        result = found.actions[-1]["outcome"] if found and found.actions else None
        if result and result != "waiting for the hub":
            console.print(f"outcome: {result}")
            return
        time.sleep(0.5)
    console.print("outcome: still waiting for the hub (see `hub dlq show`)")


@dlq_cli.command("discard")
def dlq_discard(
    letter_id: int,
    operator: Actor,
    reason: Annotated[str, typer.Option(help="Why (required, recorded).")],
) -> None:
    """Give up on a dead letter, saying why; once only."""
    from hub.bootstrap import run_operations
    from hub.core.dead_letters import AlreadyActedOn
    from hub.service.operations import deadletters as dl

    letter = run_operations(lambda ops: dl.show(ops.dead_letters, letter_id))
    if letter is None:
        console.print(f"[red]no dead letter {letter_id}[/red]")
        raise typer.Exit(1)
    try:
        run_operations(
            lambda ops: dl.discard(
                ops.dead_letters,
                letter_id,
                version=letter.row.version,
                actor=operator,
                reason=reason,
                now=datetime.now(UTC),
            )
        )
    except (AlreadyActedOn, ValueError) as refused:
        console.print(f"[red]not discarded[/red]: {refused}")
        raise typer.Exit(1) from None
    console.print(f"dead letter {letter_id} discarded")


def _moment(text: str | None, option: str) -> datetime | None:
    from hub.core.dead_letters import uk_moment

    try:
        return uk_moment(text)
    except ValueError as refused:
        console.print(f"[red]{option}: {refused}[/red]")
        raise typer.Exit(2) from None


async def _producer() -> Any:
    from hub.bootstrap import operator_producer
    from hub.bootstrap import services as _services

    bootstrap, _ = _services(Settings())
    producer = operator_producer(bootstrap)
    await producer.start()
    return producer


@requests_cli.command("lapse")
def requests_lapse() -> None:
    """Close the court and probation requests whose date (the hearing, the report's due date)
    passed more than HUB_REQUEST_LAPSE_GRACE_DAYS ago unanswered, and withdraw them for the
    arrest referral team (run daily). Without the broker the updates wait in the outbox for
    the relay of `hub run`; the command still succeeds."""
    from datetime import timedelta

    from hub.adapters.kafka.on_demand import ProducerOnDemand
    from hub.bootstrap import Operations, operator_producer, run_operations, triage_env
    from hub.bootstrap import services as _services
    from hub.core.providers import load_providers
    from hub.core.topics import Topics
    from hub.service.operations import triage as tr

    settings = Settings()
    providers = load_providers(settings.providers_file)
    env = triage_env(settings, providers, Topics.of(providers, settings.topic_prefix))
    grace = timedelta(days=settings.request_lapse_grace_days)

    async def go(ops: Operations) -> tuple[tr.LapseRun, str]:
        run = await tr.lapse_past_due(ops.triage, env, now=datetime.now(UTC), grace=grace)
        if not run.pending:
            return run, ""
        bootstrap, _ = _services(settings)
        producer = ProducerOnDemand(lambda: operator_producer(bootstrap, request_timeout_ms=10_000))
        try:
            await tr.publish(ops.outbox(producer, lambda: datetime.now(UTC)), run.pending)
        except tr.NotAcknowledged as left:
            return run, f"{left}: they wait in the outbox for the relay of `hub run`"
        finally:
            await producer.stop()
        return run, ""

    run, waiting = run_operations(go)
    console.print(f"{run.lapsed} request(s) past their date closed")
    if waiting:
        console.print(f"[yellow]{waiting}[/yellow]")


@retention_cli.command("purge")
def retention_purge(
    dry_run: bool = typer.Option(False, "--dry-run", help="Count what would be emptied."),
) -> None:
    """Empty the hub's copies of messages older than the retention policy allows: sent ones
    HUB_RETAIN_MESSAGES_DAYS after the broker acknowledged them, dead letters' messages
    HUB_RETAIN_DEAD_LETTERS_DAYS after they were replayed or discarded (run daily). The rows
    stay (what went where, when); an unset period keeps its copies. A run that applies a period
    is recorded."""
    from hub.bootstrap import Operations, run_operations
    from hub.service.operations import retention

    settings = Settings()
    policy = retention.Policy.of_days(
        settings.retain_messages_days, settings.retain_dead_letters_days
    )
    if policy.keeps_everything:
        console.print(
            "no retention period is set (HUB_RETAIN_MESSAGES_DAYS, "
            "HUB_RETAIN_DEAD_LETTERS_DAYS): every copy is kept"
        )
        return

    async def go(ops: Operations) -> retention.Purged:
        return await retention.purge(ops.retention, policy, now=datetime.now(UTC), dry_run=dry_run)

    purged = run_operations(go)
    verb = "would be emptied" if dry_run else "emptied"
    console.print(
        f"{purged.messages} sent message(s) and {purged.dead_letters} dead letter(s) {verb}"
    )
