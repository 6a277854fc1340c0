"""Error pages in the console's layout (404, 403, 409, 422, 500, …) for the browser routes;
the probes (`/healthz`, `/readyz`, `/metrics`) keep their plain answers. A page names what was
wrong (the field of a refused form, never the value typed) and offers the way back."""

from __future__ import annotations

import logging
from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.entrypoints.console.headers import HEADERS
from hub.entrypoints.console.pages import PAGES

log = logging.getLogger("hub.ops")
PROBES = ("/healthz", "/readyz", "/metrics")


def error_page(
    request: Request | None, status: int, detail: str, problems: list[str] | None = None
) -> HTMLResponse:
    """The page: the layout (with the signed-in user's name, as the session says), the
    status's title, what happened and the way back."""
    session = request.scope.get("session", {}) if request is not None else {}
    path = request.url.path if request is not None else "/"
    back = "/".join(path.rstrip("/").split("/")[:-1]) or "/"
    html = PAGES.get_template("error").render(
        user=session.get("user"),
        role=None,
        csrf=session.get("csrf", ""),
        flash=None,
        status=status,
        title=HTTPStatus(status).phrase,
        detail=detail,
        problems=problems,
        back=back,
    )
    return HTMLResponse(html, status_code=status)


def where(location: tuple[int | str, ...]) -> str:
    """`path id`, `form field version`: where a refused request was wrong."""
    kind, *names = [str(part) for part in location] or ["request"]
    kind = {"body": "form field", "query": "query parameter", "path": "address part"}.get(
        kind, kind
    )
    return f"{kind} {'.'.join(names)}".strip()


def install_error_pages(app: FastAPI) -> None:
    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path in PROBES:
            return PlainTextResponse(str(exc.detail), exc.status_code, headers=exc.headers)
        detail = (
            exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).description
        )
        page = error_page(request, exc.status_code, detail)
        page.headers.update(exc.headers or {})
        return page

    @app.exception_handler(RequestValidationError)
    async def refused(request: Request, exc: RequestValidationError) -> Response:
        # The message and where, never the input (it may be personal data).
        problems = [
            f"{where(tuple(e.get('loc', ())))}: {e.get('msg', 'not valid')}" for e in exc.errors()
        ]
        return error_page(request, 422, "The request was refused; nothing was done.", problems)


class ServerErrorPage:
    """A 500 in the layout (with the security headers) instead of a bare text; the error's
    type is logged, never its message (it may quote personal data)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watched)
        except Exception as error:
            log.error("console request failed: %s", type(error).__name__)
            if started:
                raise
            page = error_page(
                Request(scope),
                500,
                "Something went wrong in the console; "
                "nothing more was done. Try again, or tell the hub's support "
                "team the time it happened.",
            )
            page.headers.update(HEADERS)
            await page(scope, receive, send)
