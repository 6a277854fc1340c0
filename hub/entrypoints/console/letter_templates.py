"""The dead-letter pages' templates (Jinja2, autoescaped by `pages.PAGES`; no scripts)."""

from __future__ import annotations

#: "showing 51-100 of 230" (an en dash) with links to the pages around; `query` keeps the filters.
PAGER = """{% macro pager(found, query) %}<p class="pager"><span class="showing">{{ found.showing
}}</span>{% if found.previous %} <a rel="prev" href="?{{ query }}&amp;page={{ found.previous
}}">previous</a>{% endif %}{% if found.next %} <a rel="next" href="?{{ query }}&amp;page={{
found.next }}">next</a>{% endif %} (page {{ found.paging.page }} of {{ found.pages }})</p>
{% endmacro %}"""

LIST = """{% extends "base" %}{% from "pager" import pager %}{% block main %}
<h1>Dead letters</h1>
<form method="get" action="/dead-letters"><fieldset><legend>Filter</legend>
<label>Topic <select name="topic"><option value="">any</option>{% for t in dlq_topics %}
<option {{ 'selected' if filters.topic == t }}>{{ t }}</option>{% endfor %}</select></label>
<label>Reason <input name="reason" autocomplete="off" value="{{ filters.reason or '' }}"></label>
<label>Source <input name="source" value="{{ filters.source or '' }}"></label>
<label>Status <select name="status">{% for s in statuses %}
<option value="{{ s }}" {{ 'selected' if (filters.status or '') == s }}>{{ s or 'any' }}
</option>{% endfor %}</select></label>
<label>From (UK time) <input name="since" type="datetime-local" value="{{ since }}"></label>
<label>To (UK time) <input name="until" type="datetime-local" value="{{ until }}"></label>
<label>Per page <select name="size">{% for n in sizes %}<option {{ 'selected' if
found.paging.size == n }}>{{ n }}</option>{% endfor %}</select></label>
<button>Filter</button></fieldset></form>{{ pager(found, query) }}
<table id="dead-letters"><tr><th>id</th><th>recorded</th><th>topic</th><th>source system</th>
<th>event type</th><th>stage</th><th>reason</th><th>status</th></tr>
{% for r in found.rows %}<tr><td><a href="/dead-letters/{{ r.id }}">{{ r.id }}</a></td>
<td>{{ r.recorded_at|uk(seconds=True) }}</td><td>{{ r.dlq_topic }}</td>
<td>{{ system(r.source_system) or '' }}</td><td>{{ r.event_type or '' }}</td><td>{{ r.stage }}</td>
<td>{{ r.reason }}</td><td>{{ r.status }}</td></tr>{% endfor %}</table>
{% if can_act and found.rows and (filters.status or '') == 'open' %}
<p><a id="bulk-replay" href="/dead-letters/replay-selected?{{ query }}&amp;page={{
found.paging.page }}">Replay the {{ found.rows|length }} listed on this page…</a>
(a confirmation page lists them first)</p>{% endif %}{% endblock %}"""

CONFIRM_BULK = """{% extends "base" %}{% block main %}<h1>Replay these {{ letters|length }}
dead letters?</h1><p id="confirm-count">{{ letters|length }} open dead letter{{ 's' if
letters|length != 1 }} will be sent again to their source topics{% if total is not none %}
({{ total }} match the filter; only those listed here are replayed){% endif %}. Each is
replayed only if nobody acted on it since this page was loaded.</p>
<table id="confirm-letters"><tr><th>id</th><th>recorded</th><th>topic</th><th>event type</th>
<th>reason</th></tr>{% for r in letters %}<tr><td><a href="/dead-letters/{{ r.id }}">{{ r.id
}}</a></td><td>{{ r.recorded_at|uk }}</td><td>{{ r.topic }}</td><td>{{ r.event_type or '' }}
</td><td>{{ r.reason }}</td></tr>{% endfor %}</table>
<form method="post" action="/dead-letters/replay-selected"><input type="hidden" name="csrf"
value="{{ csrf }}"><input type="hidden" name="confirm" value="yes">{% for r in letters %}<input
type="hidden" name="letter" value="{{ r.id }}:{{ r.version }}">{% endfor %}
<p><label>Reason (required) <input name="reason" autocomplete="off" required
value="{{ reason }}"></label></p><button id="confirm">Replay these {{ letters|length }}</button>
</form><p><a href="/dead-letters">Back to the list (nothing replayed)</a></p>{% endblock %}"""

DETAIL = """{% extends "base" %}{% block main %}<h1>Dead letter {{ row.id }}</h1>
<table id="facts"><tr><th>status</th><td id="status">{{ row.status }}</td></tr>
<tr><th>reason</th><td id="reason">{{ row.reason }}</td></tr>
<tr><th>failed stage</th><td>{{ row.stage }}</td></tr>
<tr><th>error</th><td>{{ row.error_class }}: {{ row.error_message }}</td></tr>
<tr><th>original</th><td>{{ row.topic }} partition {{ row.partition }} offset {{ row.offset }}
</td></tr><tr><th>recorded</th><td id="recorded">{{ row.recorded_at|uk(seconds=True) }}</td></tr>
<tr><th>source system</th><td id="source-system">{{ system or '' }}</td></tr>
<tr><th>event type</th><td>{{ row.event_type or '' }}</td></tr></table>
<h2>Error headers (written by the hub)</h2><table id="headers">{% for k, v in error_headers
%}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% if producer_headers %}
<h2>hub.* headers sent by the producer</h2><p>These arrived on the original message: the
producer wrote them, not the hub (values masked).</p><table id="producer-headers">
{% for k in producer_headers %}<tr><td>{{ k }}</td><td>•••</td></tr>{% endfor %}</table>
{% endif %}
<h2>Message {{ '(removed)' if purged else '(revealed: this view was recorded)' if revealed
else '(personal fields masked)' }}</h2><pre id="payload">{{ payload }}</pre>
{% if can_act %}{% if not revealed and not purged %}
<form method="post" action="/dead-letters/{{ row.id }}/reveal">
<input type="hidden" name="csrf" value="{{ csrf }}"><label>Why you need to see personal data
<input name="reason" autocomplete="off" required></label><button id="reveal">Reveal (recorded)
</button></form>
{% endif %}{% if stuck %}
<form method="post" action="/dead-letters/{{ row.id }}/retry"><fieldset><legend>Stuck replay
</legend><p>A replay was claimed but its send never completed. Sending it again is harmless
if it did reach the broker (the hub ignores an event it already has).</p>
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="version"
value="{{ row.version }}"><label>Note <input name="reason" autocomplete="off"></label>
<button id="retry">Send again</button></fieldset></form>{% endif %}{% if row.status == 'open' %}
<form method="post" action="/dead-letters/{{ row.id }}/replay"><fieldset><legend>Replay</legend>
<input type="hidden" name="csrf" value="{{ csrf }}"><input type="hidden" name="version"
value="{{ row.version }}"><p>Optionally correct fields first, one path and value each (the
edited message is checked against the contract; both versions are kept):</p>
{% for n in range(edit_pairs) %}<p class="edit"><label>Field path <input name="path"
autocomplete="off" placeholder="payload.results.opiates"></label><label>New value <input
name="value" autocomplete="off"></label></p>{% endfor %}
<label>Note <input name="reason" autocomplete="off"></label>
<button id="replay">Replay</button></fieldset></form>
<form method="post" action="/dead-letters/{{ row.id }}/discard"><fieldset>
<legend>Discard</legend><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="version" value="{{ row.version }}">
<label>Reason (required) <input name="reason" autocomplete="off" required></label>
<button id="discard">Discard</button></fieldset></form>{% endif %}{% endif %}
<h2>History</h2><table id="history"><tr><th>when</th><th>who</th><th>action</th><th>why</th>
<th>edits</th><th>outcome</th></tr>{% for a in actions %}<tr><td>{{ a.at|uk(seconds=True) }}</td>
<td>{{ a.actor }}</td><td>{{ a.action }}</td><td>{{ a.reason or '' }}</td>
<td>{{ a.edits_shown }}</td><td class="outcome">{{ a.outcome or '' }}</td></tr>{% endfor %}
</table>{% endblock %}"""
