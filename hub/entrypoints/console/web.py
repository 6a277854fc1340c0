"""The operations console (`hub ops`): FastAPI, server-rendered pages, signed sessions that
expire, a CSRF token on every form, roles checked on every request, failed logins throttled.

(No `from __future__ import annotations` here: FastAPI reads the dependencies in the route
signatures.)"""

import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.middleware.sessions import SessionMiddleware

from hub.bootstrap import operator_producer
from hub.entrypoints.console.admin import router as admin_router
from hub.entrypoints.console.deadletter_pages import router as dead_letter_router
from hub.entrypoints.console.scrape import console_metrics
from hub.entrypoints.console.session import (
    Console,
    LoginNeeded,
    Posted,
    Session,
    Viewer,
    console_of,
    page,
    same_token,
)
from hub.entrypoints.console.triage_pages import router as triage_router
from hub.service.operations import deadletters as dl
from hub.service.operations import health
from hub.service.operations.triage import decisions as triage_decisions
from hub.service.operations.users import authenticate, user_changes

__all__ = ["Console", "Session", "create_app"]


def create_app(console: Console, *, secret_key: str, secure_cookies: bool = False) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if console.producer is not None:  # given by the caller (tests): theirs to stop
            yield
            return
        # A send gives up after 10 s: the relay takes over.
        console.producer = operator_producer(console.bootstrap, request_timeout_ms=10_000)
        await console.producer.start()
        try:
            yield
        finally:
            await console.producer.stop()

    app = FastAPI(title="Referral Hub operations", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.state.console = console
    app.add_middleware(SessionMiddleware, secret_key=secret_key, same_site="strict",
                       https_only=secure_cookies, max_age=console.session_minutes * 60,
                       session_cookie="hub_ops")

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse("/login", status_code=303)

    for router in (dead_letter_router, triage_router, admin_router):
        app.include_router(router)

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return page("login", request, None)

    @app.post("/login")
    async def login(request: Request, username: Annotated[str, Form()],
                    password: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
                    ) -> Response:
        if not same_token(csrf, request.session.get("csrf", "")):
            raise HTTPException(403, "the form is out of date (CSRF check); reload the page")
        now = console.clock()
        if console.throttle.blocked(username, now):
            return page("login", request, None, 429, error="Too many failed logins for this "
                        "user; try again in a few minutes.")
        role = await authenticate(console.ops.users, username, password)
        if role is None:
            console.throttle.failed(username, now)
            return page("login", request, None, 401, error="Wrong user name or password.")
        console.throttle.succeeded(username)
        request.session.clear()  # a new session at login (no fixation)
        request.session.update(
            user=username, csrf=secrets.token_urlsafe(32),
            expires=(now + timedelta(minutes=console.session_minutes)).timestamp())
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request, session: Posted) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request, session: Viewer) -> HTMLResponse:
        found = await health.overview(console.ops.health, console.broker, console.topics,
                                      console.clock())
        return page("overview", request, session, database=found.database,
                    broker=found.broker, flow=found.flow,
                    open_dead_letters=found.open_dead_letters, open_triage=found.open_triage)

    @app.get("/audit", response_class=HTMLResponse)
    async def audit(request: Request, session: Viewer) -> HTMLResponse:
        actions = await dl.audit(console.ops.dead_letters, console.clock())
        decisions = await triage_decisions(console.ops.triage)
        users = await user_changes(console.ops.users)
        return page("audit", request, session, actions=actions, decisions=decisions,
                    user_changes=users)

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"

    @app.get("/readyz", response_class=PlainTextResponse)
    async def readyz() -> Response:
        database = await health.database_ok(console.ops.health)
        broker = await console.broker()
        ready = database and broker.reachable
        return PlainTextResponse(
            f"database {'ok' if database else 'unreachable'}\n"
            f"broker {'ok' if broker.reachable else 'unreachable'}\n",
            status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics(request: Request) -> Response:
        here = console_of(request)
        broker = await here.broker()
        return Response(console_metrics(broker, await health.open_dead_letters(here.ops.health)),
                        media_type=CONTENT_TYPE_LATEST)

    return app
