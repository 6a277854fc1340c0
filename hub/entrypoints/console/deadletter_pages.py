"""Console pages for dead letters: list and filter, detail (masked), reveal (audited), replay
(as is, after an edit, or a retry of a stuck send), discard, and replay of the listed set.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

import json
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from hub.core.dead_letters import (
    EDIT_PAIRS,
    AlreadyActedOn,
    DeadLetterRecord,
    EditRefused,
    Filters,
    edit_pairs,
)
from hub.core.masking import masked
from hub.core.moments import uk_time
from hub.core.operators import Role
from hub.core.paging import DEFAULT_SIZE, SIZES, Page
from hub.core.topics import Topics
from hub.entrypoints.console.session import (
    BIGINT,
    INTEGER,
    Posted,
    RowId,
    Session,
    Shown,
    Version,
    Viewer,
    console_of,
    local_moment,
    page,
    paging_of,
    require,
)
from hub.service.operations import deadletters as dl

router = APIRouter()
STATUSES = ("open", "replaying", "replayed", "discarded", "")


def filters_of(
    topic: str | None,
    reason: str | None,
    source: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
) -> Filters:
    if status and status not in STATUSES:
        raise HTTPException(400, f"status: one of {', '.join(s for s in STATUSES if s)}")
    return Filters(
        topic or None,
        reason or None,
        source or None,
        status or None,
        local_moment(since, "from"),
        local_moment(until, "to"),
    )


PageNumber = Annotated[int, Query(alias="page", ge=1, le=10**6)]
PageSize = Annotated[int, Query(ge=1, le=1000)]


@dataclass(frozen=True)
class Listed:
    """The letters a list (or its bulk confirmation) shows, and its query without the page."""

    found: Page[DeadLetterRecord]
    filters: Filters
    query: str


async def listed(
    request: Request,
    topic: str | None,
    reason: str | None,
    source: str | None,
    status: str | None,
    since: str | None,
    until: str | None,
    page_number: int,
    size: int,
) -> Listed:
    console = console_of(request)
    filters = filters_of(topic, reason, source, status, since, until)
    found = await dl.page_of(console.ops.dead_letters, filters, paging_of(page_number, size))
    query = urlencode(
        {
            k: v or ""
            for k, v in (
                ("topic", topic),
                ("reason", reason),
                ("source", source),
                ("status", status),
                ("since", since),
                ("until", until),
                ("size", str(size)),
            )
        }
    )
    return Listed(found, filters, query)


@router.get("/dead-letters", response_class=HTMLResponse)
async def list_letters(
    request: Request,
    session: Viewer,
    topic: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    status: str | None = "open",
    since: str | None = None,
    until: str | None = None,
    page_number: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
) -> HTMLResponse:
    """One page of the letters the filters match, with how many match in all."""
    console = console_of(request)
    shown = await listed(request, topic, reason, source, status, since, until, page_number, size)
    return page(
        "list",
        request,
        session,
        found=shown.found,
        filters=shown.filters,
        query=shown.query,
        statuses=STATUSES,
        sizes=SIZES,
        system=console.sources.system,
        since=since or "",
        until=until or "",
        dlq_topics=[Topics.dead_letter(t) for t in console.topics.inputs],
        can_act=session.role.allows(Role.OPERATOR),
    )


@router.get("/dead-letters/replay-selected", response_class=HTMLResponse)
async def confirm_replay(
    request: Request,
    session: Viewer,
    topic: str | None = None,
    reason: str | None = None,
    source: str | None = None,
    since: str | None = None,
    until: str | None = None,
    page_number: PageNumber = 1,
    size: PageSize = DEFAULT_SIZE,
) -> HTMLResponse:
    """The first step of a bulk replay: the open letters of that page of the list, how many
    and which; nothing is sent until the confirmation is posted."""
    require(session, Role.OPERATOR)
    shown = await listed(request, topic, reason, source, "open", since, until, page_number, size)
    if not shown.found.rows:
        raise HTTPException(404, "no open dead letters match; nothing to replay")
    return page(
        "confirm_bulk",
        request,
        session,
        letters=shown.found.rows,
        total=shown.found.total,
        reason="",
    )


async def detail(
    request: Request,
    session: Session,
    letter_id: int,
    *,
    revealed: bool = False,
    error: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    console = console_of(request)
    now = console.clock()
    letter = await dl.show(console.ops.dead_letters, letter_id, now)
    if letter is None:
        raise HTTPException(404, "no such dead letter")
    stuck = (
        letter.row.status == "replaying"
        and bool(letter.actions)
        and (letter.actions[-1]["outcome"] or "").startswith("stuck")
    )
    if letter.purged_at is not None:  # nothing left to mask or reveal
        payload = f"Removed on {uk_time(letter.purged_at)} under the retention policy."
    elif revealed:
        payload = pretty(letter.value)
    else:
        payload = masked(letter.value, console.sources)
    return page(
        "detail",
        request,
        session,
        status,
        row=letter.row,
        payload=payload,
        edit_pairs=EDIT_PAIRS,
        revealed=revealed,
        purged=letter.purged_at is not None,
        error_headers=letter.error_headers,
        producer_headers=letter.producer_hub_headers,
        system=console.sources.system(letter.row.source_system),
        actions=letter.actions,
        can_act=session.role.allows(Role.OPERATOR),
        stuck=stuck,
        error=error,
    )


def pretty(value: bytes) -> str:
    """A revealed message as it is, indented when it is JSON."""
    try:
        return json.dumps(json.loads(value), indent=2, ensure_ascii=False)
    except (ValueError, RecursionError):
        return value.decode(errors="replace")


@router.get("/dead-letters/{letter_id}", response_class=HTMLResponse)
async def show_letter(
    request: Request, letter_id: RowId, session: Viewer, shown: Shown = None
) -> HTMLResponse:
    """Masked; revealed once when `shown` is the grant the recorded reveal redirected with."""
    console = console_of(request)
    revealed = (
        shown is not None
        and session.role.allows(Role.OPERATOR)
        and console.grants.take(shown, session.user, f"dead-letter:{letter_id}", console.clock())
    )
    if shown is not None and not revealed:
        return await detail(
            request,
            session,
            letter_id,
            error="The revealed view has ended "
            "(it is shown once); reveal again to see it (recorded).",
        )
    return await detail(request, session, letter_id, revealed=revealed)


@router.post("/dead-letters/{letter_id}/reveal", response_class=HTMLResponse)
async def reveal_letter(
    request: Request, letter_id: RowId, session: Posted, reason: Annotated[str, Form()] = ""
) -> Response:
    """Records the reveal, then redirects to a one-use view of it."""
    require(session, Role.OPERATOR)
    console = console_of(request)
    now = console.clock()
    try:
        await dl.reveal(
            console.ops.dead_letters, letter_id, actor=session.user, now=now, reason=reason
        )
    except KeyError:
        raise HTTPException(404, "no such dead letter") from None
    except ValueError as refused:
        return await detail(request, session, letter_id, error=str(refused), status=400)
    grant = console.grants.grant(session.user, f"dead-letter:{letter_id}", now)
    return RedirectResponse(f"/dead-letters/{letter_id}?shown={grant}", status_code=303)


@router.post("/dead-letters/{letter_id}/replay", response_class=HTMLResponse)
async def replay_letter(
    request: Request,
    letter_id: RowId,
    session: Posted,
    version: Version,
    path: Annotated[list[str] | None, Form(max_length=300)] = None,
    value: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Replay as it is, or after setting one or more fields (path and value pairs), checked
    against the contracts first; a value without its path is refused (422)."""
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        edits = edit_pairs(path or [], value or []) or None
    except ValueError as refused:
        return await detail(
            request, session, letter_id, status=422, error=f"Not replayed: {refused}."
        )
    assert console.producer is not None
    try:
        await dl.replay(
            console.ops.dead_letters,
            console.producer,
            letter_id,
            version=version,
            actor=session.user,
            now=console.clock(),
            edits=edits,
            reason=reason or None,
        )
    except AlreadyActedOn as taken:
        return await detail(request, session, letter_id, error=str(taken), status=409)
    except EditRefused as refused:
        return await detail(
            request,
            session,
            letter_id,
            status=400,
            error="Not replayed: the edited message would still be refused: "
            + "; ".join(refused.problems),
        )
    except Exception as error:  # the broker: recorded, and the letter is open again
        return await detail(
            request,
            session,
            letter_id,
            status=503,
            error=f"Not sent ({type(error).__name__}); the dead letter is open again, try later.",
        )
    request.session["flash"] = "Replayed. The outcome shows below once the hub has it."
    return RedirectResponse(f"/dead-letters/{letter_id}", status_code=303)


@router.post("/dead-letters/{letter_id}/retry", response_class=HTMLResponse)
async def retry_letter(
    request: Request,
    letter_id: RowId,
    session: Posted,
    version: Version,
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    assert console.producer is not None
    try:
        await dl.retry(
            console.ops.dead_letters,
            console.producer,
            letter_id,
            version=version,
            actor=session.user,
            now=console.clock(),
            reason=reason or None,
        )
    except AlreadyActedOn as taken:
        return await detail(request, session, letter_id, error=str(taken), status=409)
    except Exception as error:
        return await detail(
            request,
            session,
            letter_id,
            status=503,
            error=f"Not sent ({type(error).__name__}); try later.",
        )
    request.session["flash"] = "Sent again. The outcome shows below once the hub has it."
    return RedirectResponse(f"/dead-letters/{letter_id}", status_code=303)


@router.post("/dead-letters/{letter_id}/discard", response_class=HTMLResponse)
async def discard_letter(
    request: Request,
    letter_id: RowId,
    session: Posted,
    version: Version,
    reason: Annotated[str, Form()] = "",
) -> Response:
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        await dl.discard(
            console.ops.dead_letters,
            letter_id,
            version=version,
            actor=session.user,
            reason=reason,
            now=console.clock(),
        )
    except AlreadyActedOn as taken:
        return await detail(request, session, letter_id, error=str(taken), status=409)
    except ValueError as refused:
        return await detail(request, session, letter_id, error=str(refused), status=400)
    request.session["flash"] = "Discarded."
    return RedirectResponse(f"/dead-letters/{letter_id}", status_code=303)


@router.post("/dead-letters/replay-selected")
async def replay_selected(
    request: Request,
    session: Posted,
    letter: Annotated[list[str] | None, Form()] = None,
    reason: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    """Replay exactly the letters the operator confirmed (`id:version` each); without the
    confirmation, the confirmation page for them (nothing is sent)."""
    require(session, Role.OPERATOR)
    console = console_of(request)
    try:
        chosen = [(int(i), int(v)) for i, v in (item.split(":", 1) for item in letter or [])]
        if not all(0 < i <= BIGINT and 0 <= v <= INTEGER for i, v in chosen):
            raise ValueError("out of range")
    except ValueError:
        raise HTTPException(400, "the list of dead letters is malformed; reload it") from None
    if not chosen:
        raise HTTPException(400, "no dead letters were listed")
    if confirm != "yes" or not reason.strip():
        letters = [
            found
            for i, v in chosen
            if (found := await dl.letter(console.ops.dead_letters, i)) is not None
            and found.status == "open"
            and found.version == v
        ]
        if not letters:
            raise HTTPException(409, "none of these dead letters is open as it was listed")
        return page(
            "confirm_bulk",
            request,
            session,
            letters=letters,
            total=None,
            reason=reason.strip(),
            error=None if not confirm else "A reason is required for a bulk replay.",
        )
    assert console.producer is not None
    results = await dl.replay_chosen(
        console.ops.dead_letters,
        console.producer,
        chosen,
        actor=session.user,
        now=console.clock(),
        reason=reason.strip(),
    )
    done = [i for i, r in results.items() if r == "replayed"]
    others = "; ".join(f"{i}: {r}" for i, r in results.items() if r != "replayed")
    request.session["flash"] = f"Replayed {len(done)} of {len(results)}." + (
        f" Not replayed: {others}." if others else ""
    )
    return RedirectResponse("/dead-letters?status=", status_code=303)
