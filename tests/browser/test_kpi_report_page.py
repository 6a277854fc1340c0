"""The HTML report, opened in headless Chromium: the figures, charts and definitions show, and
it prints; and the report the hub computes from a small real history (real broker and
PostgreSQL) shows the known answers in its tables and charts. Screenshot and PDF are kept in
var/test-artifacts/."""

from __future__ import annotations

import asyncio
import concurrent.futures
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext

from hub.adapters.postgres.indicators import INDICATORS
from hub.adapters.postgres.report import Figure, Report, compute
from hub.core.providers import load_providers
from hub.entrypoints.report.html import as_html
from tests.conftest import Services
from tests.integration.conftest import hub_settings, start_hub
from tests.integration.test_kpis import COURT, NORTH, PROBATION, build_history

pytestmark = pytest.mark.browser
TOTALS = {
    "engaged": 16599,
    "assessments_completed": 4521,
    "referrals": 1828,
    "entries": 1133,
    "assessments_avoided": 512,
    "suitable_drr": 1076,
    "drr_granted": 226,
}


def report() -> Report:
    figures = {i.key: Figure(i, total=TOTALS.get(i.key, 7)) for i in INDICATORS}
    for n, month in enumerate(f"2022-{m:02d}" for m in range(1, 13)):
        for key in ("assessments_completed", "referrals", "entries"):
            figures[key].by_month[month] = TOTALS[key] // 12 + n
    figures["referrals"].by_authority = {"E08000025": 700, "outside": 3}
    figures["referrals"].by_site = {"Custody block North": 1000, "Court East": 828}
    figures["not_converted"].by_reason = {
        "did_not_attend": 300,
        "unable_to_contact": 120,
        "rejected: not_eligible": 20,
    }
    names = {p.authority_code: p.authority_name for p in load_providers().providers}
    names.update({"outside": "Outside the seven authorities", "unknown": "Residence unknown"})
    return Report(date(2022, 1, 1), date(2022, 12, 31), figures, names)


def test_the_report_displays_its_figures_and_charts(
    browser: BrowserContext, tmp_path: Path, artifacts: Path
) -> None:
    page_file = tmp_path / "kpis.html"
    page_file.write_text(as_html(report(), datetime(2023, 4, 3, 9, 0, tzinfo=UTC)))
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_file.as_uri())

    assert page.locator("#period").inner_text() == "1 January 2022 to 31 December 2022"
    assert page.locator("#card-engaged .value").inner_text() == "16,599"
    assert page.locator("#card-referrals .value").inner_text() == "1,828"
    assert page.locator("#card-assessments_avoided .value").inner_text() == "512"
    funnel = page.locator("#funnel rect")
    assert funnel.count() == 4
    widths = [float(funnel.nth(i).get_attribute("width") or 0) for i in range(4)]
    assert widths == sorted(widths, reverse=True) and widths[-1] > 0
    assert page.locator("#funnel").is_visible()
    assert page.locator("#monthly-trends polyline").count() == 3
    assert page.locator("#non-conversion").get_by_text("did not attend", exact=True).is_visible()
    assert page.locator("#rate-drr_grant_rate").inner_text().count("21.0%") == 1
    for indicator in INDICATORS:
        row = page.locator(f"#indicator-{indicator.key}")
        assert row.is_visible()
        assert indicator.definition in row.inner_text()
    assert (
        "Birmingham"
        in page.get_by_text("By local authority of residence").locator("xpath=..").inner_text()
    )
    assert requests == [page_file.as_uri()]  # self-contained: nothing else was fetched

    page.set_viewport_size({"width": 1200, "height": 900})
    page.screenshot(path=str(artifacts / "kpi-report.png"), full_page=True)
    pdf = page.pdf(path=str(artifacts / "kpi-report.pdf"), format="A4")
    assert pdf.startswith(b"%PDF")
    page.close()


async def _computed(services: Services, database_url: str, topic_prefix: str) -> Report:
    hub = await start_hub(services, database_url, hub_settings(topic_prefix))
    try:
        await build_history(hub, services)
        async with hub.engine.connect() as conn:
            return await compute(conn, date(2022, 1, 1), date(2022, 12, 31), hub.providers)
    finally:
        await hub.app.stop()


@pytest.fixture
def computed(services: Services, database_url: str, topic_prefix: str) -> Report:
    """The hub's own report of the test_kpis history (on a thread: Playwright's sync API owns
    this thread's event loop)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _computed(services, database_url, topic_prefix)).result(
            timeout=300
        )


@pytest.mark.kafka
@pytest.mark.postgres
def test_the_hubs_own_report_shows_its_known_answers(
    browser: BrowserContext, computed: Report, tmp_path: Path, artifacts: Path
) -> None:
    page_file = tmp_path / "computed.html"  # every count, to check the computation
    page_file.write_text(as_html(computed, datetime(2023, 4, 3, 9, 0, tzinfo=UTC), suppress=False))
    page = browser.new_page()
    page.goto(page_file.as_uri())

    def cells(table: str, first: str) -> list[str]:
        row = page.locator(f"#{table} tbody tr").filter(
            has=page.locator("td:first-child", has_text=first)
        )
        assert row.count() == 1, (table, first)
        return row.locator("td").all_inner_texts()

    # engaged, assessments completed, referrals, entries, assessments avoided
    assert cells("by-authority", "Birmingham") == ["Birmingham", "1", "1", "2", "1", "0"]
    assert cells("by-authority", "Dudley") == ["Dudley", "1", "1", "1", "0", "1"]
    assert cells("by-authority", "Outside the seven") == [
        "Outside the seven authorities",
        "1",
        "0",
        "0",
        "0",
        "0",
    ]
    assert cells("by-site", NORTH) == [NORTH, "2", "1", "2", "1", "0"]
    assert cells("by-site", COURT) == [COURT, "1", "1", "1", "0", "0"]
    assert cells("by-site", PROBATION) == [PROBATION, "0", "0", "0", "0", "1"]
    assert cells("by-month", "2022-06") == ["2022-06", "0", "0", "1", "0", "1"]
    assert page.locator("#by-month tbody tr").count() == 12
    assert page.locator("#non-conversion text").all_text_contents() == ["did not attend", "1"]
    assert page.locator("#card-referrals .value").inner_text() == "4"
    assert page.locator("#card-entries .value").inner_text() == "1"
    assert page.locator("#rate-conversion_rate").inner_text().count("25.0% (1 of 4)") == 1
    page.set_viewport_size({"width": 1200, "height": 900})
    page.screenshot(path=str(artifacts / "kpi-report-computed.png"), full_page=True)
    assert page.locator("#suppression").count() == 0

    published = tmp_path / "published.html"  # as published: the small counts suppressed
    published.write_text(as_html(computed, datetime(2023, 4, 3, 9, 0, tzinfo=UTC)))
    page.goto(published.as_uri())
    # Assessments avoided (Dudley's 1) and entries (February's 1) have one small count and
    # nothing else: their zeros are hidden too, else the total would place that one.
    assert cells("by-authority", "Birmingham") == ["Birmingham", "<5", "<5", "<5", "<5", "<5"]
    assert cells("by-month", "2022-06") == ["2022-06", "0", "0", "<5", "<5", "<5"]
    assert page.locator("#card-referrals .value").inner_text() == "4"  # totals in full
    assert page.locator("#non-conversion").count() == 0  # its only reason was suppressed
    assert "1 to 4" in page.locator("#suppression").inner_text()
    page.screenshot(path=str(artifacts / "kpi-report-published.png"), full_page=True)
    page.close()
