"""The console's probes: liveness, readiness (database and broker) and Prometheus /metrics.

(No `from __future__ import annotations`: FastAPI reads the dependencies in signatures.)"""

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from hub.entrypoints.console.scrape import console_metrics
from hub.entrypoints.console.session import console_of
from hub.service.operations import health

router = APIRouter()


@router.get("/healthz", response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok"


@router.get("/readyz", response_class=PlainTextResponse)
async def readyz(request: Request) -> Response:
    console = console_of(request)
    database = await health.database_ok(console.ops.health)
    broker = await console.broker()
    ready = database and broker.reachable
    return PlainTextResponse(
        f"database {'ok' if database else 'unreachable'}\n"
        f"broker {'ok' if broker.reachable else 'unreachable'}\n",
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    console = console_of(request)
    broker = await console.broker()
    return Response(
        console_metrics(broker, await health.open_dead_letters(console.ops.health)),
        media_type=CONTENT_TYPE_LATEST,
    )
