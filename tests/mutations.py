"""Malformed and adversarial variants of valid messages, for property-based tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

EXAMPLES = Path(__file__).resolve().parents[1] / "contracts" / "examples"
VALID = {
    p.name: json.loads(p.read_text())
    for p in sorted(EXAMPLES.glob("*/*.json"))
    if p.parent.name != "dead-letter"
}

ADVERSARIAL_TEXT = st.sampled_from(
    [
        "'; DROP TABLE persons; --",
        "<script>alert(1)</script>",
        "${jndi:ldap://x}",
        "\u0000",
        "A" * 100_000,
        "2026-13-45T99:99:99Z",
        "\ud7ff\ufffd",
        "../../etc/passwd",
        "NaN",
        "",
        "1990-02-30",
        "+44 7700 900000",
        # Text PostgreSQL cannot store, and text that looks like something else (issue #14).
        "ab\u0000cd",
        "\ud800",
        "x\udc80y",
        "\ufeff{}",
        "\u0007\u001b[31m",
        "\u2028\u2029",
        "\u202eevil",
        "\x00" * 1000,
    ]
)
JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
    | ADVERSARIAL_TEXT,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, inner in value.items():
            found += paths(inner, (*prefix, key))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            found += paths(inner, (*prefix, index))
    return found


@st.composite
def corrupted(draw: st.DrawFn, names: list[str] | None = None) -> tuple[str, bytes]:
    """(example name, bytes of a damaged copy with a new event_id): a field replaced, removed
    or added, or the whole message re-encoded."""
    name = draw(st.sampled_from(names or sorted(VALID)))
    message = copy.deepcopy(VALID[name])
    message["event_id"] = str(draw(st.uuids()))
    how = draw(st.sampled_from(["replace", "remove", "add", "encoding"]))
    if how == "encoding":
        source = {**message["source"], "site": "Ñandú-Öztürk custody suite"}
        text = json.dumps({**message, "source": source}, ensure_ascii=False)
        return name, text.encode(draw(st.sampled_from(["utf-16", "latin-1", "cp1252"])))
    path = draw(st.sampled_from(paths(message)))
    parent = message
    for step in path[:-1]:
        parent = parent[step]
    if how == "replace":
        parent[path[-1]] = draw(JSON_VALUES)
    elif how == "remove" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        target = parent if isinstance(parent, dict) else message
        target[draw(st.text(min_size=1, max_size=12).filter(lambda k: k not in target))] = 1
    return name, json.dumps(message).encode()
