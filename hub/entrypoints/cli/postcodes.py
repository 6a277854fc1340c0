"""`hub postcodes load|status|lookup`: the operator's full-postcode directory."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

postcodes_cli = typer.Typer(
    help="The full-postcode directory (ONSPD/NSPL) that routes split postcode districts.",
    no_args_is_help=True,
)
console = Console()


def _in_transaction(action: Any) -> Any:
    from hub.bootstrap import in_transaction as run

    return run(action)


@postcodes_cli.command("load")
def postcodes_load(
    file: Annotated[
        Path,
        typer.Argument(
            help="An ONSPD or NSPL release: its zip, or the data CSV from it.",
            exists=True,
            dir_okay=False,
        ),
    ],
    operator: Annotated[str, typer.Option(help="Who loads it (recorded).")],
) -> None:
    """Replace the directory with the file's unit postcodes of the B, CV, DY, WS and WV areas
    (one transaction: routing uses the old directory until the new one is complete)."""
    from hub.adapters.postgres.postcodes import NOTICE, DirectoryFileError, load_directory

    try:
        summary = _in_transaction(
            lambda conn: load_directory(conn, file, actor=operator, now=datetime.now(UTC))
        )
    except DirectoryFileError as refused:
        console.print(f"[red]not loaded[/red]: {refused}")
        raise typer.Exit(1) from None
    console.print(
        f"loaded {summary.units_kept:,} unit postcodes of the covered areas from "
        f"{summary.source_name} ({summary.rows_read:,} rows read; sha256 "
        f"{summary.sha256[:16]}…)"
    )
    console.print(NOTICE)


@postcodes_cli.command("status")
def postcodes_status() -> None:
    """How many unit postcodes the directory holds, and which file they came from."""
    from hub.adapters.postgres.postcodes import directory_status

    status = _in_transaction(directory_status)
    if status.loaded_at is None:
        console.print("no postcode directory loaded: split districts go to triage")
        return
    console.print(
        f"{status.units:,} unit postcodes from {status.source_name}, loaded "
        f"{status.loaded_at:%Y-%m-%d %H:%M} UTC by {status.loaded_by}"
    )


@postcodes_cli.command("lookup")
def postcodes_lookup(postcode: str) -> None:
    """Where a postcode routes: the directory's authority, else the district table's."""
    from hub.adapters.postgres.postcodes import authority_of_postcode, compact
    from hub.core.residence import postcode_districts

    unit = _in_transaction(lambda conn: authority_of_postcode(conn, postcode))
    key = compact(postcode)
    district = key[:-3] if key else postcode.upper().replace(" ", "")
    districts = postcode_districts().get(district, ())
    console.print(f"directory: {unit or 'not listed'}")
    console.print(f"district {district}: {' | '.join(districts) or 'not in the table'}")
