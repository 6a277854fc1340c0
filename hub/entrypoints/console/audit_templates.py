"""The audit pages' templates (Jinja2, autoescaped by `pages.PAGES`; no scripts)."""

from __future__ import annotations

AUDIT = """{% extends "base" %}{% from "pager" import pager %}{% block main %}<h1>Audit</h1>
<p>Who saw or changed what: every dead-letter action and reveal, every triage decision and
reveal, every change to a console user, newest first. The person is the hub's person id
(a dead letter has one only once a replay of it reached a person).</p>
<form method="get" action="/audit"><fieldset><legend>Filter</legend>
<label>Person id <input name="person" autocomplete="off" value="{{ filters.person or '' }}">
</label><label>User <input name="user" autocomplete="off" value="{{ filters.user or '' }}">
</label><label>Action <select name="action"><option value="">any</option>{% for a in actions
%}<option {{ 'selected' if filters.action == a }}>{{ a }}</option>{% endfor %}</select></label>
<label>From (UK time) <input name="since" type="datetime-local" value="{{ since }}"></label>
<label>To (UK time) <input name="until" type="datetime-local" value="{{ until }}"></label>
<label>Per page <select name="size">{% for n in sizes %}<option {{ 'selected' if
found.paging.size == n }}>{{ n }}</option>{% endfor %}</select></label>
<button>Filter</button></fieldset></form>{{ pager(found, query) }}
<table id="audit"><tr><th>when</th><th>who</th><th>action</th><th>item</th><th>person</th>
<th>why</th><th>what changed</th><th>outcome</th></tr>{% for e in found.rows %}
<tr class="entry" data-kind="{{ e.kind }}"><td>{{ e.at|uk(seconds=True) }}</td>
<td class="who">{{ e.actor }}</td><td class="action">{{ e.action }}</td><td class="item">
{% if e.kind == 'dead_letter' %}<a href="/dead-letters/{{ e.item }}">dead letter {{ e.item }}</a>
{% elif e.kind == 'triage' %}triage item {{ e.item }}{% else %}user {{ e.item }}{% endif %}</td>
<td class="person">{{ e.person_id or '' }}</td><td>{{ e.reason or '' }}</td>
<td class="edits">{{ e.edits_shown or e.detail or '' }}{% if e.edits
and e.edits[0].value is not none and role == 'admin' %}
<a class="edit-values" href="/audit/edits/{{ e.id }}">values typed (admin, recorded)</a>
{% endif %}</td><td class="outcome">{{ e.outcome or '' }}</td></tr>{% endfor %}</table>
{% endblock %}"""

EDITS = """{% extends "base" %}{% block main %}<h1>Values typed in edit {{ action.id }}</h1>
<p>{{ action.action }} of <a href="/dead-letters/{{ action.dead_letter_id }}">dead letter {{
action.dead_letter_id }}</a> by {{ action.actor }}, {{ action.at|uk(seconds=True) }}.</p>
<table id="edit-values"><tr><th>field</th><th>value typed</th></tr>{% for e in action.edits %}
<tr><td>{{ e.path }}</td><td>{{ '(removed)' if action.purged_at else e.value if shown else '•••'
}}</td></tr>{% endfor %}</table>{% if action.purged_at %}<p>The values were removed on {{
action.purged_at|uk }} under the retention policy.</p>{% elif not shown %}
<form method="post" action="/audit/edits/{{ action.id }}/view">
<input type="hidden" name="csrf" value="{{ csrf }}"><label>Why you need to see them
<input name="reason" autocomplete="off" required></label><button id="view-values">Show the
values (recorded)</button></form>{% else %}<p>This view was recorded in the audit; a reload
shows them masked.</p>{% endif %}{% endblock %}"""
