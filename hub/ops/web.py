"""The operations console (`hub ops`): FastAPI, server-rendered pages, signed sessions that
expire, a CSRF token on every form, roles checked on every request.

(No `from __future__ import annotations` here: FastAPI reads the dependencies in the route
signatures, which refer to names local to `create_app`.)"""

import hmac
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.middleware.sessions import SessionMiddleware

from hub.ops import deadletters as dl
from hub.ops import health
from hub.ops.pages import PAGES
from hub.ops.triage import AlreadyResolved, TriageEnv, decide_match, open_items, route
from hub.ops.users import Role, authenticate, current_role
from hub.store import journal
from hub.store.schema import dead_letters, triage_decisions, triage_items
from hub.topics import Topics


@dataclass
class Console:
    """What the console needs; built once by `create_app`."""

    engine: AsyncEngine
    bootstrap: str
    topics: Topics
    group_base: str
    triage: TriageEnv
    session_minutes: int
    clock: Callable[[], datetime]
    producer: AIOKafkaProducer | None = None


@dataclass(frozen=True)
class Session:
    user: str
    role: Role
    csrf: str


class LoginNeeded(Exception):  # noqa: N818
    pass


def create_app(  # noqa: PLR0915 - the console's route table, one closure per page
    console: Console, *, secret_key: str, secure_cookies: bool = False
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        console.producer = AIOKafkaProducer(bootstrap_servers=console.bootstrap, acks="all",
                                            enable_idempotence=True)
        await console.producer.start()
        try:
            yield
        finally:
            await console.producer.stop()

    app = FastAPI(title="Referral Hub operations", lifespan=lifespan, docs_url=None,
                  redoc_url=None, openapi_url=None)
    app.add_middleware(SessionMiddleware, secret_key=secret_key, same_site="strict",
                       https_only=secure_cookies, max_age=console.session_minutes * 60,
                       session_cookie="hub_ops")

    @app.exception_handler(LoginNeeded)
    async def to_login(request: Request, exc: LoginNeeded) -> Response:
        return RedirectResponse("/login", status_code=303)

    def page(name: str, request: Request, session: Session | None, status: int = 200,
             **values: Any) -> HTMLResponse:
        html = PAGES.get_template(name).render(
            user=session.user if session else None, role=session.role if session else None,
            csrf=session.csrf if session else request.session.get("csrf", ""),
            flash=request.session.pop("flash", None), **values)
        return HTMLResponse(html, status_code=status)

    async def signed_in(request: Request) -> Session:
        user, expires = request.session.get("user"), request.session.get("expires", 0)
        if not user or console.clock().timestamp() > expires:
            request.session.clear()
            raise LoginNeeded
        async with console.engine.connect() as conn:
            role = await current_role(conn, user)
        if role is None:
            request.session.clear()
            raise LoginNeeded
        return Session(user, role, request.session["csrf"])

    def needs(role: Role) -> Callable[..., Any]:
        async def check(session: Annotated[Session, Depends(signed_in)]) -> Session:
            if not session.role.allows(role):
                raise HTTPException(403, f"{role.value} role needed")
            return session
        return check

    async def csrf_checked(request: Request, session: Annotated[Session, Depends(signed_in)],
                           csrf: Annotated[str, Form()] = "") -> Session:
        if not hmac.compare_digest(csrf, session.csrf):
            raise HTTPException(403, "the form is out of date (CSRF check); reload the page")
        return session

    viewer = Annotated[Session, Depends(needs(Role.VIEWER))]
    posted = Annotated[Session, Depends(csrf_checked)]  # then checked by role in the handler

    @app.get("/login", response_class=HTMLResponse)
    async def login_form(request: Request) -> HTMLResponse:
        request.session.setdefault("csrf", secrets.token_urlsafe(32))
        return page("login", request, None)

    @app.post("/login")
    async def login(request: Request, username: Annotated[str, Form()],
                    password: Annotated[str, Form()], csrf: Annotated[str, Form()] = ""
                    ) -> Response:
        if not hmac.compare_digest(csrf, request.session.get("csrf", "")):
            raise HTTPException(403, "the form is out of date (CSRF check); reload the page")
        async with console.engine.connect() as conn:
            role = await authenticate(conn, username, password)
        if role is None:
            return page("login", request, None, 401, error="Wrong user name or password.")
        request.session.clear()  # a new session at login (no fixation)
        request.session.update(
            user=username, csrf=secrets.token_urlsafe(32),
            expires=(console.clock() + timedelta(minutes=console.session_minutes)).timestamp())
        return RedirectResponse("/", status_code=303)

    @app.post("/logout")
    async def logout(request: Request, session: posted) -> Response:
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/", response_class=HTMLResponse)
    async def overview(request: Request, session: viewer) -> HTMLResponse:
        now = console.clock()
        async with console.engine.connect() as conn:
            open_letters = (await conn.execute(select(func.count()).select_from(dead_letters)
                                               .where(dead_letters.c.status == "open"))).scalar()
            open_triage = (await conn.execute(select(func.count()).select_from(triage_items)
                                              .where(triage_items.c.status == "open"))).scalar()
        return page("overview", request, session,
                    database=await health.database_ok(console.engine),
                    broker=await health.broker_state(console.bootstrap, console.topics,
                                                     console.group_base),
                    flow=await health.flow(console.engine, console.topics, now),
                    open_dead_letters=open_letters, open_triage=open_triage)

    def filters_of(topic: str | None, reason: str | None, source: str | None,
                   status: str | None, since: str | None, until: str | None) -> dl.Filters:
        def moment(text: str | None) -> datetime | None:
            if not text:
                return None
            parsed = datetime.fromisoformat(text)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=console.clock().tzinfo)
        return dl.Filters(topic or None, reason or None, source or None, status or None,
                          moment(since), moment(until))

    @app.get("/dead-letters", response_class=HTMLResponse)
    async def list_letters(request: Request, session: viewer, topic: str | None = None,
                           reason: str | None = None, source: str | None = None,
                           status: str | None = "open", since: str | None = None,
                           until: str | None = None) -> HTMLResponse:
        filters = filters_of(topic, reason, source, status, since, until)
        async with console.engine.connect() as conn:
            rows = await dl.find(conn, filters)
        query = {k: v or "" for k, v in {"topic": topic, "reason": reason, "source": source,
                                         "since": since, "until": until}.items()}
        return page("list", request, session, rows=rows, filters=filters, query=query,
                    since=since or "", until=until or "",
                    dlq_topics=[Topics.dead_letter(t) for t in console.topics.inputs],
                    can_act=session.role.allows(Role.OPERATOR))

    async def detail(request: Request, session: Session, letter_id: int, *,
                     revealed: bytes | None = None, error: str | None = None,
                     status: int = 200) -> HTMLResponse:
        async with console.engine.connect() as conn:
            letter = await dl.load(conn, letter_id)
        if letter is None:
            raise HTTPException(404, "no such dead letter")
        for action in letter.actions:
            action["edits_shown"] = ", ".join(
                f"{e['path']} = {_shown(e['path'], e['value'])}" for e in action["edits"] or [])
        payload = revealed.decode(errors="replace") if revealed is not None else \
            dl.masked(letter.value)
        return page("detail", request, session, status, row=letter.row, payload=payload,
                    revealed=revealed is not None, error_headers=letter.error_headers,
                    actions=letter.actions, can_act=session.role.allows(Role.OPERATOR),
                    error=error)

    @app.get("/dead-letters/{letter_id}", response_class=HTMLResponse)
    async def show_letter(request: Request, letter_id: int, session: viewer) -> HTMLResponse:
        return await detail(request, session, letter_id)

    @app.post("/dead-letters/{letter_id}/reveal", response_class=HTMLResponse)
    async def reveal_letter(request: Request, letter_id: int, session: posted,
                            reason: Annotated[str, Form()] = "") -> HTMLResponse:
        _operator(session)
        try:
            value = await dl.reveal(console.engine, letter_id, actor=session.user,
                                    now=console.clock(), reason=reason)
        except ValueError as refused:
            return await detail(request, session, letter_id, error=str(refused), status=400)
        return await detail(request, session, letter_id, revealed=value)

    @app.post("/dead-letters/{letter_id}/replay", response_class=HTMLResponse)
    async def replay_letter(request: Request, letter_id: int, session: posted,
                            version: Annotated[int, Form()], path: Annotated[str, Form()] = "",
                            value: Annotated[str, Form()] = "",
                            reason: Annotated[str, Form()] = "") -> Response:
        _operator(session)
        edits = [(path.strip(), value)] if path.strip() else None
        assert console.producer is not None
        try:
            await dl.replay(console.engine, console.producer, letter_id, version=version,
                            actor=session.user, now=console.clock(), edits=edits,
                            reason=reason or None)
        except dl.AlreadyActedOn as taken:
            return await detail(request, session, letter_id, error=str(taken), status=409)
        except dl.EditRefused as refused:
            return await detail(request, session, letter_id, status=400,
                                error="Not replayed: the edited message would still be refused: "
                                      + "; ".join(refused.problems))
        request.session["flash"] = "Replayed. The outcome shows below once the hub has it."
        return RedirectResponse(f"/dead-letters/{letter_id}", status_code=303)

    @app.post("/dead-letters/{letter_id}/discard", response_class=HTMLResponse)
    async def discard_letter(request: Request, letter_id: int, session: posted,
                             version: Annotated[int, Form()],
                             reason: Annotated[str, Form()] = "") -> Response:
        _operator(session)
        try:
            await dl.discard(console.engine, letter_id, version=version, actor=session.user,
                             reason=reason, now=console.clock())
        except dl.AlreadyActedOn as taken:
            return await detail(request, session, letter_id, error=str(taken), status=409)
        except ValueError as refused:
            return await detail(request, session, letter_id, error=str(refused), status=400)
        request.session["flash"] = "Discarded."
        return RedirectResponse(f"/dead-letters/{letter_id}", status_code=303)

    @app.post("/dead-letters/replay-filtered")
    async def replay_filtered(request: Request, session: posted,
                              topic: Annotated[str, Form()] = "",
                              reason: Annotated[str, Form()] = "",
                              source: Annotated[str, Form()] = "",
                              since: Annotated[str, Form()] = "",
                              until: Annotated[str, Form()] = "") -> Response:
        _operator(session)
        assert console.producer is not None
        counts = await dl.replay_all(
            console.engine, console.producer,
            filters_of(topic, reason, source, "open", since, until), actor=session.user,
            now=console.clock(), reason="bulk replay")
        request.session["flash"] = (f"Replayed {counts['replayed']}; skipped "
                                    f"{counts['skipped']} already acted on.")
        return RedirectResponse("/dead-letters?status=replayed", status_code=303)

    @app.get("/triage", response_class=HTMLResponse)
    async def triage(request: Request, session: viewer) -> HTMLResponse:
        async with console.engine.connect() as conn:
            items = await open_items(conn)
        authorities = [(p.authority_code, p.authority_name)
                       for p in console.triage.providers.providers]
        return page("triage", request, session, items=items, authorities=authorities,
                    can_act=session.role.allows(Role.OPERATOR))

    @app.post("/triage/{item_id}/route")
    async def route_item(request: Request, item_id: str, session: posted,
                         authority: Annotated[str, Form()],
                         reason: Annotated[str, Form()] = "") -> Response:
        _operator(session)
        try:
            async with console.engine.begin() as conn:
                pending = await route(conn, item_id, authority, console.triage,
                                      actor=session.user, reason=reason, now=console.clock())
        except (AlreadyResolved, ValueError) as refused:
            raise HTTPException(409, str(refused)) from None
        await _publish(pending)
        request.session["flash"] = "Routed to the provider."
        return RedirectResponse("/triage", status_code=303)

    @app.post("/triage/{item_id}/match")
    async def match_item(request: Request, item_id: str, session: posted,
                         same_person: Annotated[str, Form()] = "",
                         reason: Annotated[str, Form()] = "") -> Response:
        _operator(session)
        try:
            async with console.engine.begin() as conn:
                await decide_match(conn, item_id, same_person=same_person or None,
                                   actor=session.user, reason=reason, now=console.clock())
        except (AlreadyResolved, ValueError) as refused:
            raise HTTPException(409, str(refused)) from None
        request.session["flash"] = "Merged." if same_person else "Kept apart."
        return RedirectResponse("/triage", status_code=303)

    async def _publish(pending: list[journal.PendingMessage]) -> None:
        assert console.producer is not None
        for item in pending:
            m = item.message
            await console.producer.send_and_wait(m.topic, m.value, key=m.key,
                                                 headers=list(m.headers))
        async with console.engine.begin() as conn:
            await journal.mark_published(conn, [p.outbox_id for p in pending], console.clock())

    @app.get("/audit", response_class=HTMLResponse)
    async def audit(request: Request, session: viewer) -> HTMLResponse:
        async with console.engine.connect() as conn:
            actions = await dl.audit(conn)
            decisions = (await conn.execute(select(triage_decisions).order_by(
                triage_decisions.c.id.desc()).limit(500))).all()
        return page("audit", request, session, actions=actions, decisions=decisions)

    @app.get("/healthz", response_class=PlainTextResponse)
    async def healthz() -> str:
        return "ok"

    @app.get("/readyz", response_class=PlainTextResponse)
    async def readyz() -> Response:
        database = await health.database_ok(console.engine)
        broker = await health.broker_state(console.bootstrap, console.topics,
                                           console.group_base)
        ready = database and broker.reachable
        return PlainTextResponse(
            f"database {'ok' if database else 'unreachable'}\n"
            f"broker {'ok' if broker.reachable else 'unreachable'}\n",
            status_code=200 if ready else 503)

    @app.get("/metrics")
    async def metrics() -> Response:
        registry = CollectorRegistry()
        lag = GaugeMetricFamily("hub_consumer_lag", "Records not yet committed by the hub's "
                                "consumer group.", labels=["topic", "partition"])
        members = GaugeMetricFamily("hub_consumer_group_members", "Hub instances in each "
                                    "consumer group.", labels=["group"])
        letters = GaugeMetricFamily("hub_dead_letters_open", "Dead letters waiting for an "
                                    "operator.", labels=["topic", "reason"])
        broker = await health.broker_state(console.bootstrap, console.topics,
                                           console.group_base)
        for p in broker.lag:
            lag.add_metric([p.topic, str(p.partition)], p.lag)
        for group, n in broker.members.items():
            members.add_metric([group], n)
        async with console.engine.connect() as conn:
            for row in await conn.execute(
                    select(dead_letters.c.topic, dead_letters.c.reason, func.count())
                    .where(dead_letters.c.status == "open")
                    .group_by(dead_letters.c.topic, dead_letters.c.reason)):
                letters.add_metric([row[0], row[1]], row[2])
        collected = [lag, members, letters]
        registry.register(_Fixed(collected))
        from prometheus_client import REGISTRY

        body = generate_latest(registry) + generate_latest(REGISTRY)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return app


def _shown(path: str, value: str) -> str:
    """An edit as the audit shows it: personal values masked."""
    return dl.MASK if path.rsplit(".", maxsplit=1)[-1] in dl.PERSONAL else value


def _operator(session: Session) -> None:
    if not session.role.allows(Role.OPERATOR):
        raise HTTPException(403, "operator role needed")


class _Fixed:
    """A collector returning metric families computed for this scrape."""

    def __init__(self, families: list[Any]) -> None:
        self.families = families

    def collect(self) -> list[Any]:
        return self.families
