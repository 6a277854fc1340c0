"""What each probation event does."""

from __future__ import annotations

from hub.service.handlers.common import Handler, record_only
from hub.service.handlers.reuse import requesting_or_reusing

PROBATION_HANDLERS: dict[str, Handler] = {
    "probation.psr_requested": requesting_or_reusing("pre-sentence-report-assessment", "probation"),
    "probation.order_commenced": record_only,
    "probation.order_ended": record_only,
}
