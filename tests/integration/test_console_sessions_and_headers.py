"""The console's privacy and session rules on the real PostgreSQL: security headers and no
caching on every route, sessions ended by logout, a new password, a role change and disabling
(a copied cookie is refused), the idle timeout, the login throttle counted before any password
check, the users page, and ids out of range."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from sqlalchemy import func, select
from typer.testing import CliRunner

from hub.adapters.postgres.schema import dead_letter_actions, dead_letters, outbox
from hub.bootstrap import Hub, operations
from hub.core.operators import Role
from hub.entrypoints.cli.main import app as cli
from hub.entrypoints.console.app import build_console
from hub.entrypoints.console.headers import CSP
from hub.entrypoints.console.web import create_app
from hub.service.operations import users as user_cases
from hub.service.operations.users import change_user, save_user
from hub.settings import Settings
from tests.conftest import Services
from tests.factories import drug_test_event, encode
from tests.integration.console import PASSWORD, Ops, csrf_of, login, route_item
from tests.integration.test_operations_console import (
    cli_reaches,
    dead_letter_of,
    held_for_residence,
)
from tests.kafka_helpers import produce, wait_until_committed
from tests.ports import free_ports

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
HEADERS = {
    "content-security-policy": CSP,
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def secured(answer: httpx.Response) -> bool:
    return all(answer.headers.get(name) == value for name, value in HEADERS.items())


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every route, also those of included routers (FastAPI keeps those as one entry)."""
    found: list[APIRoute] = []
    for route in routes:
        inner = getattr(route, "original_router", None)
        found += (
            api_routes(inner.routes)
            if inner is not None
            else [route]
            if isinstance(route, APIRoute)
            else []
        )
    return found


def example_path(route: APIRoute) -> str:
    return re.sub(
        r"\{(\w+)\}",
        lambda m: (
            "00000000-0000-0000-0000-000000000000"
            if m.group(1) == "item_id"
            else "ada"
            if m.group(1) == "username"
            else "1"
        ),
        route.path,
    )


async def test_every_route_carries_the_security_headers_signed_in_or_not(
    hub: Hub, ops: Ops
) -> None:
    await save_user(
        operations(hub.engine).users,
        "ada",
        PASSWORD,
        Role.ADMIN,
        datetime.now(UTC),
        actor="test-setup",
    )
    routes = [
        (method, example_path(r))
        for r in api_routes(ops.app.routes)
        for method in sorted(r.methods)
    ]
    assert len(routes) > 15 and ("POST", "/logout") in routes
    for method, path in routes:  # signed out: a redirect, a 403 or a page, all with headers
        answer = await ops.client.request(method, path)
        assert secured(answer), (method, path, answer.status_code)
    csrf = await login(ops.client, "ada")
    for method, path in routes:
        if path == "/logout":
            continue
        answer = await ops.client.request(
            method, path, data={"csrf": csrf} if method == "POST" else None
        )
        assert answer.status_code < 500 and secured(answer), (method, path, answer.status_code)
    assert "strict-transport-security" not in answer.headers
    foreign = await ops.client.get("/login", headers={"host": "evil.example"})
    assert foreign.status_code == 400 and secured(foreign)
    https = create_app(ops.console, secret_key="k", secure_cookies=True, allowed_hosts=["console"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=https), base_url="https://console"
    ) as client:
        assert (await client.get("/healthz")).headers[
            "strict-transport-security"
        ] == "max-age=31536000"


async def test_edit_and_reason_inputs_are_not_remembered_by_the_browser(ops: Ops) -> None:
    from hub.entrypoints.console.pages import PAGES

    for name in PAGES.list_templates():
        source = PAGES.loader.get_source(PAGES, name)[0]  # type: ignore[union-attr]
        for field in re.findall(r'<input\s+name="(?:reason|path|value)"[^>]*>', source):
            assert 'autocomplete="off"' in field, (name, field)


async def test_a_copied_cookie_is_refused_after_logout_and_after_a_new_password(
    hub: Hub, ops: Ops
) -> None:
    csrf = await login(ops.client, "otto")
    copied = dict(ops.client.cookies)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ops.app), base_url="http://console", cookies=copied
    ) as thief:
        assert (await thief.get("/dead-letters")).status_code == 200
        assert (await ops.client.post("/logout", data={"csrf": csrf})).status_code == 303
        refused = await thief.get("/dead-letters")
        assert refused.status_code == 303 and refused.headers["location"] == "/login"

    await login(ops.client, "otto")
    copied = dict(ops.client.cookies)
    await save_user(
        operations(hub.engine).users, "otto", PASSWORD + "!", None, datetime.now(UTC), actor="ada"
    )  # a reset by an admin
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=ops.app), base_url="http://console", cookies=copied
    ) as thief:
        assert (await thief.get("/dead-letters")).status_code == 303
    assert (await ops.client.get("/")).status_code == 303  # the user's own session too


async def test_a_role_change_and_disabling_end_the_users_sessions(hub: Hub, ops: Ops) -> None:
    users = operations(hub.engine).users
    await login(ops.client, "vera")
    await change_user(users, "vera", role=Role.OPERATOR, actor="ada", now=datetime.now(UTC))
    assert (await ops.client.get("/")).status_code == 303
    await login(ops.client, "vera")
    assert (await ops.client.get("/")).status_code == 200
    await change_user(users, "vera", disabled=True, actor="ada", now=datetime.now(UTC))
    await change_user(users, "vera", disabled=False, actor="ada", now=datetime.now(UTC))
    assert (await ops.client.get("/")).status_code == 303  # enabled again: still ended


async def test_an_idle_session_ends_says_nothing_was_done_and_returns_to_the_page(ops: Ops) -> None:
    csrf = await login(ops.client, "otto")
    ops.clock.now += timedelta(minutes=10)
    assert (await ops.client.get("/triage")).status_code == 200  # a request: not idle
    ops.clock.now += timedelta(minutes=16)
    discard = await ops.client.post(
        "/dead-letters/7/discard", data={"csrf": csrf, "version": 0, "reason": "duplicate"}
    )
    assert discard.status_code == 303 and discard.headers["location"] == "/login"
    form = await ops.client.get("/login")
    assert "Your session expired, nothing was done." in form.text
    back = await ops.client.post(
        "/login", data={"username": "otto", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert back.status_code == 303 and back.headers["location"] == "/dead-letters/7"

    ops.clock.now += timedelta(minutes=31)  # the absolute expiry, on a page with a query
    assert (await ops.client.get("/dead-letters", params={"status": "open"})).status_code == 303
    form = await ops.client.get("/login")
    back = await ops.client.post(
        "/login", data={"username": "otto", "password": PASSWORD, "csrf": csrf_of(form.text)}
    )
    assert back.headers["location"] == "/dead-letters?status=open"


async def test_parallel_guesses_get_at_most_the_limit_of_password_checks(
    hub: Hub, ops: Ops, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = user_cases.password_matches

    def counted(password: str, stored: str) -> bool:
        checked.append(password)
        return real(password, stored)

    monkeypatch.setattr(user_cases, "password_matches", counted)
    form = csrf_of((await ops.client.get("/login")).text)

    async def guess(user: str, n: int) -> int:
        answer = await ops.client.post(
            "/login", data={"username": user, "password": f"guess number {n}", "csrf": form}
        )
        return answer.status_code

    answers = await asyncio.gather(*(guess("otto", n) for n in range(60)))
    assert len(checked) == 5 and sorted(answers) == [401] * 5 + [429] * 55
    sprayed = await asyncio.gather(*(guess(f"user{n}", n) for n in range(60)))
    assert len(checked) == 20 and sprayed.count(401) == 15  # the client's limit of 20
    assert (await guess("vera", 0)) == 429

    ops.clock.now += timedelta(minutes=6)
    checked.clear()
    await save_user(
        operations(hub.engine).users, "nia", PASSWORD, Role.VIEWER, datetime.now(UTC), actor="ada"
    )
    await change_user(
        operations(hub.engine).users, "nia", disabled=True, actor="ada", now=datetime.now(UTC)
    )
    assert await guess("nia", 1) == 401 and await guess("nobody", 2) == 401
    assert len(checked) == 2  # a disabled or unknown user costs one check too


async def test_the_users_page_creates_only_new_users_and_a_new_password_keeps_the_role(
    hub: Hub, ops: Ops
) -> None:
    await save_user(
        operations(hub.engine).users,
        "ada",
        PASSWORD,
        Role.ADMIN,
        datetime.now(UTC),
        actor="test-setup",
    )
    csrf = await login(ops.client, "ada")
    taken = await ops.client.post(
        "/admin/users",
        data={"csrf": csrf, "username": "otto", "password": "another password", "role": "viewer"},
    )
    assert taken.status_code == 409 and "exists already" in taken.text
    assert await user_cases.authenticate(operations(hub.engine).users, "otto", PASSWORD)
    reset = await ops.client.post(
        "/admin/users/otto/password", data={"csrf": csrf, "password": "a new long password"}
    )
    assert reset.status_code == 303
    listed = (await ops.client.get("/admin/users")).text
    row = listed.split('data-user="otto"', 1)[1].split("</tr>", 1)[0]
    assert '"role">operator' in row
    assert (
        await ops.client.post(
            "/admin/users/nobody/password", data={"csrf": csrf, "password": "a new long password"}
        )
    ).status_code == 404
    audit = (await ops.client.get("/audit", params={"user": "ada", "action": "password"})).text
    assert re.search(
        r'<td class="who">ada</td><td class="action">password</td><td class="item">'
        r'\s*user otto</td>.*?<td class="edits">password set',
        audit,
        re.S,
    )


async def test_ids_and_versions_out_of_range_are_refused_not_a_crash(ops: Ops) -> None:
    csrf = await login(ops.client, "otto")
    huge = "9" * 30
    for path in (
        f"/dead-letters/{huge}",
        "/dead-letters/0",
        "/dead-letters/-1",
        f"/dead-letters/{2**63}",
    ):
        assert (await ops.client.get(path)).status_code == 422, path
    assert (await ops.client.get(f"/dead-letters/{2**63 - 1}")).status_code == 404
    for version in (huge, str(2**31), "-1"):
        answer = await ops.client.post(
            "/dead-letters/1/discard", data={"csrf": csrf, "version": version, "reason": "x"}
        )
        assert answer.status_code == 422, version
    bulk = await ops.client.post(
        "/dead-letters/replay-selected", data={"csrf": csrf, "letter": f"{huge}:0", "reason": "x"}
    )
    assert bulk.status_code == 400


async def test_a_reveal_is_shown_once_by_a_short_lived_grant_and_back_shows_it_masked(
    hub: Hub, services: Services, ops: Ops
) -> None:
    event = drug_test_event(opiates="perhaps")
    family = event["subject"]["family_name"]
    letter = await dead_letter_of(hub, services, encode(event))
    csrf = await login(ops.client, "otto")

    async def reveal() -> str:
        posted = await ops.client.post(
            f"/dead-letters/{letter}/reveal", data={"csrf": csrf, "reason": "checking the sender"}
        )
        assert posted.status_code == 303 and family not in posted.text
        return str(posted.headers["location"])

    async def audit_rows() -> int:
        async with hub.engine.connect() as conn:
            return int(
                (
                    await conn.execute(
                        select(func.count())
                        .select_from(dead_letter_actions)
                        .where(dead_letter_actions.c.action == "reveal")
                    )
                ).scalar_one()
            )

    shown_at = await reveal()
    assert shown_at.startswith(f"/dead-letters/{letter}?shown=")
    first = await ops.client.get(shown_at)
    assert family in first.text and "this view was recorded" in first.text
    assert "\n  &#34;subject&#34;: {" in first.text  # pretty-printed
    again = await ops.client.get(shown_at)  # Back, or a reload: masked, nothing new recorded
    assert family not in again.text and "revealed view has ended" in again.text
    assert await audit_rows() == 1
    late = await reveal()
    ops.clock.now += timedelta(minutes=3)  # a grant not used in time ends
    assert family not in (await ops.client.get(late)).text and await audit_rows() == 2
    theirs = await reveal()
    ops.client.cookies.clear()
    await login(ops.client, "vera")  # someone else cannot use another's grant
    await change_user(
        operations(hub.engine).users, "vera", role=Role.OPERATOR, actor="ada", now=datetime.now(UTC)
    )
    await login(ops.client, "vera")
    assert family not in (await ops.client.get(theirs)).text
    assert (await ops.client.get(f"/dead-letters/{letter}?shown={'x' * 65}")).status_code == 422


FORGED = [
    ("hub.dlq.reason", b"Smithers was here"),
    ("hub.dlq.error.message", b"Mr Smithers"),
    ("hub.Smithers", b"1990-02-03"),
]


@pytest.fixture
async def forged_dead_letter(hub: Hub, services: Services) -> int:
    """A contract violation from an unknown source system and site, with `hub.*` headers the
    producer made up."""
    event = drug_test_event(opiates="perhaps")
    event["source"] = {"system": "Smithers laptop", "site": "Flat 2, 9 Smithers Road"}
    await produce(
        services.bootstrap, hub.topics.custody_events, [encode(event)], key=b"k", headers=FORGED
    )
    await wait_until_committed(
        services.bootstrap, f"{hub.topics.prefix}hub.custody-events", hub.topics.custody_events
    )
    async with hub.engine.connect() as conn:
        return int((await conn.execute(select(func.max(dead_letters.c.id)))).scalar_one())


async def test_forged_hub_headers_and_unknown_sources_are_not_shown_as_the_hubs(
    ops: Ops, forged_dead_letter: int
) -> None:
    await login(ops.client, "otto")
    shown = (await ops.client.get(f"/dead-letters/{forged_dead_letter}")).text
    assert "Smithers" not in shown and "1990-02-03" not in shown
    own = shown.split('id="headers"', 1)[1].split("</table>", 1)[0]
    assert "hub.dlq.reason</td><td>contract_violation" in own.replace("\n", "")
    producers = shown.split('id="producer-headers"', 1)[1].split("</table>", 1)[0]
    assert re.findall(r"<td>([^<]+)</td><td>•••</td>", producers) == [
        "hub.dlq.reason",
        "hub.dlq.error.message",
        "hub.•••",
    ]
    assert '<td id="source-system">•••</td>' in shown
    listed = (await ops.client.get("/dead-letters")).text
    assert "Smithers" not in listed and "<td>•••</td>" in listed


def test_the_command_line_shows_neither_forged_headers_nor_unknown_sources(
    hub: Hub,
    services: Services,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    forged_dead_letter: int,
) -> None:
    cli_reaches(hub, services, database_url, monkeypatch)
    runner = CliRunner()
    shown = runner.invoke(cli, ["dlq", "show", str(forged_dead_letter)])
    assert shown.exit_code == 0, shown.output
    assert "Smithers" not in shown.output and "1990-02-03" not in shown.output
    own, producers = shown.output.split("sent by the producer", 1)
    assert "hub.dlq.reason: contract_violation" in own
    assert "hub.dlq.reason: •••" in producers and "hub.•••: •••" in producers
    listed = runner.invoke(cli, ["dlq", "list", "--json"])
    assert "Smithers" not in listed.output
    assert [r["source_system"] for r in json.loads(listed.output)] == ["•••"]


async def test_the_console_starts_and_serves_pages_while_the_broker_is_away(
    hub: Hub, services: Services, database_url: str
) -> None:
    letter = await dead_letter_of(hub, services, b"not json")
    item = await held_for_residence(hub, services, "B89 9ZZ")
    await save_user(
        operations(hub.engine).users,
        "otto",
        PASSWORD,
        Role.OPERATOR,
        datetime.now(UTC),
        actor="test-setup",
    )
    away = f"127.0.0.1:{free_ports()}"  # nothing listens there
    settings = Settings(
        kafka_bootstrap=away,
        topic_prefix=hub.topics.prefix,
        consumer_group=f"{hub.topics.prefix}hub",
        ops_allowed_hosts=["console"],
    )
    app = build_console(settings, bootstrap=away, database_url=database_url)
    async with (
        asyncio.timeout(60),
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://console"
        ) as client,
    ):
        csrf = await login(client, "otto")
        overview = await client.get("/")
        assert overview.status_code == 200 and "UNREACHABLE" in overview.text
        for path in ("/dead-letters", f"/dead-letters/{letter}", "/triage", "/audit"):
            assert (await client.get(path)).status_code == 200, path
        replay = await client.post(
            f"/dead-letters/{letter}/replay", data={"csrf": csrf, "version": 0}
        )
        assert replay.status_code == 503 and "Not sent" in replay.text
        routed = await route_item(client, item, csrf)
        assert routed.status_code == 303
        assert "queued and will be sent" in (await client.get("/triage")).text
    async with hub.engine.connect() as conn:
        waiting = (
            (
                await conn.execute(
                    select(outbox.c.topic).where(
                        outbox.c.source_ref == f"triage:{item}", outbox.c.published_at.is_(None)
                    )
                )
            )
            .scalars()
            .all()
        )
        status = (
            await conn.execute(select(dead_letters.c.status).where(dead_letters.c.id == letter))
        ).scalar_one()
    assert waiting == [hub.topics.provider("referrals.walsall.v1")] and status == "open"
