"""Session-wide real services: Kafka and PostgreSQL.

Order of preference: services named by `HUB_TEST_KAFKA_BOOTSTRAP` / `HUB_TEST_DATABASE_URL`;
testcontainers when a Docker engine answers; otherwise the project's own local launchers
(`hub dev`), on their own ports and data under `var/test/`, so a running dev hub is not disturbed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from hub.adapters.kafka.topics import delete_topics
from hub.adapters.local.kafka import run_blocking
from hub.adapters.postgres.migrate import upgrade
from tests.ports import free_ports

ROOT = Path(__file__).resolve().parents[1]
#: This run's own services live here (a second run at once has its own directory and ports).
TEST_VAR = ROOT / "var" / "test" / f"run-{os.getpid()}-{uuid.uuid4().hex[:6]}"
KAFKA_LIBS = ROOT / "var" / "kafka" / "libs"


@dataclass(frozen=True)
class Services:
    bootstrap: str  # PLAINTEXT on loopback: a super user (the quick start's listener)
    database_url: str  # the server's maintenance database; tests get their own databases
    #: SASL_SSL (SCRAM-SHA-512) with the StandardAuthorizer, and the CA its certificate is from.
    secure_bootstrap: str | None = None
    ca_file: Path | None = None


def _docker_answers() -> bool:
    try:
        return (
            subprocess.run(
                ["docker", "info"], capture_output=True, timeout=10, check=False
            ).returncode
            == 0
        )
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    bootstrap = os.environ.get("HUB_TEST_KAFKA_BOOTSTRAP")
    url = os.environ.get("HUB_TEST_DATABASE_URL")
    if bootstrap and url:
        ca = os.environ.get("HUB_TEST_KAFKA_CA_FILE")
        yield Services(
            bootstrap,
            url,
            os.environ.get("HUB_TEST_KAFKA_SECURE_BOOTSTRAP"),
            Path(ca) if ca else None,
        )
        return
    if _docker_answers():
        from testcontainers.kafka import KafkaContainer
        from testcontainers.postgres import PostgresContainer

        with (
            KafkaContainer().with_kraft() as kafka,
            PostgresContainer("postgres:16", driver="psycopg") as pg,
        ):
            yield Services(kafka.get_bootstrap_server(), pg.get_connection_url())
        return
    from hub.adapters.local.kafka import LocalKafka
    from hub.adapters.local.postgres import LocalPostgres

    # listener, controller (+1), SASL_SSL listener (+2)
    kafka = LocalKafka(
        home=TEST_VAR / "kafka", port=free_ports(3), libs_dir=KAFKA_LIBS, heap="-Xmx1g"
    )
    postgres = LocalPostgres(home=TEST_VAR / "postgres", port=free_ports())
    # Every session starts from empty services of its own: nothing left over, nothing shared.
    shutil.rmtree(TEST_VAR, ignore_errors=True)
    try:
        database_url = postgres.up()
        yield Services(kafka.up(), database_url, kafka.secure_bootstrap, kafka.certificates.ca_file)
    finally:
        kafka.down()
        postgres.down()
        shutil.rmtree(TEST_VAR, ignore_errors=True)


def _plain(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="session")
def template_database(services: Services) -> str:
    """A migrated database that each test's database is copied from."""
    name = f"hub_template_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(_plain(services.database_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    upgrade(services.database_url.rsplit("/", 1)[0] + f"/{name}")
    return name


@pytest.fixture
def database_url(services: Services, template_database: str) -> Iterator[str]:
    """A fresh, migrated database of this test's own, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(_plain(services.database_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    yield services.database_url.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(_plain(services.database_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def topic_prefix(services: Services) -> Iterator[str]:
    """This test's own topics, deleted afterwards (the broker stays small)."""
    prefix = f"t{uuid.uuid4().hex[:10]}."
    yield prefix
    run_blocking(delete_topics(services.bootstrap, prefix))


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        help="rewrite the mapper golden files from the current mappers",
    )


@pytest.fixture(scope="session")
def fhir_validator() -> str:
    """The HAPI FHIR validator's class path, built once (`tests.fhir_validator`). Without Java or
    Maven the tests that need it fail, saying so: they are never skipped."""
    from tests.fhir_validator import FhirValidatorError, build

    try:
        return build()
    except FhirValidatorError as error:
        pytest.fail(str(error), pytrace=False)
