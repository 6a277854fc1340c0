"""Console pages for the triage queue: route a referral held for its residence, confirm or
reject a possible match; an identity review's details side by side, masked unless revealed
(audited).

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import logging
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.operators import Role
from hub.core.registry import PendingMessage
from hub.core.triage import CLOSE_OUTCOMES, DEMOGRAPHICS, AlreadyResolved, preselected
from hub.entrypoints.console.session import (
    Posted,
    Session,
    Shown,
    Viewer,
    console_of,
    page,
    require,
)
from hub.service.operations import triage as tr

router = APIRouter()


@contextmanager
def _refused_as_http() -> Iterator[None]:
    """A refused decision as the page's answer: 400 (the form), 409 (already decided)."""
    try:
        yield
    except ValueError as refused:
        raise HTTPException(400, str(refused)) from None
    except AlreadyResolved as refused:
        raise HTTPException(409, str(refused)) from None


log = logging.getLogger("hub.ops")


async def queue(
    request: Request,
    session: Session,
    *,
    revealed: str | None = None,
    status: int = 200,
    error: str | None = None,
) -> HTMLResponse:
    console = console_of(request)
    found = await tr.queue(console.ops.triage)
    providers = console.triage.providers
    authorities = [(p.authority_code, p.authority_name) for p in providers.providers]
    chosen = {str(i.id): preselected(i, providers.authority_codes) for i in found.items}
    return page(
        "triage",
        request,
        session,
        status,
        items=found.items,
        authorities=authorities,
        chosen=chosen,
        outcomes=CLOSE_OUTCOMES,
        reviews=found.reviews,
        people=found.people,
        fields=DEMOGRAPHICS,
        districts=found.districts,
        revealed=revealed,
        can_act=session.role.allows(Role.OPERATOR),
        error=error,
    )


@router.get("/triage", response_class=HTMLResponse)
async def triage(
    request: Request, session: Viewer, item: uuid.UUID | None = None, shown: Shown = None
) -> HTMLResponse:
    """The queue, masked; one review revealed once when `shown` is the grant its recorded
    reveal redirected with."""
    console = console_of(request)
    if item is None or shown is None:
        return await queue(request, session)
    if session.role.allows(Role.OPERATOR) and console.grants.take(
        shown, session.user, f"triage:{item}", console.clock()
    ):
        return await queue(request, session, revealed=str(item))
    return await queue(
        request,
        session,
        error="The revealed view has ended (it is shown once); reveal again to see it (recorded).",
    )


@router.post("/triage/{item_id}/reveal", response_class=HTMLResponse)
async def reveal_item(
    request: Request, item_id: uuid.UUID, session: Posted, reason: Annotated[str, Form()] = ""
) -> Response:
    """Records the reveal, then redirects to a one-use view of it."""
    require(session, Role.OPERATOR)
    console = console_of(request)
    now = console.clock()
    try:
        await tr.record_reveal(
            console.ops.triage, str(item_id), actor=session.user, reason=reason, now=now
        )
    except ValueError as refused:
        return await queue(request, session, status=400, error=str(refused))
    except AlreadyResolved as refused:
        raise HTTPException(404, str(refused)) from None
    grant = console.grants.grant(session.user, f"triage:{item_id}", now)
    return RedirectResponse(f"/triage?item={item_id}&shown={grant}", status_code=303)


@router.post("/triage/{item_id}/route")
async def route_item(
    request: Request,
    item_id: uuid.UUID,
    session: Posted,
    authority: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Two steps: the chosen authority is named back with its provider, and only a second
    POST that confirms that same authority sends anything."""
    require(session, Role.OPERATOR)
    console = console_of(request)
    chosen = console.triage.providers.by_authority(authority) if authority else None
    if chosen is None:
        raise HTTPException(400, "choose the authority the person lives in")
    if not reason.strip():
        raise HTTPException(400, "a reason is required")
    if confirm != authority:
        return page(
            "confirm_route",
            request,
            session,
            item_id=str(item_id),
            provider=chosen,
            reason=reason.strip(),
        )
    with _refused_as_http():
        provider, pending = await tr.route(
            console.ops.triage,
            str(item_id),
            authority,
            console.triage,
            actor=session.user,
            reason=reason,
            now=console.clock(),
        )
    await _send(request, pending, f"Routed to {provider.name} ({provider.authority_name}).")
    return RedirectResponse("/triage", status_code=303)


async def _send(request: Request, pending: list[PendingMessage], done: str) -> None:
    """Publish a committed decision's messages once; the flash says what happened (the hub's
    outbox relay sends what the broker did not acknowledge)."""
    console = console_of(request)
    try:
        assert console.producer is not None
        await tr.publish(console.ops.outbox(console.producer, console.clock), pending)
        request.session["flash"] = done
    except Exception as error:  # committed: the hub's outbox relay sends it
        log.warning(
            "triage decision committed, publish failed (%s); the outbox relay will send it",
            type(error).__name__,
        )
        request.session["flash"] = (
            f"{done} Decision recorded; the referral is queued and "
            "will be sent when the broker is reachable."
        )


@router.post("/triage/{item_id}/close")
async def close_item(
    request: Request,
    item_id: uuid.UUID,
    session: Posted,
    outcome: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    with _refused_as_http():
        await tr.close(
            console.ops.triage,
            str(item_id),
            outcome,
            actor=session.user,
            reason=reason,
            now=console.clock(),
        )
    request.session["flash"] = f"Closed without routing: {CLOSE_OUTCOMES[outcome]}."
    return RedirectResponse("/triage", status_code=303)


@router.post("/triage/{item_id}/match")
async def match_item(
    request: Request,
    item_id: uuid.UUID,
    session: Posted,
    same_person: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    with _refused_as_http():
        decided = await tr.decide_match(
            console.ops.triage,
            str(item_id),
            console.triage,
            same_person=same_person or None,
            actor=session.user,
            reason=reason,
            now=console.clock(),
        )
    done = (
        f"Merged (merge {decided.merge_id}; undo: hub person unmerge {decided.merge_id}"
        " --operator … --reason …)."
        if same_person
        else "Kept apart."
    )
    if decided.released_to is not None:
        done += f" The held referral was sent to {decided.released_to.name}."
    if decided.answered:
        done += (
            f" {decided.answered} open court or probation request(s) answered with the"
            " assessment on record."
        )
    if decided.lapsed:
        done += (
            f" {decided.lapsed} court or probation request(s) past their date closed unanswered."
        )
    await _send(request, decided.pending, done)
    return RedirectResponse("/triage", status_code=303)
