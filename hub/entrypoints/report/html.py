"""The report as one self-contained HTML page (inline CSS and SVG charts, no scripts, no
external resources) that a commissioner can open or print."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

from hub.adapters.postgres.indicators import RATES
from hub.adapters.postgres.report import Report
from hub.core.disclosure import FOOTNOTE, rate_text, suppressed
from hub.entrypoints.report.render import (
    BREAKDOWN_KEYS,
    Breakdown,
    breakdowns,
    count,
    rate_of,
    shown_by,
)

FUNNEL = ("engaged", "assessments_completed", "referrals", "entries")
TRENDS = (("assessments_completed", "#1d70b8"), ("referrals", "#f47738"), ("entries", "#00703c"))
_CSS = """
body{font-family:Arial,Helvetica,sans-serif;margin:2rem auto;max-width:60rem;color:#0b0c0c}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;
border-bottom:2px solid #1d70b8}p.meta{color:#505a5f;margin-top:0}
.cards{display:flex;flex-wrap:wrap;gap:.8rem}.card{border-left:5px solid #1d70b8;
padding:.4rem .8rem;min-width:10rem;background:#f3f2f1}.card .value{font-size:1.6rem;
font-weight:bold}table{border-collapse:collapse;width:100%;font-size:.85rem}
th,td{border-bottom:1px solid #b1b4b6;padding:.25rem .4rem;text-align:left;vertical-align:top}
td.n,th.n{text-align:right;white-space:nowrap}svg text{font-family:Arial,sans-serif}
.legend span{margin-right:1rem}.swatch{display:inline-block;width:.8rem;height:.8rem;
margin-right:.3rem;vertical-align:middle}
@media print{body{margin:0;max-width:none}h2{break-after:avoid}section{break-inside:avoid}}
"""


def _bars(
    rows: Sequence[tuple[str, int]], *, colour: str, label_width: int = 260, chart_id: str
) -> str:
    """Horizontal bars with their values, scaled to the largest."""
    width, bar_height, gap = 720, 26, 8
    top = max((v for _, v in rows), default=0) or 1
    height = len(rows) * (bar_height + gap) + gap
    parts = [
        f'<svg id="{chart_id}" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for n, (label, value) in enumerate(rows):
        y = gap + n * (bar_height + gap)
        length = (width - label_width - 80) * value / top
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 18}" text-anchor="end" font-size="13">'
            f'{escape(label)}</text><rect x="{label_width}" y="{y}" width="{length:.1f}" '
            f'height="{bar_height}" fill="{colour}"><title>{escape(label)}: {value:,}</title>'
            f'</rect><text x="{label_width + length + 6:.1f}" y="{y + 18}" font-size="13">'
            f"{value:,}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _trends(report: Report, suppress: bool) -> str:
    """Monthly lines for a few indicators, with a value axis and month labels."""
    months = report.months()
    width, height, left, bottom, top_pad = 720, 260, 50, 30, 10
    series = [(report.figures[k], colour) for k, colour in TRENDS]
    by_month = shown_by(report, "month", months, suppress=suppress)
    # The axis comes from what is plotted only: a hidden month's count is not on it.
    top = (
        max(
            (
                v
                for f, _ in series
                for v in by_month[f.indicator.key].values()
                if isinstance(v, int)
            ),
            default=0,
        )
        or 1
    )
    step = (width - left - 10) / max(len(months) - 1, 1)

    def y(value: int) -> float:
        return top_pad + (height - bottom - top_pad) * (1 - value / top)

    parts = [
        f'<svg id="monthly-trends" role="img" viewBox="0 0 {width} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">'
    ]
    for fraction in (0, 0.5, 1):
        value = round(top * fraction)
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y(value):.1f}" '
            f'y2="{y(value):.1f}" stroke="#b1b4b6"/><text x="{left - 6}" '
            f'y="{y(value) + 4:.1f}" text-anchor="end" font-size="11">{value:,}</text>'
        )
    for n, month in enumerate(months):
        parts.append(
            f'<text x="{left + n * step:.1f}" y="{height - 8}" text-anchor="middle" '
            f'font-size="11">{month[2:]}</text>'
        )
    for figure, colour in series:  # a suppressed month is not plotted
        shown = by_month[figure.indicator.key]
        points = " ".join(
            f"{left + n * step:.1f},{y(v):.1f}"
            for n, v in enumerate(shown.values())
            if isinstance(v, int)
        )
        parts.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="2.5" '
            f'points="{points}"><title>{escape(figure.indicator.title)}</title>'
            "</polyline>"
        )
    parts.append("</svg>")
    legend = "".join(
        f'<span><i class="swatch" style="background:{c}"></i>{escape(f.indicator.title)}</span>'
        for f, c in series
    )
    return "".join(parts) + f'<p class="legend">{legend}</p>'


def _indicator_table(report: Report, suppress: bool) -> str:
    rows = []
    for figure in report.figures.values():
        i = figure.indicator
        reasons = "".join(
            f"<br>· {escape(r.replace('_', ' '))}: {escape(count(v))}"
            for r, v in suppressed(figure.by_reason, suppress=suppress).items()
        )
        rows.append(
            f'<tr id="indicator-{i.key}"><td>{escape(i.number)}</td>'
            f"<td><b>{escape(i.title)}</b>{reasons}</td>"
            f'<td class="n">{figure.total:,}</td><td>{escape(i.definition)}</td></tr>'
        )
    for rate in RATES:
        rows.append(
            f'<tr id="rate-{rate.key}"><td>rate</td><td><b>{escape(rate.title)}</b>'
            f'</td><td class="n">{escape(rate_text(*rate_of(report, rate)))}</td>'
            f"<td>{escape(rate.definition)}</td></tr>"
        )
    return (
        '<table><thead><tr><th>No.</th><th>Indicator</th><th class="n">Value</th>'
        f"<th>Definition</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _breakdown(report: Report, breakdown: Breakdown, suppress: bool) -> str:
    head = "".join(
        f'<th class="n">{escape(report.figures[k].indicator.title)}</th>' for k in BREAKDOWN_KEYS
    )
    rows = "".join(
        f"<tr><td>{escape(label)}</td>"
        + "".join(f'<td class="n">{escape(count(v))}</td>' for v in values)
        + "</tr>"
        for label, values in breakdown.rows(report, suppress=suppress)
    )
    return (
        f'<section><h2>{escape(breakdown.title)}</h2><table id="by-{breakdown.key}">'
        f"<thead><tr><th>{escape(breakdown.heading)}</th>{head}</tr></thead>"
        f"<tbody>{rows}</tbody></table></section>"
    )


def as_html(report: Report, generated_at: datetime, *, suppress: bool = True) -> str:
    """The page; small counts of the breakdowns suppressed (with a footnote) unless
    `suppress` is False; top-level totals in full."""
    figures = report.figures
    cards = "".join(
        f'<div class="card" id="card-{k}"><div>{escape(figures[k].indicator.title)}</div>'
        f'<div class="value">{figures[k].total:,}</div></div>'
        for k in ("engaged", "assessments_completed", "referrals", "entries", "assessments_avoided")
    )
    funnel = _bars(
        [(figures[k].indicator.title, figures[k].total) for k in FUNNEL],
        colour="#1d70b8",
        chart_id="funnel",
    )
    reasons = {
        r: v
        for r, v in suppressed(figures["not_converted"].by_reason, suppress=suppress).items()
        if isinstance(v, int)
    }
    non_conversion = (
        _bars(
            [(r.replace("_", " "), v) for r, v in reasons.items()],
            colour="#d4351c",
            chart_id="non-conversion",
        )
        if reasons
        else "<p>No referral was reported as not converted in this period.</p>"
    )
    period = f"{report.start:%-d %B %Y} to {report.end:%-d %B %Y}"
    return f"""<!DOCTYPE html>
<html lang="en-GB"><head><meta charset="utf-8">
<title>Arrest referral service: performance report, {escape(period)}</title>
<style>{_CSS}</style></head><body>
<h1>Arrest referral service: performance report</h1>
<p class="meta">Period: <b id="period">{escape(period)}</b>. Computed by Referral Hub from the
events it processed, {generated_at:%-d %B %Y %H:%M} UTC. Aggregates only: no person can be
identified from this report.</p>
<div class="cards">{cards}</div>
<section><h2>From engagement to treatment</h2>{funnel}</section>
<section><h2>Monthly trends</h2>{_trends(report, suppress)}</section>
<section><h2>Why referrals did not convert to treatment</h2>{non_conversion}</section>
<section><h2>Indicators and their definitions</h2>{_indicator_table(report, suppress)}</section>
{"".join(_breakdown(report, b, suppress) for b in breakdowns(report))}
{f'<p id="suppression">{escape(FOOTNOTE)}</p>' if suppress else ""}
</body></html>
"""
