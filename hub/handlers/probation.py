"""What each probation event does."""

from __future__ import annotations

from hub.handlers.common import Handler, record_only, requesting_assessment
from hub.mappers.probation import map_pre_sentence_report_request

PROBATION_HANDLERS: dict[str, Handler] = {
    "probation.psr_requested": requesting_assessment(
        map_pre_sentence_report_request, "pre-sentence-report-assessment"),
    "probation.order_commenced": record_only,
    "probation.order_ended": record_only,
}
