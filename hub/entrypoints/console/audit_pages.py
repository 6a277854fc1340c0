"""The audit page (filtered by person, user, action and time; paged) and the admin-only view
of the values an operator typed into an edit, which is itself audited.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import uuid
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.audit import ACTIONS, AuditFilters
from hub.core.operators import Role
from hub.core.paging import SIZES
from hub.entrypoints.console.session import (
    Admin,
    Posted,
    RowId,
    Shown,
    Viewer,
    console_of,
    local_moment,
    page,
    paging_of,
    require,
)
from hub.service.operations import audit as au

router = APIRouter()
Text = Annotated[str | None, Query(max_length=100)]


@router.get("/audit", response_class=HTMLResponse)
async def audit(
    request: Request,
    session: Viewer,
    person: Text = None,
    user: Text = None,
    action: Text = None,
    since: Text = None,
    until: Text = None,
    page_number: Annotated[int, Query(alias="page", ge=1, le=10**6)] = 1,
    size: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> HTMLResponse:
    console = console_of(request)
    if person:
        try:
            person = str(uuid.UUID(person))
        except ValueError:
            raise HTTPException(422, "person: a person id (a UUID)") from None
    if action and action not in ACTIONS:
        raise HTTPException(422, f"action: one of {', '.join(ACTIONS)}")
    filters = AuditFilters(
        person or None,
        user or None,
        action or None,
        local_moment(since, "from"),
        local_moment(until, "to"),
    )
    found = await au.search(
        console.ops.audit,
        console.ops.dead_letters,
        filters,
        paging_of(page_number, size),
        console.clock(),
    )
    query = urlencode(
        {
            k: v
            for k, v in (
                ("person", person),
                ("user", user),
                ("action", action),
                ("since", since),
                ("until", until),
                ("size", size),
            )
            if v
        }
    )
    return page(
        "audit",
        request,
        session,
        found=found,
        filters=filters,
        actions=ACTIONS,
        since=since or "",
        until=until or "",
        sizes=SIZES,
        query=query,
    )


@router.get("/audit/edits/{action_id}", response_class=HTMLResponse)
async def edit_values(
    request: Request, action_id: RowId, session: Admin, shown: Shown = None
) -> HTMLResponse:
    """Masked; the values shown once when `shown` is the grant their recorded view gave."""
    console = console_of(request)
    action = await au.edit_action(console.ops.dead_letters, action_id)
    if action is None:
        raise HTTPException(404, "no edit with that number")
    revealed = shown is not None and console.grants.take(
        shown, session.user, f"edit:{action_id}", console.clock()
    )
    error = (
        None
        if shown is None or revealed
        else ("The view of the values has ended (it is shown once); ask again (recorded).")
    )
    return page("edits", request, session, action=action, shown=revealed, error=error)


@router.post("/audit/edits/{action_id}/view", response_class=HTMLResponse)
async def view_edit_values(
    request: Request, action_id: RowId, session: Posted, reason: Annotated[str, Form()] = ""
) -> Response:
    """Records the view (an admin's, with a reason), then redirects to a one-use view."""
    require(session, Role.ADMIN)
    console = console_of(request)
    now = console.clock()
    try:
        await au.view_edited_values(
            console.ops.dead_letters, action_id, actor=session.user, reason=reason, now=now
        )
    except LookupError:
        raise HTTPException(404, "no edit with that number") from None
    except ValueError as refused:
        raise HTTPException(422, str(refused)) from None
    grant = console.grants.grant(session.user, f"edit:{action_id}", now)
    return RedirectResponse(f"/audit/edits/{action_id}?shown={grant}", status_code=303)
