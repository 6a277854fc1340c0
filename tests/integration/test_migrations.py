"""The versioned migrations build exactly the schema the code declares, and undo cleanly."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from hub.adapters.postgres.migrate import alembic_config, upgrade
from hub.adapters.postgres.schema import metadata

pytestmark = [pytest.mark.postgres]


def differences(url: str) -> list[object]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return list(compare_metadata(MigrationContext.configure(conn), metadata))
    finally:
        engine.dispose()


def test_migrations_match_the_declared_schema(database_url: str) -> None:
    assert differences(database_url) == []


def test_migrations_downgrade_and_upgrade_again(database_url: str) -> None:
    command.downgrade(alembic_config(database_url), "0006")  # before the relay's index
    assert any("ix_outbox_unpublished" in str(d) for d in differences(database_url))
    upgrade(database_url)
    assert differences(database_url) == []
