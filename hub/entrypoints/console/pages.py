"""The console's server-rendered pages (Jinja2, autoescaped; no scripts)."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

_BASE = """<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">
<title>{% block title %}Referral Hub operations{% endblock %}</title>
<style>
body{font-family:Arial,sans-serif;margin:0;color:#0b0c0c}header{background:#0b0c0c;color:#fff;
padding:.6rem 1rem;display:flex;gap:1.2rem;align-items:center}header a{color:#fff}
main{padding:1rem 1.5rem;max-width:75rem}table{border-collapse:collapse;width:100%;
font-size:.85rem}th,td{border-bottom:1px solid #b1b4b6;padding:.3rem;text-align:left;
vertical-align:top}pre{background:#f3f2f1;padding:.6rem;overflow:auto;font-size:.8rem}
.flash{background:#fff7bf;border-left:5px solid #ffdd00;padding:.5rem}.error{background:#fbe9e7;
border-left:5px solid #d4351c;padding:.5rem}form.inline{display:inline}fieldset{margin:.6rem 0}
label{margin-right:.6rem}.bad{color:#d4351c;font-weight:bold}.ok{color:#00703c;font-weight:bold}
</style></head><body>
<header><b>Referral Hub operations</b>
{% if user %}<a href="/">Overview</a><a href="/dead-letters">Dead letters</a>
<a href="/triage">Triage</a><a href="/audit">Audit</a>
{% if role == 'admin' %}<a href="/admin/users">Users</a>{% endif %}
<span style="margin-left:auto">{{ user }} ({{ role }})</span>
<form class="inline" method="post" action="/logout"><input type="hidden" name="csrf"
value="{{ csrf }}"><button>Log out</button></form>{% endif %}</header>
<main>{% if flash %}<p class="flash" id="flash">{{ flash }}</p>{% endif %}
{% if error %}<p class="error" id="error">{{ error }}</p>{% endif %}
{% block main %}{% endblock %}</main></body></html>"""

_LOGIN = """{% extends "base" %}{% block main %}<h1>Log in</h1>
<form method="post" action="/login"><input type="hidden" name="csrf" value="{{ csrf }}">
<p><label>User name <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password"
required></label></p><button>Log in</button></form>{% endblock %}"""

_OVERVIEW = """{% extends "base" %}{% block main %}<h1>Overview</h1>
<p>Database: <span class="{{ 'ok' if database else 'bad' }}" id="database">
{{ 'reachable' if database else 'UNREACHABLE' }}</span>. Broker: <span
class="{{ 'ok' if broker.reachable else 'bad' }}" id="broker">{{ 'reachable' if broker.reachable
else 'UNREACHABLE ' ~ (broker.error or '') }}</span>. Open dead letters:
<b id="open-dead-letters">{{ open_dead_letters }}</b>. Open triage items:
<b>{{ open_triage }}</b>.</p>
<h2>Messages per input topic</h2><table id="flow"><tr><th>topic</th>
{% for w in ('last hour', 'last day') %}<th>in ({{ w }})</th><th>routed</th><th>triaged</th>
<th>dead-lettered</th>{% endfor %}</tr>{% for row in flow %}<tr><td>{{ row.topic }}</td>
{% for w in ('hour', 'day') %}<td>{{ row[w]['in'] }}</td><td>{{ row[w].routed }}</td>
<td>{{ row[w].triaged }}</td><td>{{ row[w].dead_lettered }}</td>{% endfor %}</tr>{% endfor %}
</table><h2>Hub instances (consumer group members)</h2><table id="members"><tr><th>group</th>
<th>members</th></tr>{% for g, n in broker.members.items() %}<tr><td>{{ g }}</td>
<td class="{{ '' if n else 'bad' }}">{{ n }}</td></tr>{% endfor %}</table>
<h2>Consumer lag</h2><table id="lag"><tr><th>topic</th><th>partition</th><th>end</th>
<th>committed</th><th>lag</th></tr>{% for p in broker.lag %}<tr><td>{{ p.topic }}</td>
<td>{{ p.partition }}</td><td>{{ p.end }}</td><td>{{ p.committed }}</td><td>{{ p.lag }}</td>
</tr>{% endfor %}</table>{% endblock %}"""

_LIST = """{% extends "base" %}{% block main %}<h1>Dead letters</h1>
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
<button>Filter</button></fieldset></form>
<table id="dead-letters"><tr><th>id</th><th>time</th><th>topic</th><th>source system</th>
<th>event type</th><th>stage</th><th>reason</th><th>status</th></tr>
{% for r in rows %}<tr><td><a href="/dead-letters/{{ r.id }}">{{ r.id }}</a></td>
<td>{{ r.recorded_at.strftime('%Y-%m-%d %H:%M:%S') }}</td><td>{{ r.dlq_topic }}</td>
<td>{{ system(r.source_system) or '' }}</td><td>{{ r.event_type or '' }}</td><td>{{ r.stage }}</td>
<td>{{ r.reason }}</td><td>{{ r.status }}</td></tr>{% endfor %}</table>
{% if can_act and rows and (filters.status or '') == 'open' %}
<form method="post" action="/dead-letters/replay-selected"><fieldset><legend>Replay all listed
</legend><input type="hidden" name="csrf" value="{{ csrf }}">{% for r in rows %}<input
type="hidden" name="letter" value="{{ r.id }}:{{ r.version }}">{% endfor %}
<label>Reason (required) <input name="reason" autocomplete="off" required></label>
<button id="bulk-replay">Replay these {{ rows|length }}</button></fieldset></form>
{% endif %}{% endblock %}"""

_DETAIL = """{% extends "base" %}{% block main %}<h1>Dead letter {{ row.id }}</h1>
<table id="facts"><tr><th>status</th><td id="status">{{ row.status }}</td></tr>
<tr><th>reason</th><td id="reason">{{ row.reason }}</td></tr>
<tr><th>failed stage</th><td>{{ row.stage }}</td></tr>
<tr><th>error</th><td>{{ row.error_class }}: {{ row.error_message }}</td></tr>
<tr><th>original</th><td>{{ row.topic }} partition {{ row.partition }} offset {{ row.offset }}
</td></tr><tr><th>recorded</th><td>{{ row.recorded_at }}</td></tr>
<tr><th>source system</th><td id="source-system">{{ system or '' }}</td></tr>
<tr><th>event type</th><td>{{ row.event_type or '' }}</td></tr></table>
<h2>Error headers (written by the hub)</h2><table id="headers">{% for k, v in error_headers
%}<tr><td>{{ k }}</td><td>{{ v }}</td></tr>{% endfor %}</table>{% if producer_headers %}
<h2>hub.* headers sent by the producer</h2><p>These arrived on the original message: the
producer wrote them, not the hub (values masked).</p><table id="producer-headers">
{% for k in producer_headers %}<tr><td>{{ k }}</td><td>•••</td></tr>{% endfor %}</table>
{% endif %}
<h2>Message {{ '(revealed: this view was recorded)' if revealed else
'(personal fields masked)' }}</h2><pre id="payload">{{ payload }}</pre>
{% if can_act %}{% if not revealed %}<form method="post" action="/dead-letters/{{ row.id }}/reveal">
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
value="{{ row.version }}"><p>Optionally correct one field first (both versions are kept):</p>
<label>Field path <input name="path" autocomplete="off"
placeholder="payload.results.opiates"></label><label>New value <input name="value"
autocomplete="off"></label><label>Note <input name="reason" autocomplete="off"></label>
<button id="replay">Replay</button></fieldset></form>
<form method="post" action="/dead-letters/{{ row.id }}/discard"><fieldset>
<legend>Discard</legend><input type="hidden" name="csrf" value="{{ csrf }}">
<input type="hidden" name="version" value="{{ row.version }}">
<label>Reason (required) <input name="reason" autocomplete="off" required></label>
<button id="discard">Discard</button></fieldset></form>{% endif %}{% endif %}
<h2>History</h2><table id="history"><tr><th>when</th><th>who</th><th>action</th><th>why</th>
<th>edits</th><th>outcome</th></tr>{% for a in actions %}<tr><td>{{ a.at }}</td>
<td>{{ a.actor }}</td><td>{{ a.action }}</td><td>{{ a.reason or '' }}</td>
<td>{{ a.edits_shown }}</td><td class="outcome">{{ a.outcome or '' }}</td></tr>{% endfor %}
</table>{% endblock %}"""

_TRIAGE = """{% extends "base" %}{% block main %}<h1>Triage queue</h1>
<p>Identity reviews (a possible match of a person, or identifiers that disagree) show the new
person beside each candidate: field by field whether they agree, values masked unless revealed
(recorded); deciding one releases the referrals it held. Referrals held because of their
residence show why and, at most, the postcode district: route one to the authority you choose,
or close it without routing.</p>
<table id="triage"><tr><th>since</th><th>why</th><th>from</th><th>details</th>
<th>action</th></tr>{% for i in items %}<tr class="item" data-id="{{ i.id }}">
<td>{{ i.created_at.strftime('%Y-%m-%d %H:%M') }}</td><td class="why">{{ i.reason }}</td>
<td>{{ i.site or '' }} {{ i.event_type or '' }}</td><td>
{% if not i.referral_id %}{% set shown = revealed == i.id|string %}
{% for c in reviews[i.id|string] %}<table class="compare"><tr><th>field</th><th>this person
</th><th>candidate {{ c.person_id }} (score {{ c.score }}: {{ c.reasons|join(', ') }})</th>
<th></th></tr>{% for f in fields %}<tr><td>{{ f }}</td>
<td>{{ (people.get(i.person_id|string, {}).get(f) or '') if shown else '•••' }}</td>
<td>{{ (c['values'].get(f) or '') if shown else '•••' }}</td><td class="{{ c.compared[f] }}">
{{ c.compared[f] }}</td></tr>{% endfor %}</table>{% endfor %}
{% if can_act and not shown %}<form method="post" action="/triage/{{ i.id }}/reveal">
<input type="hidden" name="csrf" value="{{ csrf }}"><input name="reason" autocomplete="off"
placeholder="why you need to see them" required><button class="reveal">Reveal (recorded)
</button></form>{% endif %}{% else %}
postcode district: <span class="district">{{ districts.get(i.referral_id|string, 'none given') }}
</span>{% if i.review_id %}<p class="held">held until identity review {{ i.review_id }} is
decided</p>{% endif %}{% endif %}</td><td>{% if can_act %}
{% if not i.referral_id %}{% for c in i.candidates %}
<form method="post" action="/triage/{{ i.id }}/match"><input type="hidden" name="csrf"
value="{{ csrf }}"><input type="hidden" name="same_person" value="{{ c.person_id }}">
<input name="reason" autocomplete="off" placeholder="reason" required><button>Same person
</button></form>
{% endfor %}<form method="post" action="/triage/{{ i.id }}/match"><input type="hidden"
name="csrf" value="{{ csrf }}"><input name="reason" autocomplete="off" placeholder="reason"
required>
<button>Not the same person</button></form>{% else %}
{% if not i.review_id %}{% set chosen_code = chosen[i.id|string] %}
<form method="post" action="/triage/{{ i.id }}/route"><input type="hidden" name="csrf"
value="{{ csrf }}"><select name="authority" required><option value=""
{{ '' if chosen_code else 'selected' }} disabled>choose the authority</option>
{% for code, name in authorities %}<option value="{{ code }}"
{{ 'selected' if code == chosen_code else '' }}>{{ name }}</option>{% endfor %}</select>
<input name="reason" placeholder="reason" autocomplete="off" required><button>Route</button>
</form><form method="post" action="/triage/{{ i.id }}/close"><input type="hidden" name="csrf"
value="{{ csrf }}"><select name="outcome" required><option value="" selected disabled>close
without routing…</option>{% for code, meaning in outcomes.items() %}<option value="{{ code }}">
{{ code }}: {{ meaning }}</option>{% endfor %}</select><input name="reason" placeholder="reason"
autocomplete="off" required><button>Close</button></form>{% endif %}{% endif %}
{% endif %}</td></tr>{% endfor %}</table>{% endblock %}"""

_AUDIT = """{% extends "base" %}{% block main %}<h1>Audit</h1><h2>Dead letters</h2>
<table id="audit"><tr><th>when</th><th>who</th><th>action</th><th>dead letter</th><th>why</th>
<th>what changed</th><th>outcome</th></tr>{% for a in actions %}<tr><td>{{ a.at }}</td>
<td>{{ a.actor }}</td><td>{{ a.action }}</td>
<td><a href="/dead-letters/{{ a.dead_letter_id }}">{{ a.dead_letter_id }}</a></td>
<td>{{ a.reason or '' }}</td><td class="edits">{{ a.edits_shown }}</td>
<td class="outcome">{{ a.outcome or '' }}</td></tr>{% endfor %}</table><h2>Triage decisions</h2>
<table id="triage-audit"><tr><th>when</th><th>who</th><th>decision</th><th>detail</th>
<th>why</th></tr>{% for d in decisions %}<tr><td>{{ d.at }}</td><td>{{ d.actor }}</td>
<td>{{ d.decision }}</td><td>{{ d.detail or '' }}</td><td>{{ d.reason }}</td></tr>
{% endfor %}</table><h2>Console users</h2>
<table id="user-audit"><tr><th>when</th><th>who</th><th>user</th><th>change</th></tr>
{% for u in user_changes %}<tr><td>{{ u.at }}</td><td>{{ u.actor }}</td><td>{{ u.username }}</td>
<td>{{ u.change }}</td></tr>{% endfor %}</table>{% endblock %}"""

_USERS = """{% extends "base" %}{% block main %}<h1>Users</h1>
<table id="users"><tr><th>user</th><th>role</th><th>state</th><th>since</th><th>change</th></tr>
{% for u in users %}<tr class="user" data-user="{{ u.username }}"><td>{{ u.username }}</td>
<td class="role">{{ u.role }}</td><td class="state">{{ 'disabled' if u.disabled else 'active' }}
</td><td>{{ u.created_at.strftime('%Y-%m-%d') }}</td><td>
<form class="inline" method="post" action="/admin/users/{{ u.username }}"><input type="hidden"
name="csrf" value="{{ csrf }}"><select name="role">{% for r in roles %}<option {{ 'selected'
if r == u.role }}>{{ r }}</option>{% endfor %}</select><button>Set role</button></form>
<form class="inline" method="post" action="/admin/users/{{ u.username }}"><input type="hidden"
name="csrf" value="{{ csrf }}"><input type="hidden" name="disabled" value="{{ 'no' if
u.disabled else 'yes' }}"><button>{{ 'Enable' if u.disabled else 'Disable' }}</button></form>
<form class="inline" method="post" action="/admin/users/{{ u.username }}/password"><input
type="hidden" name="csrf" value="{{ csrf }}"><input name="password" type="password"
autocomplete="new-password" placeholder="new password (12+)" required><button>Set password
</button></form></td></tr>{% endfor %}</table>
<h2>New user</h2><form method="post" action="/admin/users" id="new-user">
<input type="hidden" name="csrf" value="{{ csrf }}"><label>User name <input
name="username" autocomplete="off" required></label><label>Password (12+ characters)
<input name="password" type="password" autocomplete="new-password" required></label>
<label>Role <select name="role">{% for r in roles %}<option>{{ r }}</option>{% endfor %}
</select></label><button>Create user</button></form>
{% endblock %}"""

_CONFIRM_ROUTE = """{% extends "base" %}{% block main %}<h1>Route this referral?</h1>
<p id="confirm-provider">Send the referral to <strong>{{ provider.name }}</strong>, the
provider for <strong>{{ provider.authority_name }}</strong>?</p><p>Reason: {{ reason }}</p>
<form method="post" action="/triage/{{ item_id }}/route"><input type="hidden" name="csrf"
value="{{ csrf }}"><input type="hidden" name="authority" value="{{ provider.authority_code }}">
<input type="hidden" name="reason" value="{{ reason }}"><input type="hidden" name="confirm"
value="{{ provider.authority_code }}"><button id="confirm">Send to {{ provider.name }}
</button></form><p><a href="/triage">Back to the queue (nothing sent)</a></p>{% endblock %}"""

PAGES = Environment(
    loader=DictLoader({"base": _BASE, "login": _LOGIN, "overview": _OVERVIEW, "list": _LIST,
                       "detail": _DETAIL, "triage": _TRIAGE, "audit": _AUDIT,
                       "users": _USERS, "confirm_route": _CONFIRM_ROUTE}),
    autoescape=select_autoescape(default=True, default_for_string=True))
