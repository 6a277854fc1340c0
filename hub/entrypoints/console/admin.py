"""Admin-only page: console users — list, create (never over an existing one), set a new
password (the role stays), change role, disable / enable. Each change ends the user's sessions.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import logging
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Path, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.operators import ConsoleUser, Role
from hub.entrypoints.console.session import (
    Admin,
    Console,
    Posted,
    Session,
    console_of,
    page,
    require,
)
from hub.service.operations.users import UserExists, change_user, list_users, save_user

router = APIRouter()
log = logging.getLogger("hub.ops")


async def users_page(
    request: Request, session: Session, status: int = 200, error: str | None = None
) -> HTMLResponse:
    users = await list_users(console_of(request).ops.users)
    return page("users", request, session, status, users=users, roles=list(Role), error=error)


async def users_named(console: Console, username: str) -> ConsoleUser | None:
    return next((u for u in await list_users(console.ops.users) if u.username == username), None)


def role_of(text: str) -> Role:
    try:
        return Role(text)
    except ValueError:
        raise HTTPException(400, "role: viewer, operator or admin") from None


@router.get("/admin/users", response_class=HTMLResponse)
async def users(request: Request, session: Admin) -> HTMLResponse:
    return await users_page(request, session)


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(
    request: Request,
    session: Posted,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "viewer",
) -> Response:
    require(session, Role.ADMIN)
    console = console_of(request)
    try:
        await save_user(
            console.ops.users,
            username.strip(),
            password,
            role_of(role),
            console.clock(),
            actor=session.user,
            create_only=True,
        )
    except UserExists as taken:
        return await users_page(request, session, 409, str(taken))
    except ValueError as refused:
        return await users_page(request, session, 400, str(refused))
    log.info("console user created by %s (role %s)", session.user, role)
    request.session["flash"] = f"User {username.strip()} created ({role})."
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}/password", response_class=HTMLResponse)
async def set_password(
    request: Request,
    username: Annotated[str, Path(max_length=100)],
    session: Posted,
    password: Annotated[str, Form()] = "",
) -> Response:
    """A new password; the role stays as it is; the user's sessions end."""
    require(session, Role.ADMIN)
    console = console_of(request)
    if await users_named(console, username) is None:
        raise HTTPException(404, "no such user")
    try:
        await save_user(
            console.ops.users, username, password, None, console.clock(), actor=session.user
        )
    except ValueError as refused:
        return await users_page(request, session, 400, str(refused))
    own = username == session.user
    request.session["flash"] = f"New password set for {username}." + (
        " Log in again with it." if own else ""
    )
    return RedirectResponse("/admin/users", status_code=303)


@router.post("/admin/users/{username}", response_class=HTMLResponse)
async def change(
    request: Request,
    username: Annotated[str, Path(max_length=100)],
    session: Posted,
    role: Annotated[str, Form()] = "",
    disabled: Annotated[str, Form()] = "",
) -> Response:
    require(session, Role.ADMIN)
    if username == session.user and (disabled == "yes" or (role and role != "admin")):
        return await users_page(request, session, 400, "you cannot disable or demote yourself")
    try:
        console = console_of(request)
        await change_user(
            console.ops.users,
            username,
            role=role_of(role) if role else None,
            disabled={"yes": True, "no": False}.get(disabled),
            actor=session.user,
            now=console.clock(),
        )
    except LookupError:
        raise HTTPException(404, "no such user") from None
    request.session["flash"] = f"User {username} changed."
    return RedirectResponse("/admin/users", status_code=303)
