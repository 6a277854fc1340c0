"""What an operator may see of a message without revealing it: an allow-list.

Only values under known-safe fields are shown — the envelope's metadata (event id, type,
schema version, time; source system and site when they are configured known ones) and the
payload's timestamps, and only when the
value is one the contract allows there. The rest of the payload is health or offence data
(test results, assessment answers, sentences: UK GDPR Art. 9 and 10) even where the contract
enumerates it, so it is masked like every other value, whatever its key is called (`surname`,
`dob`, free text, a whole object put where a field was expected); keys the contract does not
declare there (`surname` in a subject) are masked too, since the sender chose them. The dead
letter's error headers name the failing field and what it expects; an operator reveals the
values (audited) to correct them."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from hub.core.contracts.catalogue import ALL_EVENT_TYPES, shown_event_type

MASK = "•••"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,60}$")
_VERSION = re.compile(r"[0-9]{1,3}(\.[0-9]{1,3}){0,2}")
Rule = Callable[[Any], bool]


def _uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _timestamp(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False  # a date alone could be a date of birth
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class KnownSources:
    """The source systems and sites configured as known (HUB_KNOWN_SOURCE_SYSTEMS, _SITES):
    only these are shown; any other value there is the sender's text and masked."""

    systems: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()

    def system(self, value: str | None) -> str | None:
        """The system as a page may show it."""
        return value if value is None or value in self.systems else MASK


NONE_KNOWN = KnownSources()


def _envelope(known: KnownSources) -> dict[str, Rule]:
    return {
        "event_id": _uuid,
        "event_type": lambda v: shown_event_type(v) is not None,
        "schema_version": lambda v: isinstance(v, str) and _VERSION.fullmatch(v) is not None,
        "occurred_at": _timestamp,
        "source.system": lambda v: isinstance(v, str) and v in known.systems,
        "source.site": lambda v: isinstance(v, str) and v in known.sites,
    }


def _rules_of(
    schema: dict[str, Any], defs: dict[str, Any], path: str, into: dict[str, Rule]
) -> None:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    for option in schema.get("anyOf", []) + schema.get("allOf", []):
        _rules_of(option, defs, path, into)
    if schema.get("type") == "string" and schema.get("format") == "date-time":
        into[path] = _timestamp
    for name, sub in schema.get("properties", {}).items():
        _rules_of(sub, defs, f"{path}.{name}", into)
    if isinstance(schema.get("items"), dict):
        _rules_of(schema["items"], defs, f"{path}.*", into)


@cache
def payload_rules(event_type: str) -> dict[str, Rule]:
    """Dotted payload paths (`*` for list items) whose values are safe to show (timestamps),
    and the test a value must pass to be shown."""
    model = ALL_EVENT_TYPES.get(event_type)
    if model is None:
        return {}
    schema = model.model_json_schema()
    rules: dict[str, Rule] = {}
    _rules_of(schema["properties"]["payload"], schema.get("$defs", {}), "payload", rules)
    return rules


def _paths_of(schema: dict[str, Any], defs: dict[str, Any], path: str, into: set[str]) -> None:
    if "$ref" in schema:
        schema = defs[schema["$ref"].rsplit("/", 1)[-1]]
    for option in schema.get("anyOf", []) + schema.get("allOf", []) + schema.get("oneOf", []):
        _paths_of(option, defs, path, into)
    for name, sub in schema.get("properties", {}).items():
        into.add(f"{path}.{name}".lstrip("."))
        _paths_of(sub, defs, f"{path}.{name}", into)
    if isinstance(schema.get("items"), dict):
        _paths_of(schema["items"], defs, f"{path}.*", into)


@cache
def declared_paths(event_type: str | None) -> frozenset[str]:
    """Dotted paths (`*` for list items) the contract of `event_type` declares; for a type it
    does not know, what any contract declares."""
    models = (
        [ALL_EVENT_TYPES[event_type]]
        if event_type in ALL_EVENT_TYPES
        else list(ALL_EVENT_TYPES.values())
    )
    found: set[str] = set()
    for model in models:
        schema = model.model_json_schema()
        _paths_of(schema, schema.get("$defs", {}), "", found)
    return frozenset(found)


def mask(
    body: Any, event_type: Any = None, at: str = "", sources: KnownSources = NONE_KNOWN
) -> Any:
    """`body` (found at dotted path `at` of a message of `event_type`) with everything that is
    not known to be safe masked."""
    known = event_type if isinstance(event_type, str) else None
    rules = {**_envelope(sources), **(payload_rules(known) if known else {})}
    return _mask(body, at, rules, declared_paths(known))


#: Deeper than any contract goes: what lies below is masked whole (a 700-deep payload must not
#: exhaust the stack of the page or command that shows it).
MAX_DEPTH = 32


def _mask(
    node: Any, path: str, rules: dict[str, Rule], declared: frozenset[str], depth: int = 0
) -> Any:
    if isinstance(node, dict | list) and depth >= MAX_DEPTH:
        return f"{MASK} (nested deeper than {MAX_DEPTH})"
    if isinstance(node, dict):
        return {
            (k if _NAME.match(k) and _join(path, k) in declared else f"{MASK}{i}"): _mask(
                v, _join(path, k), rules, declared, depth + 1
            )
            for i, (k, v) in enumerate(node.items())
        }
    if isinstance(node, list):
        return [_mask(v, _join(path, "*"), rules, declared, depth + 1) for v in node]
    if node is None:
        return node
    rule = rules.get(path)
    return node if rule is not None and rule(node) else MASK


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def masked(value: bytes, sources: KnownSources = NONE_KNOWN) -> str:
    """The message for display with everything not known to be safe masked (or a note when it
    is not JSON)."""
    try:
        body = json.loads(value)
    except (ValueError, RecursionError):
        return f"({len(value)} bytes that are not JSON; reveal to see them)"
    event_type = body.get("event_type") if isinstance(body, dict) else None
    return json.dumps(mask(body, event_type, sources=sources), indent=2, ensure_ascii=False)


def masked_edit(event_type: Any, path: str, raw: str) -> str:
    """An operator's edit as the history shows it: the value only when it is safe there."""
    parts = [("*" if p.isdigit() else p) for p in path.split(".") if p]
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    shown = mask(value, event_type, ".".join(parts))
    return shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
