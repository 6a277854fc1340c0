"""What every console page shares: the console's parts, the signed-in user (checked against the
database on every request: a session ends at its absolute expiry, after `idle_minutes` without a
request, and when the user's session epoch moves on — logout, a new password, a role change,
disabling), the role checks, the CSRF check on forms, and page rendering.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import hmac
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from aiokafka import AIOKafkaProducer
from fastapi import Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse

from hub.adapters.kafka.access import KafkaAccess
from hub.adapters.kafka.on_demand import ProducerOnDemand
from hub.bootstrap import Operations
from hub.core.dead_letters import uk_moment
from hub.core.masking import NONE_KNOWN, KnownSources
from hub.core.operators import LoginThrottle, RevealGrants, Role
from hub.core.paging import Paging
from hub.core.topics import Topics
from hub.entrypoints.console.pages import PAGES
from hub.service.operations.health import BrokerProbe
from hub.service.operations.triage import TriageEnv
from hub.service.operations.users import current_role


@dataclass
class Console:
    """What the console needs; built once, kept on `app.state.console`."""

    ops: Operations
    bootstrap: KafkaAccess | str
    topics: Topics
    broker: BrokerProbe
    triage: TriageEnv
    session_minutes: int
    clock: Callable[[], datetime]
    idle_minutes: int = 15
    sources: KnownSources = NONE_KNOWN
    #: Started on first use (the console serves pages while the broker is away).
    producer: AIOKafkaProducer | ProducerOnDemand | None = None
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    grants: RevealGrants = field(default_factory=RevealGrants)


@dataclass(frozen=True)
class Session:
    user: str
    role: Role
    csrf: str


class LoginNeeded(Exception):  # noqa: N818
    """No session; `expired`: there was one and it ended (nothing of this request was done)."""

    def __init__(self, *, expired: bool) -> None:
        super().__init__("login needed")
        self.expired = expired


def console_of(request: Request) -> Console:
    found: Console = request.app.state.console
    return found


def same_token(given: str, expected: str) -> bool:
    """Constant-time comparison that also takes non-ASCII input (a refusal, not a crash)."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


async def signed_in(request: Request) -> Session:
    console = console_of(request)
    user, now = request.session.get("user"), console.clock().timestamp()
    if not user:
        raise LoginNeeded(expired=False)
    lapsed = (
        now > request.session.get("expires", 0)
        or now - request.session.get("seen", 0) > console.idle_minutes * 60
    )
    role = (
        None
        if lapsed
        else await current_role(console.ops.users, user, request.session.get("epoch", -1))
    )
    if role is None:
        request.session.clear()
        raise LoginNeeded(expired=True)
    request.session["seen"] = now
    return Session(user, role, request.session["csrf"])


def needs(role: Role) -> Callable[..., Any]:
    async def check(session: Annotated[Session, Depends(signed_in)]) -> Session:
        require(session, role)
        return session

    return check


def require(session: Session, role: Role) -> None:
    if not session.role.allows(role):
        raise HTTPException(403, f"{role.value} role needed")


async def csrf_checked(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
) -> Session:
    if not same_token(csrf, session.csrf):
        raise HTTPException(403, "the form is out of date (CSRF check); reload the page")
    return session


#: Ids and versions as the database stores them (bigint, integer): outside, a 422, not a 500.
BIGINT, INTEGER = 2**63 - 1, 2**31 - 1
RowId = Annotated[int, Path(ge=1, le=BIGINT)]
Version = Annotated[int, Form(ge=0, le=INTEGER)]

#: The one-use grant a reveal redirects with (`?shown=`).
Shown = Annotated[str | None, Query(max_length=64)]

Viewer = Annotated[Session, Depends(needs(Role.VIEWER))]
Admin = Annotated[Session, Depends(needs(Role.ADMIN))]
#: A form post with a valid CSRF token; its handler then checks the role it needs.
Posted = Annotated[Session, Depends(csrf_checked)]


def page(
    name: str, request: Request, session: Session | None, status: int = 200, **values: Any
) -> HTMLResponse:
    html = PAGES.get_template(name).render(
        user=session.user if session else None,
        role=session.role if session else None,
        csrf=session.csrf if session else request.session.get("csrf", ""),
        flash=request.session.pop("flash", None),
        **values,
    )
    return HTMLResponse(html, status_code=status)


def local_moment(text: str | None, what: str) -> datetime | None:
    """A time typed by staff (UK time unless it says otherwise); 400 when it is not one."""
    try:
        return uk_moment(text)
    except ValueError as refused:
        raise HTTPException(400, f"{what}: {refused}") from None


def paging_of(number: int, size: int) -> Paging:
    """The page asked for; 422 when its size is not one the console offers."""
    try:
        return Paging(number, size)
    except ValueError as refused:
        raise HTTPException(422, str(refused)) from None
