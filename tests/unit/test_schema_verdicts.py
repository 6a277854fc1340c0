"""What the published schema accepts, the hub accepts (issue #13): every example in
`contracts/examples/` is mutated at least 500 ways (removed, retyped, padded, duplicated,
reformatted, extended, given bad codes), and each mutation is judged by the published JSON
Schema (Draft 2020-12 with the format checker, the way a partner validates) and by the hub's
own parser. The verdicts must agree, except where one of the named rules below, which JSON
Schema cannot say, refused the message (each is written in the schema's descriptions and the
README)."""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from hub.core.contracts.catalogue import ALL_EVENT_TYPES
from hub.core.contracts.parse import parse_event
from hub.core.failures import Rejected

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(
    p for p in (ROOT / "contracts" / "examples").glob("*/*.json") if p.parent.name != "dead-letter"
)
SCHEMAS = ROOT / "contracts" / "schemas"

#: Rules only the hub checks (JSON Schema cannot compare with today or another field, or
#: compute a check digit): the words of the hub's message for each.
PYTHON_ONLY = {
    "nhs_number_check_digit": "expected a valid NHS number",
    "date_of_birth_in_the_future": "expected a date of birth that is not in the future",
    "date_of_birth_before_1900": "expected a date of birth in 1900 or later",
    "occurred_at_in_the_future": "occurred_at: expected a time that is not in the future",
    "adjourned_before_the_hearing": "adjourned_to: expected a date on or after hearing_date",
    "substance_listed_twice": "expected each substance listed once",
    # JSON Schema's "integer" includes 14.0; the hub wants an integer written as one.
    "integer_written_with_a_fraction": "expected a valid integer",
}

Json = Any
Path_ = tuple[str | int, ...]


def leaves(value: Json, path: Path_ = ()) -> Iterator[tuple[Path_, Json]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from leaves(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from leaves(item, (*path, index))


def changed(message: Json, path: Path_, change: Callable[[Json], Json] | None) -> Json:
    """A copy with the value at `path` replaced by `change(value)`, or removed (None)."""
    found = copy.deepcopy(message)
    parent = found
    for step in path[:-1]:
        parent = parent[step]
    if change is None:
        del parent[path[-1]]
    else:
        parent[path[-1]] = change(parent[path[-1]])
    return found


def changes_of(value: Json) -> list[Callable[[Json], Json]]:
    """Ways to spoil (or keep) one value."""
    found: list[Callable[[Json], Json]] = [
        lambda _: None,
        lambda _: "",
        lambda _: [],
        lambda _: {},
        lambda _: 0,
        lambda _: "maybe",
    ]
    if isinstance(value, bool):
        found += [lambda v: str(v).lower(), int, lambda v: not v]
    elif isinstance(value, int):
        found += [str, float, lambda v: v + 0.5, lambda v: -1, lambda v: 10**6, lambda v: True]
    elif isinstance(value, str):
        found += [
            lambda v: f" {v} ",
            lambda v: f"{v} ",
            lambda v: v.upper(),
            lambda v: v.lower(),
            lambda v: v.replace(" ", ""),
            lambda v: v + "x",
            lambda v: v * 30,
            lambda v: v.replace("-", "/"),
            lambda v: v[:10],
            lambda v: v.replace("T", " "),
            lambda v: v.replace("+00:00", "Z"),
            lambda v: v.replace("+00:00", ""),
            lambda v: v + "T00:00:00",
            lambda v: "2999" + v[4:],
            lambda v: "1899" + v[4:],
            lambda v: 1700000000,
            lambda v: [v],
            lambda v: v.replace("0", "O"),
            lambda v: v[::-1],
            lambda v: v[:3] + " " + v[3:6] + " " + v[6:],
            lambda v: "\u0000" + v,
        ]
    elif isinstance(value, list):
        found += [
            lambda v: v + v[:1],
            lambda v: v[:1] * 2,
            lambda v: v[1:],
            lambda v: v * 4,
            lambda v: [*v, "other"],
            lambda v: list(reversed(v)),
        ]
    elif isinstance(value, dict):
        found += [lambda v: {**v, "unexpected": 1}, lambda v: {**v, "note": "x"}]
    return found


def mutations(message: Json, at_least: int = 500) -> list[Json]:
    """Every single change of every value, then pairs of them until `at_least`."""
    singles: list[Json] = []
    for path, value in leaves(message):
        if not path:
            continue
        singles.append(changed(message, path, None))
        singles += [changed(message, path, change) for change in changes_of(value)]
        if isinstance(value, dict):
            singles.append(changed(message, path, lambda v: {**v, "extra_field": True}))
    pick = random.Random(len(singles))
    pairs: list[Json] = []
    paths = [p for p, _ in leaves(message) if p]
    while len(singles) + len(pairs) < at_least:
        first = pick.choice(singles)
        path = pick.choice(paths)
        try:
            current = first
            for step in path:
                current = current[step]
        except (KeyError, IndexError, TypeError):
            continue
        pairs.append(changed(first, path, pick.choice(changes_of(current))))
    return [message, *singles, *pairs]


def schema_for(message: Json) -> Json:
    event_type = message.get("event_type") if isinstance(message, dict) else None
    if not isinstance(event_type, str) or event_type not in ALL_EVENT_TYPES:
        return None  # no published schema accepts it
    return _SCHEMAS.setdefault(
        event_type, json.loads((SCHEMAS / f"{event_type}.schema.json").read_text())
    )


_SCHEMAS: dict[str, Json] = {}


def hub_verdict(value: bytes) -> tuple[bool, str]:
    try:
        parse_event(value, ALL_EVENT_TYPES)
    except Rejected as rejected:
        return False, rejected.message
    return True, ""


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_the_schema_and_the_hub_give_the_same_verdict(example: Path) -> None:
    original = json.loads(example.read_text())
    schema = schema_for(original)
    assert schema is not None
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    disagreements, python_only = [], 0
    tried = mutations(original)
    assert len(tried) > 500
    for message in tried:
        value = json.dumps(message).encode()
        # A mutated event_type names another schema (or none): judged by the one it names.
        own = schema_for(message)
        by_schema = (
            (
                own is not None
                and Draft202012Validator(own, format_checker=FormatChecker()).is_valid(message)
            )
            if own is not schema
            else validator.is_valid(message)
        )
        by_hub, why = hub_verdict(value)
        if by_schema == by_hub:
            continue
        if by_schema and not by_hub and any(words in why for words in PYTHON_ONLY.values()):
            python_only += 1
            continue
        disagreements.append(
            (("schema accepts" if by_schema else "hub accepts"), why, json.dumps(message)[:300])
        )
    assert disagreements[:5] == [], f"{len(disagreements)} of {len(tried)} disagree"
