"""What an operator sees of a dead letter without a recorded reveal: an allow-list, so
misnamed keys, free text and whole objects stay masked; refusals name fields, not values."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hub.core.contracts.validate import field_problems, problems
from hub.core.dead_letters import DeadLetter, hub_header_names
from hub.core.masking import MASK, KnownSources, masked, masked_edit
from hub.core.operators import LoginThrottle
from tests.factories import drug_test_event, encode

SECRETS = (
    "Smithers",
    "1990-02-03",
    "9990000018",
    "theft from a Mr Smithers",
    "Jonesy",
    "BOOK-77-SMITH",
    "B12 9ZZ",
    "Personsyn",
)


def leaky_event() -> dict[str, object]:
    event = drug_test_event()
    event["subject"].update(surname="Smithers", dob="1990-02-03", nhsNumber=9990000018)
    event["subject"]["family_name"] = "Personsyn"
    event["payload"].update(
        arrest_offence="theft from a Mr Smithers",
        place="Jonesy",
        booking_reference="BOOK-77-SMITH",
        extra={"nested": {"who": "Smithers", "n": 9990000018}},
    )
    event["payload"]["results"]["opiates"] = "Jonesy"  # a bad value in an enumerated field
    return event


KNOWN = KnownSources(frozenset({"test-custody"}), frozenset({"Test custody suite"}))


def test_only_known_safe_values_are_shown() -> None:
    shown = masked(encode(leaky_event()), KNOWN)
    for secret in SECRETS:
        assert secret not in shown
    body = json.loads(shown)
    assert body["event_type"] == "custody.drug_test_result"
    assert body["source"] == {"system": "test-custody", "site": "Test custody suite"}
    # health and offence data stay masked, even values the contract enumerates
    assert body["payload"]["results"] == {"opiates": MASK, "cocaine": MASK}
    assert body["payload"]["trigger_offence"] == MASK
    assert body["payload"]["sample_type"] == MASK
    assert body["payload"]["tested_at"] == "2026-10-01T08:45:00+00:00"
    for invented in ("extra", "nested", "surname", "dob", "nhsNumber", "arrest_offence"):
        assert f'"{invented}"' not in shown  # names the contract lacks came from the message
    assert body["payload"][f"{MASK}7"] == {f"{MASK}0": {f"{MASK}0": MASK, f"{MASK}1": MASK}}
    assert body["subject"]["family_name"] == MASK


def test_a_source_is_shown_only_when_it_is_a_configured_known_one() -> None:
    event = drug_test_event()
    event["source"] = {"system": "Smithers laptop", "site": "Flat 2, 9 Smithers Road"}
    assert json.loads(masked(encode(event), KNOWN))["source"] == {"system": MASK, "site": MASK}
    assert json.loads(masked(encode(drug_test_event())))["source"] == {  # none configured
        "system": MASK,
        "site": MASK,
    }
    assert KNOWN.system("test-custody") == "test-custody" and KNOWN.system("x") == MASK


def test_the_default_known_sources_are_those_of_the_examples() -> None:
    from hub.settings import Settings
    from tests.conftest import ROOT

    sources = [
        json.loads(p.read_text())["source"]
        for p in (ROOT / "contracts" / "examples").rglob("*.json")
        if "dead-letter" not in str(p)
    ]
    known = Settings().known_sources
    assert known.systems == {s["system"] for s in sources}
    assert known.sites == {s["site"] for s in sources}


def test_only_headers_the_hub_wrote_are_shown_as_its_own() -> None:
    hubs = [(name, b"theirs") for name in sorted(hub_header_names())]
    forged = [
        ("traceparent", b"00-1"),
        ("hub.dlq.reason", b"Smithers"),
        ("hub.Smithers", b"x"),
        ("hub.dlq.error.message", b"Mr Smithers"),
    ]
    letter = DeadLetter(None, None, b"", [*forged, *hubs])  # type: ignore[arg-type]
    assert letter.error_headers == [(name, "theirs") for name, _ in hubs]
    assert letter.producer_hub_headers == ["hub.dlq.reason", "hub.•••", "hub.dlq.error.message"]
    assert letter.original_headers == [("traceparent", b"00-1"), ("hub.Smithers", b"x")]


def test_an_unknown_event_type_shows_no_payload_and_odd_keys_are_masked() -> None:
    event = drug_test_event(opiates="negative")
    event["event_type"] = "custody.Smithers"
    event["payload"]["Smithers Jones"] = True
    shown = masked(encode(event))
    assert "Smithers" not in shown and '"negative"' not in shown


def test_edits_are_shown_only_where_safe() -> None:
    kind = "custody.drug_test_result"
    assert (
        masked_edit(kind, "payload.tested_at", "2026-10-01T08:50:00+00:00")
        == "2026-10-01T08:50:00+00:00"
    )
    assert masked_edit(kind, "payload.tested_at", "Smithers") == MASK
    assert masked_edit(kind, "payload.results.opiates", "positive") == MASK  # health data
    assert masked_edit(kind, "subject.family_name", "Smithers") == MASK
    whole = masked_edit(
        kind, "subject", json.dumps({"family_name": "Smithers", "date_of_birth": "1990-02-03"})
    )
    assert "Smithers" not in whole and "1990" not in whole and "family_name" in whole


def test_field_problems_name_the_fields_and_never_a_value() -> None:
    value = encode(leaky_event())
    found = field_problems(value)
    assert any(p.startswith("payload.results.opiates:") for p in found)
    # The name of a field the contract does not have came from the message: masked too.
    assert any(p.startswith("subject.•••: expected no such field") for p in found)
    assert any(p.startswith("subject.surname:") for p in problems(value))
    for secret in SECRETS:
        assert all(secret not in p for p in found), found
    assert any("Jonesy" in p for p in problems(value))  # the partner's own check still quotes
    bad_id = drug_test_event()
    bad_id["event_id"] = "Smithers-1"
    assert all(
        "Smithers" not in p and "S" not in p.split(":", 1)[1]
        for p in field_problems(encode(bad_id))
    )
    unknown = drug_test_event()
    unknown["event_type"] = "Smithers"
    assert all("Smithers" not in p for p in field_problems(encode(unknown)))


def test_login_attempts_are_counted_per_user_and_per_client_and_age_out() -> None:
    throttle = LoginThrottle(per_user=5, per_client=8, window=timedelta(minutes=5))
    now = datetime.now(UTC)
    assert all(throttle.admit("10.0.0.1", "otto", now) for _ in range(5))
    assert not throttle.admit("10.0.0.2", "OTTO", now)  # the name, from anywhere
    assert all(throttle.admit("10.0.0.1", f"user{n}", now) for n in range(3))
    assert not throttle.admit("10.0.0.1", "vera", now)  # spraying names: the client's limit
    assert throttle.admit("10.0.0.3", "vera", now)
    later = now + timedelta(minutes=5, seconds=1)
    assert throttle.admit("10.0.0.1", "otto", later)
    throttle.succeeded("otto")
    assert all(throttle.admit("10.0.0.4", "otto", later) for _ in range(5))


def test_the_throttle_tracks_a_bounded_number_of_names_and_clients() -> None:
    throttle, now = LoginThrottle(max_keys=10), datetime.now(UTC)
    admitted = [throttle.admit(f"10.0.0.{n}", f"user{n}", now) for n in range(20)]
    assert admitted == [True] * 5 + [False] * 15
    assert len(throttle._attempts) == 10
    assert throttle.admit("10.0.0.99", "user99", now + timedelta(minutes=6))


def test_times_typed_in_the_console_are_uk_times() -> None:
    from hub.entrypoints.console.session import local_moment

    summer, winter = (
        local_moment("2026-07-01T10:00", "from"),
        local_moment("2026-01-05T10:00", "from"),
    )
    assert summer is not None and winter is not None
    assert summer.astimezone(UTC).hour == 9 and winter.astimezone(UTC).hour == 10
    explicit = local_moment("2026-07-01T10:00+00:00", "from")
    assert explicit is not None and explicit.astimezone(UTC).hour == 10


def test_only_event_types_shaped_like_event_types_are_kept_for_operators() -> None:
    from hub.adapters.postgres.journal import _what_it_seems
    from hub.core.contracts.catalogue import shown_event_type

    assert shown_event_type("custody.drug_test_result") == "custody.drug_test_result"
    assert shown_event_type("custody.drug_test_resutl") == "custody.drug_test_resutl"  # typo
    for personal in ("Jo Smithers", "custody.Smithers", "smithers", "9990000018", 42, None):
        assert shown_event_type(personal) is None
    seen = _what_it_seems(b'{"event_type": "Jo Smithers 1990-02-03", "source": {"system": "x"}}')
    assert seen == {"event_type": None, "source_system": "x"}
