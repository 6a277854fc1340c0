"""Admin-only page: console users — list, create, change role, disable / enable.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import logging
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.operators import Role
from hub.entrypoints.console.session import Admin, Posted, Session, console_of, page, require
from hub.service.operations.users import change_user, list_users, save_user

router = APIRouter()
log = logging.getLogger("hub.ops")


async def users_page(request: Request, session: Session, status: int = 200,
                     error: str | None = None) -> HTMLResponse:
    users = await list_users(console_of(request).ops.users)
    return page("users", request, session, status, users=users, roles=list(Role), error=error)


def role_of(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise HTTPException(400, "role: viewer, operator or admin") from None


@router.get("/admin/users", response_class=HTMLResponse)
async def users(request: Request, session: Admin) -> HTMLResponse:
    return await users_page(request, session)


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(request: Request, session: Posted,
                      username: Annotated[str, Form()] = "",
                      password: Annotated[str, Form()] = "",
                      role: Annotated[str, Form()] = "viewer") -> Response:
    require(session, Role.ADMIN)
    if username.strip() == session.user and role != Role.ADMIN.value:
        return await users_page(request, session, 400, "you cannot disable or demote yourself")
    console = console_of(request)
    try:
        await save_user(console.ops.users, username.strip(), password, role_of(role),
                        console.clock(), actor=session.user)
    except ValueError as refused:
        return await users_page(request, session, 400, str(refused))
    log.info("console user saved by %s (role %s)", session.user, role)
    request.session["flash"] = f"User {username.strip()} saved ({role})."
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}", response_class=HTMLResponse)
async def change(request: Request, username: str, session: Posted,
                 role: Annotated[str, Form()] = "",
                 disabled: Annotated[str, Form()] = "") -> Response:
    require(session, Role.ADMIN)
    if username == session.user and (disabled == "yes" or (role and role != "admin")):
        return await users_page(request, session, 400, "you cannot disable or demote yourself")
    try:
        console = console_of(request)
        await change_user(console.ops.users, username, role=role_of(role) if role else None,
                          disabled={"yes": True, "no": False}.get(disabled),
                          actor=session.user, now=console.clock())
    except LookupError:
        raise HTTPException(404, "no such user") from None
    request.session["flash"] = f"User {username} changed."
    return RedirectResponse("/admin/users", status_code=303)
