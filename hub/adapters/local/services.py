"""The local development services as one unit: `hub dev up|down|status`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hub.adapters.local.kafka import LocalKafka
from hub.adapters.local.postgres import LocalPostgres
from hub.settings import Settings


@dataclass(frozen=True)
class LocalServices:
    """The local broker and database that back the hub when no external ones are configured."""

    kafka: LocalKafka
    postgres: LocalPostgres

    @classmethod
    def from_settings(cls, settings: Settings) -> LocalServices:
        var = Path(settings.var_dir)
        return cls(
            kafka=LocalKafka(
                home=var / "kafka", port=settings.dev_kafka_port, libs_dir=settings.dev_kafka_libs
            ),
            postgres=LocalPostgres(home=var / "postgres", port=settings.dev_postgres_port),
        )

    def up(self) -> tuple[str, str]:
        """Start both (each only if not running); return (bootstrap servers, database URL)."""
        url = self.postgres.up()
        bootstrap = self.kafka.up()
        return bootstrap, url

    def down(self) -> None:
        self.kafka.down()
        self.postgres.down()

    def status(self) -> dict[str, bool]:
        return {"kafka": self.kafka.is_running(), "postgres": self.postgres.is_running()}
