"""The `hub` command line."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from hub.bootstrap import database, in_transaction, services
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.adapters.postgres.report import Report
    from hub.core.providers import ProviderDirectory

app = typer.Typer(
    help="Referral Hub: custody, court and probation events to one shared "
    "assessment, routed to the right treatment provider.",
    no_args_is_help=True,
)
dev = typer.Typer(help="The local development broker and database.", no_args_is_help=True)
topics_cli = typer.Typer(help="Kafka topics.", no_args_is_help=True)
db_cli = typer.Typer(help="The hub's database.", no_args_is_help=True)
contracts_cli = typer.Typer(help="The published message contracts.", no_args_is_help=True)
person_cli = typer.Typer(
    help="Persons in the registry (operator actions, audited).", no_args_is_help=True
)
app.add_typer(dev, name="dev")
app.add_typer(topics_cli, name="topics")
app.add_typer(db_cli, name="db")
app.add_typer(contracts_cli, name="contracts")
app.add_typer(person_cli, name="person")
report_cli = typer.Typer(help="Reports for the commissioner.", no_args_is_help=True)
app.add_typer(report_cli, name="report")
console = Console()


@dev.command("up")
def dev_up() -> None:
    """Start the local Kafka broker and PostgreSQL (each only if not running)."""
    from hub.adapters.local.services import LocalServices

    settings = Settings()
    local = LocalServices.from_settings(settings)
    bootstrap, url = local.up()
    console.print(
        f"kafka     {bootstrap}  (PLAINTEXT, loopback only: the quick start's)\n"
        f"kafka     {local.kafka.secure_bootstrap}  (SASL_SSL, SCRAM-SHA-512, CA "
        f"{local.kafka.certificates.ca_file}; principals: `hub access`)\n"
        f"postgres  {url}"
    )


@dev.command("down")
def dev_down() -> None:
    """Stop the local Kafka broker and PostgreSQL."""
    from hub.adapters.local.services import LocalServices

    LocalServices.from_settings(Settings()).down()
    console.print("local broker and database stopped")


@dev.command("status")
def dev_status() -> None:
    """Say whether the local broker and database are running."""
    from hub.adapters.local.services import LocalServices

    for name, running in LocalServices.from_settings(Settings()).status().items():
        console.print(f"{name:<9} {'running' if running else 'stopped'}")


@topics_cli.command("create")
def topics_create() -> None:
    """Create every topic the hub reads and writes (existing ones are left alone)."""
    from hub.adapters.kafka.topics import create_topics
    from hub.core.providers import load_providers
    from hub.core.topics import Topics

    settings = Settings()
    bootstrap, _ = services(settings)
    providers = load_providers(settings.providers_file)
    names = Topics.of(providers, settings.topic_prefix).all(providers)
    created = asyncio.run(
        create_topics(
            bootstrap,
            names,
            settings.topic_partitions,
            settings.topic_replication_factor,
            settings.topic_min_insync_replicas,
        )
    )
    for name in names:
        console.print(f"{name:<40} {'created' if name in created else 'exists'}")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    from hub.adapters.postgres.migrate import upgrade

    upgrade(database(Settings()))
    console.print("database schema is up to date")


@app.command()
def stats(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Assessments avoided by reuse, duplicate referrals avoided, and the totals behind them."""
    import json

    from rich.table import Table

    from hub.adapters.postgres.stats import reuse_stats

    counts: dict[str, int] = in_transaction(reuse_stats)
    if as_json:
        typer.echo(json.dumps(counts))
        return
    table = Table("measure", "count")
    for name, value in counts.items():
        table.add_row(name.replace("_", " "), str(value))
    console.print(table)


Operator = Annotated[str, typer.Option(help="Who does this (recorded in the audit).")]
Reason = Annotated[str, typer.Option(help="Why (recorded in the audit).")]


@person_cli.command("merge")
def person_merge(keep: str, other: str, operator: Operator, reason: Reason) -> None:
    """Merge person OTHER into person KEEP (e.g. a confirmed possible match)."""
    from datetime import UTC, datetime

    from hub.adapters.postgres.merges import MergeRefused, merge, refuse_under_review

    async def merged(conn: Any) -> int:
        await refuse_under_review(conn, keep, other)
        return await merge(
            conn, keep, other, operator=operator, reason=reason, now=datetime.now(UTC)
        )

    try:
        merge_id = in_transaction(merged)
    except MergeRefused as refused:
        console.print(f"[red]refused[/red]: {refused}")
        raise typer.Exit(1) from None
    console.print(
        f"merged {other} into {keep} (merge {merge_id}; undo: hub person unmerge {merge_id})"
    )


@person_cli.command("unmerge")
def person_unmerge(merge_id: int, operator: Operator, reason: Reason) -> None:
    """Undo merge MERGE_ID: everything it moved goes back. Lists every message the hub sent
    about either person while the merge stood, for staff to check with the recipients."""
    from datetime import UTC, datetime

    from hub.adapters.postgres.merges import MergeRefused, unmerge
    from hub.core.moments import uk_time

    try:
        sent = in_transaction(
            lambda conn: unmerge(
                conn, merge_id, operator=operator, reason=reason, now=datetime.now(UTC)
            )
        )
    except MergeRefused as refused:
        console.print(f"[red]refused[/red]: {refused}")
        raise typer.Exit(1) from None
    console.print(f"merge {merge_id} undone")
    if not sent:
        console.print("the hub sent nothing about either person while it stood")
        return
    console.print(
        f"[yellow]While the merge stood the hub sent {len(sent)} message(s) about one of the "
        "two persons, decided on both records taken as one: check each with its recipient "
        "(who knows it by its message id).[/yellow]"
    )
    for message in sent:  # one line each (ids whole, for a search), no markup read
        console.print(
            f"{message.message_id}  {message.topic}  {message.message_type}  {uk_time(message.at)}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@person_cli.command("merges")
def person_merges_list(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The merge audit: who merged whom, when, why, and whether it was undone."""
    import json

    from rich.table import Table

    from hub.adapters.postgres.merges import merges

    rows = in_transaction(merges)
    if as_json:
        fields = (
            "id",
            "kept_person_id",
            "merged_person_id",
            "operator",
            "reason",
            "merged_at",
            "unmerged_by",
            "unmerge_reason",
            "unmerged_at",
        )
        typer.echo(json.dumps([{f: getattr(r, f) for f in fields} for r in rows], default=str))
        return
    table = Table("id", "kept", "merged", "by", "when", "why", "undone")
    for row in rows:
        undone = (
            f"{row.unmerged_at:%Y-%m-%d %H:%M} by {row.unmerged_by}: {row.unmerge_reason}"
            if row.unmerged_at
            else ""
        )
        table.add_row(
            str(row.id),
            row.kept_person_id,
            row.merged_person_id,
            row.operator,
            f"{row.merged_at:%Y-%m-%d %H:%M}",
            row.reason,
            undone,
        )
    console.print(table)


def _report(first: date, last: date, providers: ProviderDirectory) -> Report:
    """The KPI report for the days `first` to `last` (included), from the hub's registry."""
    from hub.adapters.postgres.report import compute

    report: Report = in_transaction(lambda conn: compute(conn, first, last, providers))
    return report


class ReportFormat(StrEnum):
    TABLE = "table"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


@report_cli.command("kpis")
def report_kpis(
    start: Annotated[
        datetime,
        typer.Option("--from", formats=["%Y-%m-%d"], help="First day of the period (UK date)."),
    ],
    end: Annotated[
        datetime,
        typer.Option("--to", formats=["%Y-%m-%d"], help="Last day of the period, included."),
    ],
    output_format: Annotated[ReportFormat, typer.Option("--format")] = ReportFormat.TABLE,
    output: Annotated[
        Path | None, typer.Option(help="Write to this file instead of standard output.")
    ] = None,
    no_suppression: Annotated[
        bool,
        typer.Option(
            "--no-suppression",
            help="Show the small counts (1 to 4) of the breakdowns too (for internal use only).",
        ),
    ] = False,
) -> None:
    """The commissioner's indicators for a period, by authority, site and month; counts of 1
    to 4 in the breakdowns are suppressed (`<5`) unless --no-suppression."""
    from datetime import UTC

    from hub.core.providers import load_providers
    from hub.entrypoints.report.html import as_html
    from hub.entrypoints.report.render import as_csv, as_json, print_table

    if end < start:
        console.print("[red]--to is before --from[/red]")
        raise typer.Exit(2)
    providers = load_providers(Settings().providers_file)
    report = _report(start.date(), end.date(), providers)
    if output_format is ReportFormat.TABLE:
        if output is None:
            print_table(report, console, suppress=not no_suppression)
            return
        with output.open("w", encoding="utf-8") as file:
            print_table(
                report,
                Console(file=file, width=160, color_system=None),
                suppress=not no_suppression,
            )
        console.print(f"wrote {output}")
        return
    if output_format is ReportFormat.HTML:
        text = as_html(report, datetime.now(UTC), suppress=not no_suppression)
    elif output_format is ReportFormat.CSV:
        text = as_csv(report, suppress=not no_suppression)
    else:
        text = as_json(report, suppress=not no_suppression)
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output}")


@contracts_cli.command("export")
def contracts_export(
    check: Annotated[
        bool,
        typer.Option(
            help="Fail when the committed files differ from the code instead of writing them."
        ),
    ] = False,
    directory: Annotated[Path, typer.Option("--dir", help="Where the contracts live.")] = Path(
        "contracts"
    ),
) -> None:
    """Write JSON Schemas, the AsyncAPI document and the FHIR Questionnaire from the code."""
    from hub.entrypoints.contracts_export import drift, write

    if check:
        stale = drift(directory)
        for path in stale:
            console.print(f"[red]drift[/red] {directory / path}")
        if stale:
            console.print("run `hub contracts export` and commit the result")
            raise typer.Exit(1)
        console.print("contracts match the code")
        return
    for path in write(directory):
        console.print(f"wrote {directory / path}")


@contracts_cli.command("validate")
def contracts_validate(
    files: Annotated[list[Path], typer.Argument(help="Message files.")],
    topic: Annotated[
        str | None,
        typer.Option(
            help="Validate as this input topic's consumer would (e.g. custody.events.v1, "
            "provider.birmingham.feedback.v1); "
            "default: any input topic."
        ),
    ] = None,
) -> None:
    """Check messages against the inbound contracts with the hub's own parser, offline; exit 1
    if any is invalid."""
    from hub.core.contracts.catalogue import ALL_EVENT_TYPES, INBOUND, catalogue_of
    from hub.core.contracts.validate import problems

    if topic is not None and catalogue_of(topic) is ALL_EVENT_TYPES:
        raise typer.BadParameter(f"one of {', '.join(INBOUND)}", param_hint="--topic")
    catalogue = catalogue_of(topic) if topic else ALL_EVENT_TYPES
    failed = 0
    for path in files:
        found = problems(path.read_bytes(), catalogue)
        failed += bool(found)
        if not found:
            console.print(f"[green]ok[/green]      {path}", highlight=False, soft_wrap=True)
        for problem in found:
            console.print(f"[red]invalid[/red] {path}: {problem}", highlight=False, soft_wrap=True)
    if failed:
        raise typer.Exit(1)


@app.command()
def simulate(
    year: Annotated[
        int,
        typer.Option(
            help="The financial year to simulate, by the year it "
            "starts: 2022 is 1 April 2022 to 31 March 2023."
        ),
    ] = 2022,
    seed: Annotated[int, typer.Option(help="Same seed, same year (a re-run is a redelivery).")] = 1,
    scale: Annotated[
        float, typer.Option(min=0.02, max=1.0, help="Fraction of the published volume.")
    ] = 1.0,
) -> None:
    """Publish a synthetic financial year (1 April to 31 March, UK dates; calibrated on
    2022/23) into the running hub (`hub run`), then check the hub's KPI report for that year
    against the published figures; exit 1 if it does not match."""
    from datetime import UTC

    from hub.core.providers import load_providers
    from hub.core.topics import Topics
    from hub.entrypoints.simulation.command import run_simulation

    if datetime(year + 1, 4, 1, tzinfo=UTC) > datetime.now(UTC):
        console.print("[red]the year must be over: events cannot happen in the future[/red]")
        raise typer.Exit(2)
    settings = Settings()
    bootstrap, _ = services(settings)
    providers = load_providers(settings.providers_file)
    passed = run_simulation(
        year=year,
        seed=seed,
        scale=scale,
        bootstrap=bootstrap,
        topics=Topics.of(providers, settings.topic_prefix),
        group_base=settings.consumer_group,
        providers=providers,
        report_of=lambda first, last: _report(first, last, providers),
        console=console,
    )
    if not passed:
        raise typer.Exit(1)


@app.command()
def run(
    demo: Annotated[
        bool, typer.Option(help="Publish the sample events and show where each one ends.")
    ] = False,
    examples: Annotated[Path, typer.Option(help="Where the samples are.")] = Path(
        "contracts/examples"
    ),
) -> None:
    """Run the hub's consumers until Ctrl-C."""
    from hub.adapters.kafka.topics import create_topics
    from hub.bootstrap import build_hub
    from hub.core.providers import load_providers
    from hub.core.topics import Topics

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    if settings.log_level == "DEBUG":  # the hub's own detail, not the clients' wire chatter
        for chatty in ("aiokafka", "faststream", "sqlalchemy", "asyncio"):
            logging.getLogger(chatty).setLevel(logging.INFO)
    bootstrap, url = services(settings)
    providers = load_providers(settings.providers_file)
    names = Topics.of(providers, settings.topic_prefix).all(providers)
    asyncio.run(
        create_topics(
            bootstrap,
            names,
            settings.topic_partitions,
            settings.topic_replication_factor,
            settings.topic_min_insync_replicas,
        )
    )
    hub = build_hub(settings, bootstrap=bootstrap, database_url=url)
    if settings.metrics_port is not None:
        from prometheus_client import start_http_server

        start_http_server(settings.metrics_port, addr=settings.metrics_host)
        console.print(f"metrics on http://{settings.metrics_host}:{settings.metrics_port}/metrics")
    if demo:
        from hub.bootstrap import operations
        from hub.entrypoints.cli.demo import publish_samples

        async def show_samples() -> None:
            console.print("[bold green]hub running[/bold green]; publishing the samples:")
            await publish_samples(
                bootstrap, hub.topics, operations(hub.engine).outcomes, examples, console
            )
            console.print(
                "[bold green]samples done[/bold green]; the hub keeps running (Ctrl-C stops it)"
            )

        async def start_demo() -> None:
            task = asyncio.get_running_loop().create_task(show_samples())
            hub.app.context.set_global("demo_task", task)

        hub.app.after_startup(start_demo)
    asyncio.run(hub.app.run())
    console.print("hub stopped")


def _add_operations() -> None:
    from hub.entrypoints.cli.access import access_cli
    from hub.entrypoints.cli.ops import dlq_cli, ops_cli, requests_cli, retention_cli
    from hub.entrypoints.cli.postcodes import postcodes_cli

    app.add_typer(ops_cli, name="ops")
    app.add_typer(dlq_cli, name="dlq")
    app.add_typer(requests_cli, name="requests")
    app.add_typer(retention_cli, name="retention")
    app.add_typer(postcodes_cli, name="postcodes")
    app.add_typer(access_cli, name="access")


_add_operations()
