"""Console pages for the triage queue: route a referral held for its residence, confirm or
reject a possible match; an identity review's details side by side, masked unless revealed
(audited).

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import logging
import uuid
from typing import Annotated, Any

from aiokafka.errors import KafkaError
from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.adapters.kafka.outbox import publish_rows
from hub.adapters.postgres import journal
from hub.core.messages import OutboundMessage
from hub.entrypoints.console.session import (
    Console,
    Posted,
    Session,
    Viewer,
    console_of,
    page,
    require,
)
from hub.entrypoints.console.triage import (
    DEMOGRAPHICS,
    AlreadyResolved,
    compared,
    decide_match,
    demographics,
    open_items,
    postcode_districts,
    record_reveal,
    route,
)
from hub.entrypoints.console.users import Role

router = APIRouter()
log = logging.getLogger("hub.ops")


async def queue(request: Request, session: Session, *, revealed: str | None = None,
                status: int = 200, error: str | None = None) -> HTMLResponse:
    console = console_of(request)
    async with console.engine.connect() as conn:
        items = await open_items(conn)
        people = await demographics(conn, [p for i in items if not i.referral_id for p in (
            str(i.person_id), *(c["person_id"] for c in i.candidates))])
        districts = await postcode_districts(conn, [str(i.referral_id) for i in items
                                                    if i.referral_id])
    reviews: dict[str, list[dict[str, Any]]] = {}
    for item in items:
        if item.referral_id:
            continue
        mine = people.get(str(item.person_id), {})
        reviews[str(item.id)] = [
            {"person_id": c["person_id"], "score": c["score"], "reasons": c["reasons"],
             "compared": compared(mine, people.get(c["person_id"], {})),
             "values": people.get(c["person_id"], {})} for c in item.candidates]
    authorities = [(p.authority_code, p.authority_name)
                   for p in console.triage.providers.providers]
    return page("triage", request, session, status, items=items, authorities=authorities,
                reviews=reviews, people=people, fields=DEMOGRAPHICS, districts=districts,
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
        async with console.engine.begin() as conn:
            await record_reveal(conn, str(item_id), actor=session.user, reason=reason,
                                now=console.clock())
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
        async with console.engine.begin() as conn:
            pending = await route(conn, str(item_id), authority, console.triage,
                                  actor=session.user, reason=reason, now=console.clock())
    except ValueError as refused:
        raise HTTPException(400, str(refused)) from None
    except AlreadyResolved as refused:
        raise HTTPException(409, str(refused)) from None
    try:
        await publish(console, pending)
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
        async with console.engine.begin() as conn:
            await decide_match(conn, str(item_id), same_person=same_person or None,
                               actor=session.user, reason=reason, now=console.clock())
    except ValueError as refused:
        raise HTTPException(400, str(refused)) from None
    except AlreadyResolved as refused:
        raise HTTPException(409, str(refused)) from None
    request.session["flash"] = "Merged." if same_person else "Kept apart."
    return RedirectResponse("/triage", status_code=303)


async def publish(console: Console, pending: list[journal.PendingMessage]) -> None:
    """Send once, holding the rows' locks (so the relay never sends them too); what is not
    acknowledged stays in the outbox for the relay."""
    producer = console.producer
    assert producer is not None

    async def send(messages: list[OutboundMessage]) -> list[bool]:
        acked: list[bool] = []
        for m in messages:
            if acked and not acked[-1]:
                acked.append(False)  # keep the order: nothing after a failure
                continue
            try:
                await producer.send_and_wait(m.topic, m.value, key=m.key,
                                             headers=list(m.headers))
                acked.append(True)
            except KafkaError:
                acked.append(False)
        return acked

    # Not cancelled on a deadline: a cancelled send may still be delivered, and the rows would
    # then be sent again by the relay. The producer's request timeout bounds it instead.
    left = await publish_rows(console.engine, send, pending, console.clock)
    if left:
        raise KafkaError(f"{len(left)} message(s) not acknowledged")
