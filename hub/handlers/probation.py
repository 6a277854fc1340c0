"""What each probation event does."""

from __future__ import annotations

from hub.handlers.common import Handler, record_only
from hub.handlers.reuse import requesting_or_reusing
from hub.mappers.probation import map_pre_sentence_report_request

PROBATION_HANDLERS: dict[str, Handler] = {
    "probation.psr_requested": requesting_or_reusing(
        map_pre_sentence_report_request, "pre-sentence-report-assessment", "probation"),
    "probation.order_commenced": record_only,
    "probation.order_ended": record_only,
}
