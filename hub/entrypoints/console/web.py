"""The operations console (`hub ops`): FastAPI, server-rendered pages, signed sessions that
expire (absolute and idle) and end at logout, a CSRF token on every form, roles checked on
every request, login attempts throttled before the password is checked, security headers and
a trusted-host check on every response.

(No `from __future__ import annotations` here: FastAPI reads the dependencies in the route
signatures.)"""

import logging
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from aiokafka.errors import KafkaError
from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.routing import Match

from hub.adapters.kafka.on_demand import ProducerOnDemand
from hub.bootstrap import operator_producer
from hub.core.health import duration
from hub.core.moments import UK
from hub.entrypoints.console.admin import router as admin_router
from hub.entrypoints.console.audit_pages import router as audit_router
from hub.entrypoints.console.deadletter_pages import router as dead_letter_router
from hub.entrypoints.console.errors import ServerErrorPage, install_error_pages
from hub.entrypoints.console.headers import SecurityHeaders
from hub.entrypoints.console.probes import router as probes_router
from hub.entrypoints.console.session import (
    Console,
    LoginNeeded,
    Posted,
    Session,
    Viewer,
    page,
    same_token,
)
from hub.entrypoints.console.triage_pages import router as triage_router
from hub.service.operations import health
from hub.service.operations.users import authenticate, end_sessions

__all__ = ["Console", "Session", "create_app"]
log = logging.getLogger("hub.ops")
#: The overview's windows (a dead-letter count links to the list from then).
HOUR, DAY = timedelta(hours=1), timedelta(days=1)
EXPIRED = "Your session expired, nothing was done. Log in again to continue."


def page_to_return_to(app: FastAPI, request: Request) -> str:
    """The page the expired request came from: itself for a GET, else the nearest page above
    the form's address (`/dead-letters/7/discard` -> `/dead-letters/7`)."""
    if request.method == "GET":
        query = request.url.query
        return request.url.path + (f"?{query}" if query else "")
    parts = request.url.path.rstrip("/").split("/")
    while len(parts) > 1:
        parts.pop()
        path = "/".join(parts) or "/"
        scope = {"type": "http", "path": path, "method": "GET", "root_path": ""}
        if any(route.matches(scope)[0] == Match.FULL for route in app.router.routes):
            return path
    return "/"


def create_app(
    console: Console,
    *,
    secret_key: str,
    secure_cookies: bool = False,
    allowed_hosts: Sequence[str] = ("127.0.0.1", "localhost"),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if console.producer is not None:  # given by the caller (tests): theirs to stop
            yield
            return
        # A send gives up after 10 s: the relay takes over. Without the broker the console
        # still starts; the producer starts when a send first finds the broker.
        producer = ProducerOnDemand(
            lambda: operator_producer(console.bootstrap, request_timeout_ms=10_000)
        )
        console.producer = producer
        try:
            await producer.started()
        except KafkaError as away:
            log.warning(
                "the broker is unreachable (%s): the console serves pages; replays "
                "wait, decisions stay in the outbox",
                type(away).__name__,
            )
        try:
            yield
        finally:
            await producer.stop()

    app = FastAPI(
        title="Referral Hub operations",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.console = console
    app.add_middleware(ServerErrorPage)  # inside the others: the session and headers apply
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret_key,
        same_site="strict",
        https_only=secure_cookies,
        max_age=console.session_minutes * 60,
        session_cookie="hub_ops",
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts))
    app.add_middleware(SecurityHeaders, hsts=secure_cookies)

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, exc: LoginNeeded) -> Response:
        if exc.expired:
            request.session.update(flash=EXPIRED, next=page_to_return_to(app, request))
        return RedirectResponse("/login", status_code=303)

    install_error_pages(app)
    for router in (dead_letter_router, triage_router, audit_router, admin_router, probes_router):
        app.include_router(router)

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return page("login", request, None)

    @app.post("/login")
    async def login(
        request: Request,
        username: Annotated[str, Form()],
        password: Annotated[str, Form()],
        csrf: Annotated[str, Form()] = "",
    ) -> Response:
        if not same_token(csrf, request.session.get("csrf", "")):
            raise HTTPException(403, "the form is out of date (CSRF check); reload the page")
        now = console.clock()
        client = request.client.host if request.client else "unknown"
        if not console.throttle.admit(client, username, now):  # counted before any check
            return page(
                "login",
                request,
                None,
                429,
                error="Too many login attempts; try again in a few minutes.",
            )
        found = await authenticate(console.ops.users, username, password)
        if found is None:
            return page("login", request, None, 401, error="Wrong user name or password.")
        console.throttle.succeeded(username)
        back = str(request.session.get("next", "/"))
        request.session.clear()  # a new session at login (no fixation)
        request.session.update(
            user=username,
            csrf=secrets.token_urlsafe(32),
            epoch=found.epoch,
            seen=now.timestamp(),
            expires=(now + timedelta(minutes=console.session_minutes)).timestamp(),
        )
        local = back.startswith("/") and not back.startswith("//") and "\\" not in back
        return RedirectResponse(back if local else "/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request, session: Posted) -> Response:
        await end_sessions(console.ops.users, session.user)  # copies of the cookie too
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request, session: Viewer) -> HTMLResponse:
        now = console.clock()
        found = await health.overview(console.ops.health, console.broker, console.topics, now)
        return page(
            "overview",
            request,
            session,
            database=found.database,
            broker=found.broker,
            flow=found.flow,
            outbox=found.outbox,
            outbox_age=duration(found.outbox.age(now)),
            open_dead_letters=found.open_dead_letters,
            open_triage=found.open_triage,
            since={
                w: f"{(now - span).astimezone(UK):%Y-%m-%dT%H:%M}"
                for w, span in (("hour", HOUR), ("day", DAY))
            },
        )

    return app
