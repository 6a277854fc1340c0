"""Versioned schema migrations (Alembic), applied at start-up and by `hub db upgrade`."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config


def alembic_config(url: str) -> Config:
    config = Config(str(resources.files("hub.adapters.postgres").joinpath("alembic.ini")))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str) -> None:
    """Bring the database at `url` to the newest schema (idempotent, safe to run concurrently)."""
    command.upgrade(alembic_config(url), "head")
