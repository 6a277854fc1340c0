"""Bulk inserts by COPY: a batch's new rows of one table in one statement.

`COPY … FROM STDIN` on the unit of work's own connection (its transaction): the rows are
formatted by psycopg's C code, about a third of the client time of an `executemany` of the same
rows. Constraints, defaults and foreign keys apply as to an INSERT; there is no ON CONFLICT, so
only tables whose rows are new (never "may already be there") are copied. A driver error is
raised as SQLAlchemy's (`DBAPIError.instance`), as every other statement's is, so the failure
policy tells a lost connection (transient) from a value that cannot be stored (isolated).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection


def shapes(rows: list[dict[str, Any]]) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The rows grouped by the columns they give (a column left out gets its default)."""
    grouped: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        grouped[tuple(row)].append(row)
    return grouped


async def copy_rows(
    conn: AsyncConnection, table: Table, columns: tuple[str, ...], rows: list[dict[str, Any]]
) -> None:
    """COPY `rows` (each giving exactly `columns`) into `table`, in the open transaction."""
    json = {c for c in columns if isinstance(table.c[c].type, JSONB)}
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    raw = (await conn.get_raw_connection()).driver_connection
    assert raw is not None, "the unit of work's connection is open"
    try:
        async with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                await copy.write_row(
                    [
                        Jsonb(v) if c in json and v is not None else v
                        for c, v in zip(columns, row.values(), strict=True)
                    ]
                )
    except psycopg.Error as error:
        # Without the values: `hide_parameters`, as the engine's own statements.
        raise DBAPIError.instance(
            f"COPY {table.name}", None, error, psycopg.Error, hide_parameters=True
        ) from error
