"""A scaled-down simulated year, as a user runs it: `hub run` in one process, `hub simulate` in
another, then `hub report kpis`. The report must reproduce the published 2022/23 figures
(scaled; rates within ±2%) for the financial year 2022/23 and count exactly what was
simulated (repeat arrests without the PNC id linked on demographics, people of no fixed abode
triaged); the broken messages mixed in
end as dead letters with their reasons."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections import Counter

import psycopg
import pytest

from hub.adapters.local.kafka import run_blocking
from hub.entrypoints.simulation.plan import plan_year
from hub.entrypoints.simulation.targets import CALIBRATED_RATES, CALIBRATION
from tests.conftest import ROOT, Services
from tests.kafka_helpers import wait_for_members

pytestmark = [pytest.mark.e2e, pytest.mark.kafka, pytest.mark.postgres]
HUB = str(ROOT / ".venv" / "bin" / "hub")
SCALE, SEED = 0.05, 11


def test_a_simulated_year_reproduces_the_published_figures(
    services: Services, database_url: str, topic_prefix: str
) -> None:
    env = {
        **os.environ,
        "HUB_KAFKA_BOOTSTRAP": services.bootstrap,
        "HUB_DATABASE_URL": database_url,
        "HUB_TOPIC_PREFIX": topic_prefix,
        "HUB_CONSUMER_GROUP": f"{topic_prefix}hub",
        "HUB_TOPIC_PARTITIONS": "3",
    }
    hub = subprocess.Popen(
        [HUB, "run"], env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for group in ("custody-events", "court-events", "probation-events", "provider-feedback"):
            run_blocking(wait_for_members(services.bootstrap, f"{topic_prefix}hub.{group}", 1, 90))
        simulated = subprocess.run(
            [HUB, "simulate", "--scale", str(SCALE), "--seed", str(SEED)],
            env=env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    finally:
        hub.send_signal(signal.SIGINT)
        hub.wait(60)
    assert simulated.returncode == 0, simulated.stdout[-6000:] + simulated.stderr[-3000:]
    assert (
        "hub caught up" in simulated.stdout and "assessments avoided by reuse" in simulated.stdout
    )
    assert "1 April 2022 to 31 March 2023" in simulated.stdout

    reported = subprocess.run(
        [  # the financial year 2022/23
            HUB,
            "report",
            "kpis",
            "--from",
            "2022-04-01",
            "--to",
            "2023-03-31",
            "--format",
            "json",
        ],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(reported.stdout)
    totals = {i["key"]: i["total"] for i in report["indicators"]}
    for key, published in CALIBRATION.items():
        assert totals[key] == round(published * SCALE), key
    rates = {r["key"]: r["value"] for r in report["rates"]}
    for key, published in CALIBRATED_RATES.items():
        assert abs(rates[key] - published) <= 0.02 * published, (key, rates[key])
    plan = plan_year(2022, SEED, SCALE)
    for key, value in plan.expected.items():
        if key in totals:
            assert totals[key] == value, key
    assert totals["assessments_avoided"] > 0 and totals["entries"] > 0

    assert plan.expected["linked_without_pnc"] > 0 and plan.expected["no_fixed_abode"] > 0

    with psycopg.connect(database_url.replace("+psycopg", "")) as conn:
        letters = Counter(
            dict(
                conn.execute("SELECT reason, count(*) FROM dead_letters GROUP BY reason").fetchall()
            )
        )
        # Repeat arrests without the PNC id were linked to the person (one person each, no
        # identity review); people of no fixed abode were triaged as residence unknown.
        people = conn.execute("SELECT count(*) FROM persons").fetchone()
        reviews = conn.execute(
            "SELECT count(*) FROM triage_items WHERE referral_id IS NULL"
        ).fetchone()
        unknown = {
            pnc
            for (pnc,) in conn.execute(
                "SELECT DISTINCT i.value FROM triage_items t JOIN referrals r "
                "ON r.id = t.referral_id JOIN person_identifiers i ON i.person_id = r.person_id "
                "AND i.system = 'pnc_id' WHERE t.reason = 'residence_unknown'"
            )
        }
    assert letters == Counter(plan.dead_letters)
    assert people == (len(plan.people),) and reviews == (0,)
    no_address = {
        p.subject["pnc_id"]
        for p in plan.people
        if not {"postcode", "residence_authority"} & p.subject.keys()
    }
    tested = {
        p.subject["pnc_id"]
        for p in plan.people
        if p.subject["pnc_id"] in no_address and any(a.contact == "positive" for a in p.arrests)
    }
    assert len(no_address) == plan.expected["no_fixed_abode"]
    # everyone of no fixed abode who tested positive was triaged as residence unknown, and
    # nobody with an address was
    assert tested and tested <= unknown <= no_address
