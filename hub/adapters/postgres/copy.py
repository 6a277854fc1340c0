"""Bulk inserts by COPY: a batch's new rows of one table in one statement per run of rows that
give the same columns.

`COPY … FROM STDIN` on the unit of work's own connection (its transaction): the rows are
formatted by psycopg's C code, about a third of the client time of an `executemany` of the same
rows. Constraints, defaults and foreign keys apply as to an INSERT; there is no ON CONFLICT, so
only tables whose rows are new (never "may already be there") are copied. A driver error is
raised as SQLAlchemy's (`DBAPIError.instance`), as every other statement's is, so the failure
policy tells a lost connection (transient) from a value that cannot be stored (isolated).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


def shapes(rows: list[dict[str, Any]]) -> list[tuple[tuple[str, ...], list[dict[str, Any]]]]:
    """The rows in their order, cut into runs that give the same columns (a column left out
    gets its default). Each run is one COPY; the runs keep the rows' order, so a row that
    refers to an earlier row of its table (a review's held referral) comes after it, as it
    did when each row was its own INSERT."""
    runs: list[tuple[tuple[str, ...], list[dict[str, Any]]]] = []
    for row in rows:
        columns = tuple(sorted(row))
        if runs and runs[-1][0] == columns:
            runs[-1][1].append(row)
        else:
            runs.append((columns, [row]))
    return runs


async def copy_rows(
    conn: AsyncConnection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """COPY `rows` (each giving exactly `columns`) into `table`, in the open transaction.

    A JSONB value `None` is stored as JSON `null`, as SQLAlchemy's JSONB type stores it (and
    as the updates do). A failure names its class and SQLSTATE only: PostgreSQL's message for
    a COPY quotes the row it refused (its CONTEXT), and values are people's data."""
    json = {c for c in columns if isinstance(table.c[c].type, JSONB)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None, "the unit of work's connection is open"
    try:
        async with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row([Jsonb(row[c]) if c in json else row[c] for c in columns])
    except psycopg.Error as error:
        # The same class (so the failure policy classifies it as before), without the values.
        bare = type(error)(f"{type(error).__name__} (SQLSTATE {error.sqlstate or '-'})")
        raise DBAPIError.instance(
            f"COPY {table.name}", None, bare, psycopg.Error, hide_parameters=True
        ) from None
