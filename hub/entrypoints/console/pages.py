"""The console's server-rendered pages (Jinja2, autoescaped; no scripts)."""

from __future__ import annotations

from jinja2 import DictLoader, Environment, select_autoescape

from hub.core.moments import uk_time
from hub.entrypoints.console.audit_templates import AUDIT, EDITS
from hub.entrypoints.console.letter_templates import CONFIRM_BULK, DETAIL, LIST, PAGER

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
tr.lagging{background:#fbe9e7}
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
<a id="open-dead-letters" href="/dead-letters?status=open">{{ open_dead_letters }}</a>. Open
triage items: <a id="open-triage" href="/triage">{{ open_triage }}</a>.</p>
<h2>Outbox</h2><p id="outbox">{% if outbox.unpublished %}<span class="bad">{{
outbox.unpublished }} message{{ 's' if outbox.unpublished != 1 }} not yet published</span>, the
oldest written {{ outbox.oldest|uk(seconds=True) }} ({{ outbox_age }} ago); the hub's outbox
relay sends them when the broker acknowledges.{% else %}Every output is published (no outbox
backlog).{% endif %}</p>
<h2>Messages per input topic</h2><table id="flow"><tr><th>topic</th>
{% for w in ('last hour', 'last day') %}<th>in ({{ w }})</th><th>routed</th><th>triaged</th>
<th>dead-lettered</th>{% endfor %}</tr>{% for row in flow %}<tr><td>{{ row.topic }}</td>
{% for w in ('hour', 'day') %}<td>{{ row[w]['in'] }}</td><td>{{ row[w].routed }}</td>
<td>{{ row[w].triaged }}</td><td>{% if row[w].dead_lettered %}<a
href="/dead-letters?status=&amp;topic={{ row.dead_letter_topic|urlencode }}&amp;since={{
since[w]|urlencode }}">{{ row[w].dead_lettered }}</a>{% else %}0{% endif %}</td>
{% endfor %}</tr>{% endfor %}
</table><h2>Hub instances (consumer group members)</h2><table id="members"><tr><th>group</th>
<th>members</th></tr>{% for g, n in broker.members.items() %}<tr><td>{{ g }}</td>
<td class="{{ '' if n else 'bad' }}">{{ n }}</td></tr>{% endfor %}</table>
<h2>Consumer lag</h2><table id="lag"><tr><th>topic</th><th>partition</th><th>end</th>
<th>committed</th><th>lag</th></tr>{% for p in broker.lag %}<tr{{ ' class="lagging"'|safe
if p.lag }}><td>{{ p.topic }}</td><td>{{ p.partition }}</td><td>{{ p.end }}</td>
<td>{{ p.committed }}</td><td class="{{ 'bad' if p.lag else '' }}">{{ p.lag }}</td>
</tr>{% endfor %}</table><h2>Paused partitions</h2><p id="paused">A hub process pauses a
partition it cannot store (its database away) and logs an ALERT; the pause is known only to
that process, not to the broker or the database, so this console cannot list it. A paused
partition shows here as lag that does not fall.</p>{% endblock %}"""

_TRIAGE = """{% extends "base" %}{% block main %}<h1>Triage queue</h1>
<p>Identity reviews (a possible match of a person, or identifiers that disagree) show the new
person beside each candidate: field by field whether they agree, values masked unless revealed
(recorded); deciding one releases the referrals it held. Referrals held because of their
residence show why and, at most, the postcode district: route one to the authority you choose,
or close it without routing.</p>
<table id="triage"><tr><th>since</th><th>why</th><th>from</th><th>details</th>
<th>action</th></tr>{% for i in items %}<tr class="item" data-id="{{ i.id }}">
<td>{{ i.created_at|uk }}</td><td class="why">{{ i.reason }}</td>
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

_USERS = """{% extends "base" %}{% block main %}<h1>Users</h1>
<table id="users"><tr><th>user</th><th>role</th><th>state</th><th>since</th><th>change</th></tr>
{% for u in users %}<tr class="user" data-user="{{ u.username }}"><td>{{ u.username }}</td>
<td class="role">{{ u.role }}</td><td class="state">{{ 'disabled' if u.disabled else 'active' }}
</td><td>{{ u.created_at|uk }}</td><td>
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

_ERROR = """{% extends "base" %}{% block title %}{{ status }} {{ title }}{% endblock %}
{% block main %}<h1 id="error-title">{{ title }}</h1><p id="error-detail">{{ detail }}</p>
{% if problems %}<ul id="problems">{% for p in problems %}<li>{{ p }}</li>{% endfor %}</ul>
{% endif %}<p><a href="{{ back }}">Back</a> · <a href="/">Overview</a></p>{% endblock %}"""

PAGES = Environment(
    loader=DictLoader(
        {
            "base": _BASE,
            "login": _LOGIN,
            "overview": _OVERVIEW,
            "list": LIST,
            "detail": DETAIL,
            "confirm_bulk": CONFIRM_BULK,
            "pager": PAGER,
            "triage": _TRIAGE,
            "audit": AUDIT,
            "edits": EDITS,
            "users": _USERS,
            "confirm_route": _CONFIRM_ROUTE,
            "error": _ERROR,
        }
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
)
PAGES.filters["uk"] = uk_time
