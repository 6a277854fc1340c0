"""Console pages for the triage queue: route a referral held for its residence, confirm or
reject a possible match; an identity review's details side by side, masked unless revealed
(audited).

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import logging
import uuid
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.operators import Role
from hub.core.triage import DEMOGRAPHICS, AlreadyResolved
from hub.entrypoints.console.session import (
    Posted,
    Session,
    Viewer,
    console_of,
    page,
    require,
)
from hub.service.operations import triage as tr

router = APIRouter()
log = logging.getLogger("hub.ops")


async def queue(request: Request, session: Session, *, revealed: str | None = None,
                status: int = 200, error: str | None = None) -> HTMLResponse:
    console = console_of(request)
    found = await tr.queue(console.ops.triage)
    authorities = [(p.authority_code, p.authority_name)
                   for p in console.triage.providers.providers]
    return page("triage", request, session, status, items=found.items,
                authorities=authorities, reviews=found.reviews, people=found.people,
                fields=DEMOGRAPHICS, districts=found.districts,
                revealed=revealed, can_act=session.role.allows(Role.OPERATOR), error=error)


@router.get("/triage", response_class=HTMLResponse)
async def triage(request: Request, session: Viewer) -> HTMLResponse:
    return await queue(request, session)


@router.post("/triage/{item_id}/reveal", response_class=HTMLResponse)
async def reveal_item(request: Request, item_id: uuid.UUID, session: Posted,
                      reason: Annotated[str, Form()] = "") -> HTMLResponse:
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        await tr.record_reveal(console.ops.triage, str(item_id), actor=session.user,
                               reason=reason, now=console.clock())
    except ValueError as refused:
        return await queue(request, session, status=400, error=str(refused))
    except AlreadyResolved as refused:
        raise HTTPException(404, str(refused)) from None
    return await queue(request, session, revealed=str(item_id))


@router.post("/triage/{item_id}/route")
async def route_item(request: Request, item_id: uuid.UUID, session: Posted,
                     authority: Annotated[str, Form()] = "",
                     reason: Annotated[str, Form()] = "") -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        pending = await tr.route(console.ops.triage, str(item_id), authority, console.triage,
                                 actor=session.user, reason=reason, now=console.clock())
    except ValueError as refused:
        raise HTTPException(400, str(refused)) from None
    except AlreadyResolved as refused:
        raise HTTPException(409, str(refused)) from None
    try:
        assert console.producer is not None
        await tr.publish(console.ops.outbox(console.producer, console.clock), pending)
        request.session["flash"] = "Routed to the provider."
    except Exception as error:  # committed: the hub's outbox relay sends it
        log.warning("triage decision committed, publish failed (%s); the outbox relay "
                    "will send it", type(error).__name__)
        request.session["flash"] = ("Decision recorded; the referral is queued and will be "
                                    "sent when the broker is reachable.")
    return RedirectResponse("/triage", status_code=303)


@router.post("/triage/{item_id}/match")
async def match_item(request: Request, item_id: uuid.UUID, session: Posted,
                     same_person: Annotated[str, Form()] = "",
                     reason: Annotated[str, Form()] = "") -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        await tr.decide_match(console.ops.triage, str(item_id), same_person=same_person or None,
                              actor=session.user, reason=reason, now=console.clock())
    except ValueError as refused:
        raise HTTPException(400, str(refused)) from None
    except AlreadyResolved as refused:
        raise HTTPException(409, str(refused)) from None
    request.session["flash"] = "Merged." if same_person else "Kept apart."
    return RedirectResponse("/triage", status_code=303)
