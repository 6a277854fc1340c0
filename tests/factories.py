"""Synthetic custody events for tests: placeholder names, NHS numbers from the never-issued 999
range, postcode units `9ZZ`."""

from __future__ import annotations

import itertools
import json
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from hub.core.contracts.envelope import nhs_number_is_valid

_serial = itertools.count(1)
TEST_NHS_NUMBERS = [n for n in (f"999{i:07d}" for i in range(2000, 4000)) if nhs_number_is_valid(n)]


def letters(n: int) -> str:
    """A distinct alphabetic name part for synthetic person n (names carry no digits)."""
    word = ""
    while True:
        n, rest = divmod(n, 26)
        word = chr(ord("a") + rest) + word
        if n == 0:
            return word.capitalize()


def drug_test_event(
    *,
    opiates: str = "positive",
    cocaine: str = "negative",
    postcode: str | None = "B12 9ZZ",
    residence_authority: str | None = None,
    with_nhs: bool = True,
    **subject: Any,
) -> dict[str, Any]:
    """A valid `custody.drug_test_result` event for a new synthetic person."""
    n = next(_serial)
    person: dict[str, Any] = {
        "custody_record_number": f"T-CR-{uuid.uuid4().hex[:10]}",
        "pnc_id": f"26/{n:07d}Z",
        "given_name": "Testy",
        "family_name": f"Personsyn{letters(n).lower()}",
        "date_of_birth": (date(1950, 1, 1) + timedelta(days=(n * 7) % 18000)).isoformat(),
    }
    # A person pinned by its identifiers gets no NHS number of its own (a random one on each
    # event would be another NHS number for the same PNC ID: an identity conflict).
    pinned = any(k in subject for k in ("pnc_id", "custody_record_number", "probation_crn"))
    if with_nhs and not pinned:
        person["nhs_number"] = TEST_NHS_NUMBERS[n % len(TEST_NHS_NUMBERS)]
    if postcode is not None:
        person["postcode"] = postcode
    if residence_authority is not None:
        person["residence_authority"] = residence_authority
    person.update(subject)
    return {
        "event_id": str(uuid.uuid4()),
        "event_type": "custody.drug_test_result",
        "schema_version": "1.0",
        "occurred_at": "2026-10-01T09:00:00+00:00",
        "source": {"system": "test-custody", "site": "Test custody suite"},
        "subject": person,
        "payload": {
            "tested_at": "2026-10-01T08:45:00+00:00",
            "sample_type": "oral_fluid",
            "trigger_offence": True,
            "results": {"opiates": opiates, "cocaine": cocaine},
        },
    }


def encode(event: dict[str, Any]) -> bytes:
    return json.dumps(event).encode()


EXAMPLES = Path(__file__).resolve().parents[1] / "contracts" / "examples"


def from_example(
    event_type: str, *, at: str, site: str, subject: dict[str, Any] | None = None, **payload: Any
) -> dict[str, Any]:
    """A new event shaped like the example of `event_type`, at `at`, about `subject`."""
    folder = event_type.split(".", maxsplit=1)[0]
    folder = "feedback" if folder == "provider" else folder
    path = next(
        p
        for p in sorted((EXAMPLES / folder).glob("*.json"))
        if json.loads(p.read_text())["event_type"] == event_type
    )
    event = json.loads(path.read_text())
    event.update(event_id=str(uuid.uuid4()), occurred_at=at)
    event["source"] = {**event["source"], "site": site}
    if subject is not None:
        event["subject"] = subject
    event["payload"] = {
        **event["payload"],
        **({"at": at} if "at" in event["payload"] else {}),
        **payload,
    }
    if "assessment" in event["payload"]:  # assessed when the event says
        event["payload"]["assessment"] = {**event["payload"]["assessment"], "assessed_at": at}
    return event
