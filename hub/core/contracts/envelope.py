"""The inbound envelope every source system publishes (DESIGN.md §3)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, TypeVar
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

SUPPORTED_SCHEMA_VERSIONS = frozenset({"1.0"})
T = TypeVar("T")

_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})?$")
_CLOCK_SKEW = timedelta(minutes=5)


class Contract(BaseModel):
    """Base of every message contract: immutable, no unknown fields, and strict: no coercion
    (a boolean is `true`/`false`, a number is a JSON number, a date is `YYYY-MM-DD`), nothing
    padded or de-duplicated silently. Parsed from JSON (`model_validate_json`)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def nhs_number_is_valid(value: str) -> bool:
    """The NHS number's mod-11 check digit (NHS Data Dictionary)."""
    if len(value) != 10 or not value.isdigit():
        return False
    weights = range(10, 1, -1)
    total = sum(int(digit) * weight for digit, weight in zip(value[:9], weights, strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(value[9])


def _nhs_number(value: str) -> str:
    compact = value.replace(" ", "")
    if not nhs_number_is_valid(compact):
        raise ValueError("a valid NHS number (10 digits with a mod-11 check digit)")
    return compact


#: What sources write for no fixed abode instead of a postcode (compared upper-case without
#: spaces), beside the NHS pseudo-postcode for it, `ZZ99 3VZ`.
NO_FIXED_ABODE_MARKERS = frozenset({"NFA", "N/A", ""})


def no_fixed_abode(postcode: str | None) -> bool:
    """The postcode says the person has no fixed abode ("NFA", "N/A", empty, `ZZ99 3VZ`)."""
    if postcode is None:
        return False
    compact = postcode.upper().replace(" ", "")
    return compact in NO_FIXED_ABODE_MARKERS or compact == "ZZ993VZ"


def _postcode(value: str) -> str:
    if no_fixed_abode(value) and not value.upper().startswith("ZZ"):
        return value.upper()  # kept as written: routing and the report read it as no fixed abode
    match = _POSTCODE.match(value.upper().replace(" ", ""))
    if match is None:
        raise ValueError("a UK postcode or postcode district")
    outward, inward = match.groups()
    return f"{outward} {inward}" if inward else outward


def _not_in_the_future(moment: datetime) -> datetime:
    if moment > datetime.now(UTC) + _CLOCK_SKEW:
        raise ValueError("a time that is not in the future")
    return moment


def _past_date(value: date) -> date:
    if value > date.today():
        raise ValueError("a date of birth that is not in the future")
    if value.year < 1900:
        raise ValueError("a date of birth in 1900 or later")
    return value


_UUID = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
_INSTANT = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]+)?"
    r"(?:[Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _uuid_text(value: object) -> object:
    """8-4-4-4-12 text → the UUID (the strict model takes nothing else)."""
    if not isinstance(value, str):
        return value  # refused as not a UUID
    if re.match(_UUID, value) is None:
        raise ValueError("a UUID written as 8-4-4-4-12 hexadecimal digits")
    return UUID(value)


def _instant_text(value: object) -> object:
    """RFC 3339 text → the moment (the strict model takes nothing else)."""
    if not isinstance(value, str):
        return value  # refused as not a date and time
    if re.match(_INSTANT, value) is None:
        raise ValueError(
            "a date and time as RFC 3339, with its offset (YYYY-MM-DDTHH:MM:SS+01:00 or Z)"
        )
    try:
        return datetime.fromisoformat(value.upper())
    except ValueError:
        raise ValueError("a date and time that exists") from None


def distinct(values: tuple[T, ...]) -> tuple[T, ...]:
    """A list's values each appear once (its schema says `uniqueItems`: `UNIQUE`)."""
    if len(set(values)) != len(values):
        raise ValueError("each value listed once")
    return values


UNIQUE = {"uniqueItems": True}


def _unpadded(excluded: str) -> str:
    """Text of characters not in `excluded`, with no whitespace at either end."""
    return rf"^[^\s{excluded}](?:[^{excluded}]*[^\s{excluded}])?$"


#: A moment as RFC 3339 text with its UTC offset (JSON Schema `date-time`).
Instant = Annotated[
    AwareDatetime, BeforeValidator(_instant_text), Field(json_schema_extra={"pattern": _INSTANT})
]
#: A UUID as JSON text (the hub's ids and the sources' event ids).
Uuid = Annotated[UUID, BeforeValidator(_uuid_text), Field(json_schema_extra={"pattern": _UUID})]
#: NHS number: 10 digits, or 3 3 4 with single spaces; its mod-11 check digit is checked too.
NhsNumber = Annotated[
    str,
    Field(
        pattern=r"^(?:[0-9]{10}|[0-9]{3} [0-9]{3} [0-9]{4})$",
        description="10 digits (or 3 3 4 with spaces) with a valid mod-11 check digit.",
    ),
    AfterValidator(_nhs_number),
]
#: A postcode or district (upper or lower case, the space optional), or no fixed abode.
POSTCODE_PATTERN = (
    r"^(?:[A-Za-z]{1,2}[0-9][A-Za-z0-9]?(?: ?[0-9][A-Za-z]{2})?"
    r"|[Nn][Ff][Aa]|[Nn]/[Aa]|)$"
)
Postcode = Annotated[str, Field(max_length=10, pattern=POSTCODE_PATTERN), AfterValidator(_postcode)]
GssCode = Annotated[str, Field(pattern=r"^[EWSN][0-9]{8}$")]
PncId = Annotated[str, Field(pattern=r"^[0-9]{2,4}/[0-9]{1,7}[A-Z]$")]
Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9/_.:-]+$")]
PersonName = Annotated[
    str, Field(min_length=1, max_length=100, pattern=_unpadded(r"\x00-\x1f<>{}\[\]"))
]
Text = Annotated[str, Field(min_length=1, max_length=200, pattern=_unpadded(r"\x00-\x1f"))]


class Source(Contract):
    """Which system published the event, and from which site (custody suite, court, office)."""

    system: Text
    site: Text


IDENTIFIERS = (
    "nhs_number",
    "pnc_id",
    "custody_record_number",
    "court_case_number",
    "probation_crn",
)


class Subject(Contract):
    """What the source knows about the person. At least one identifier is required."""

    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {"required": [name], "properties": {name: {"type": "string"}}}
                for name in IDENTIFIERS
            ]
        }
    )

    nhs_number: NhsNumber | None = None
    pnc_id: PncId | None = None
    custody_record_number: Reference | None = None
    court_case_number: Reference | None = None
    probation_crn: Reference | None = None
    given_name: PersonName | None = None
    family_name: PersonName | None = None
    date_of_birth: Annotated[date, AfterValidator(_past_date)] | None = Field(
        default=None, description="Not in the future, not before 1900."
    )
    postcode: Postcode | None = Field(
        default=None,
        description=(
            'UK postcode or postcode district of residence. No fixed abode: "NFA", "N/A", '
            'an empty string or the NHS pseudo-postcode "ZZ99 3VZ" (triaged as no_fixed_abode);'
            " other ZZ99 pseudo-postcodes mean the address is not known (residence_unknown)."
        ),
    )
    residence_authority: GssCode | None = Field(
        default=None, description="ONS GSS code of the local authority of residence, if known."
    )

    @model_validator(mode="after")
    def _has_identifier(self) -> Subject:
        if not any(
            (
                self.nhs_number,
                self.pnc_id,
                self.custody_record_number,
                self.court_case_number,
                self.probation_crn,
            )
        ):
            raise ValueError("at least one identifier (" + ", ".join(IDENTIFIERS) + ")")
        return self


class EnvelopeHead(BaseModel):
    """The part of the envelope read first, to choose the contract; tolerant of the rest."""

    model_config = ConfigDict(frozen=True, extra="allow")

    event_id: Uuid
    event_type: Annotated[str, Field(max_length=100)]
    schema_version: Annotated[str, Field(max_length=20)]


class Event(Contract):
    """Fields common to every inbound event; subclasses fix `event_type` and `payload`."""

    event_id: Uuid
    event_type: str
    schema_version: str
    occurred_at: Annotated[Instant, AfterValidator(_not_in_the_future)] = Field(
        description="With its UTC offset; not in the future (5 minutes' clock skew allowed)."
    )
    source: Source


E = TypeVar("E", bound=Event)


class Envelope(Event):
    """An event about a person, who is named by the identifiers the source knows."""

    subject: Subject


def event_types(*models: type[E]) -> dict[str, type[E]]:
    """A topic's catalogue: `event_type` → its contract (read off each model's Literal)."""
    catalogue: dict[str, type[E]] = {}
    for model in models:
        (name,) = model.model_fields["event_type"].annotation.__args__  # type: ignore[union-attr]
        catalogue[name] = model
    return catalogue
