"""An operator in headless Chromium: logs in to `hub ops`, finds the dead letter, corrects and
replays it, and sees the hub route it. `hub run` and `hub ops` run as their own processes on
the real broker and PostgreSQL. Screenshots in var/test-artifacts/."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from playwright.sync_api import BrowserContext, expect

from hub.adapters.local.kafka import run_blocking
from tests.conftest import ROOT, Services
from tests.factories import drug_test_event, encode
from tests.kafka_helpers import poll_until_sync, produce, wait_for_members
from tests.ports import free_ports

pytestmark = [pytest.mark.browser, pytest.mark.kafka, pytest.mark.postgres]
HUB = str(ROOT / ".venv" / "bin" / "hub")
PASSWORD = "correct horse battery"


@pytest.fixture
def running(
    services: Services, database_url: str, topic_prefix: str
) -> Iterator[tuple[str, dict[str, str]]]:
    """`hub run` and `hub ops` as processes; yields the console's address and the env."""
    port, metrics_port = free_ports(), free_ports()
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_CONSUMER_GROUP": f"{topic_prefix}hub",
        "HUB_TOPIC_PARTITIONS": "3",
        "HUB_OPS_PORT": str(port),
        "HUB_METRICS_PORT": str(metrics_port),
        "HUB_METRICS_HOST": "127.0.0.1",
    }
    subprocess.run(
        [HUB, "ops", "user", "otto", "--role", "operator", "--password-stdin"],
        input=PASSWORD + "\n",
        env=env,
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    processes = [
        subprocess.Popen(
            [HUB, *command], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for command in (["run"], ["ops"])
    ]
    try:
        run_blocking(
            wait_for_members(services.bootstrap, f"{topic_prefix}hub.custody-events", 1, 90)
        )
        address = f"http://127.0.0.1:{port}"

        def console_down() -> str | None:
            try:
                with urllib.request.urlopen(f"{address}/healthz", timeout=2):  # noqa: S310
                    return None
            except OSError:
                return "the console did not start"

        poll_until_sync(console_down, 60, every=0.3)
        yield address, env
    finally:
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            process.wait(60)


def test_an_operator_fixes_and_replays_a_dead_letter(
    running: tuple[str, dict[str, str]],
    services: Services,
    database_url: str,
    browser: BrowserContext,
    browser_profile: Path,
    artifacts: Path,
) -> None:
    address, env = running
    event = drug_test_event(postcode="WV1 9ZZ")
    event["payload"]["results"]["cocaine"] = "unclear"
    topic = env["HUB_TOPIC_PREFIX"] + "custody.events.v1"
    run_blocking(produce(services.bootstrap, topic, [encode(event)], key=b"k"))
    with psycopg.connect(database_url.replace("+psycopg", ""), autocommit=True) as conn:
        poll_until_sync(
            lambda: (
                "no dead letter"
                if conn.execute("SELECT count(*) FROM dead_letters").fetchone()[0] == 0
                else None
            ),
            60,
        )  # type: ignore[index]

    page = browser.new_page()
    page.goto(f"{address}/dead-letters")
    expect(page).to_have_url(f"{address}/login")
    page.fill("input[name=username]", "otto")
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('Log in')")
    expect(page.locator("#database")).to_have_text("reachable")
    page.screenshot(path=str(artifacts / "ops-1-overview.png"), full_page=True)

    page.click("header >> text=Dead letters")
    row = page.locator("#dead-letters tr", has_text="contract_violation")
    expect(row).to_have_count(1)
    page.screenshot(path=str(artifacts / "ops-2-dead-letters.png"), full_page=True)
    row.locator("a").click()
    expect(page.locator("#payload")).to_contain_text("•••")
    assert event["subject"]["family_name"] not in page.content()
    page.locator("input[name=path]").first.fill("payload.results.cocaine")
    page.locator("input[name=value]").first.fill("negative")
    page.fill("form:has(#replay) input[name=reason]", "lab confirmed negative")
    page.screenshot(path=str(artifacts / "ops-3-before-replay.png"), full_page=True)
    page.click("#replay")
    expect(page.locator("#flash")).to_contain_text("Replayed")
    expect(page.locator("#status")).to_have_text("replayed")

    outcome = page.locator("#history .outcome").first

    def not_processed() -> str | None:
        if "processed" in (shown := outcome.inner_text()):
            return None
        page.reload()
        return shown

    poll_until_sync(not_processed, 60, every=0.5)
    expect(outcome).to_have_text("processed: referred")
    page.screenshot(path=str(artifacts / "ops-4-outcome.png"), full_page=True)
    page.click("header >> text=Audit")
    expect(page.locator("#audit")).to_contain_text("replay_edited")
    page.click("header >> text=Dead letters")
    page.select_option("select[name=status]", "")
    page.click("button:has-text('Filter')")
    expect(page.locator("#dead-letters")).to_contain_text("replayed")
    page.screenshot(path=str(artifacts / "ops-5-all-dead-letters.png"), full_page=True)

    # A reveal (recorded) is shown once; after logout neither Back nor the cache has it.
    family = event["subject"]["family_name"]
    page.locator("#dead-letters a").first.click()
    page.fill("form:has(#reveal) input[name=reason]", "checking the sender")
    page.click("#reveal")
    expect(page.locator("#payload")).to_contain_text(family)
    page.screenshot(path=str(artifacts / "ops-6-revealed.png"), full_page=True)
    page.click("button:has-text('Log out')")
    expect(page).to_have_url(f"{address}/login")
    cached = [
        path
        for path in browser_profile.rglob("*")
        if path.is_file() and family.encode() in path.read_bytes()
    ]
    assert cached == [], cached
    page.go_back()
    expect(page).to_have_url(f"{address}/login")
    assert family not in page.content()
    page.screenshot(path=str(artifacts / "ops-7-back-after-logout.png"), full_page=True)
    page.close()

    with urllib.request.urlopen(f"{address}/metrics", timeout=5) as scraped:  # noqa: S310
        metrics = scraped.read().decode()
    assert f'hub_consumer_lag{{partition="0",topic="{topic}"}}' in metrics
    with urllib.request.urlopen(
        f"http://127.0.0.1:{env['HUB_METRICS_PORT']}/metrics", timeout=5
    ) as scraped:
        hub_metrics = scraped.read().decode()
    assert f'hub_events_outcome_total{{outcome="referred",topic="{topic}"}} 1.0' in hub_metrics
    assert (
        f'hub_events_dead_lettered_total{{reason="contract_violation",topic="{topic}"}} 1.0'
        in hub_metrics
    )
    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        sent = conn.execute("SELECT sent_value FROM dead_letter_actions").fetchone()
    assert sent is not None and json.loads(sent[0])["payload"]["results"]["cocaine"] == "negative"
