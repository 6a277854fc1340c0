"""A FHIR message built as plain JSON, validated once, and serialised fast.

Mappers build resources as dicts; `validated` checks the whole Bundle once with the
fhir.resources R4B models (an invalid Bundle never leaves a mapper). The wire form walks the
validated model in the FHIR element order and is written by orjson: the same bytes as
`model_dump_json(exclude_none=True)` (the golden tests compare both), at a fraction of the cost.
"""

from __future__ import annotations

import decimal
import uuid
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_args, get_origin

import orjson
from fhir.resources.R4B import get_fhir_model_class
from fhir.resources.R4B.bundle import Bundle
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from fhir_core.utils import is_primitive_type

Json = dict[str, Any]


@dataclass(frozen=True)
class FhirMessage:
    """A Bundle that passed validation (`validated`); `to_json` writes its wire form."""

    model: Bundle


_RESOURCES: dict[str, type[FHIRAbstractModel]] = {}


def _resource(body: Json) -> FHIRAbstractModel:
    """One entry's resource, validated with its own model (found once per resource type)."""
    kind = body["resourceType"]
    model = _RESOURCES.get(kind)
    if model is None:
        model = _RESOURCES[kind] = get_fhir_model_class(kind)
    return model.model_validate(_shared(body, model))


# -- Validating a recurring code once ----------------------------------------------------------
# Most of a Bundle's elements are codes that recur in every Bundle (a Coding, a CodeableConcept,
# the MessageHeader's source). fhir.resources validates a nested element by validating its JSON
# with the element's own model and accepts an instance of that model as it is. So an element
# whose JSON was validated before is given as the instance it became: the same validation, done
# once. Only element types that carry codes, never a person's data, are kept (a bounded set).

#: The element types kept once validated: codes and the hub's own description, no personal data.
SHARED_ELEMENTS = frozenset({"Coding", "CodeableConcept", "MessageHeaderSource"})
_SHARED_LIMIT = 4096  # the most recently used are kept
#: Element types that recur within one message only (a reference to an entry's `urn:uuid`,
#: which is new in every message): validated once per message, kept for that message only.
MESSAGE_ELEMENTS = frozenset({"Reference"})
#: While a message is validated: its elements of a `MESSAGE_ELEMENTS` type, by their JSON.
_IN_MESSAGE: dict[tuple[type[Any], bytes], FHIRAbstractModel] | None = None
_VALIDATED: OrderedDict[tuple[type[Any], bytes], FHIRAbstractModel] = OrderedDict()
#: The JSON of each kept instance, by the instance's id, once written (kept while it is).
_KEPT_JSON: dict[int, Json | None] = {}
#: Per model: its complex elements (JSON key -> element model, repeats).
_COMPLEX: dict[type[Any], dict[str, tuple[type[FHIRAbstractModel], bool]]] = {}


def _complex_elements(model: type[Any]) -> dict[str, tuple[type[FHIRAbstractModel], bool]]:
    found = _COMPLEX.get(model)
    if found is None:
        found = {}
        for name, info in model.model_fields.items():
            element, repeats = _element_type(info.annotation)
            if element is not None and not element.has_resource_base():
                found[info.alias or name] = (element, repeats)
        _COMPLEX[model] = found
    return found


def _element_type(annotation: Any) -> tuple[type[FHIRAbstractModel] | None, bool]:
    """The FHIR element model an annotation names (`X | None`, `list[X] | None`), if any."""
    repeats = False
    while True:
        args = [a for a in get_args(annotation) if a is not type(None)]
        if get_origin(annotation) is list:
            repeats = True
        if not args:
            break
        annotation = args[0]
    klass = getattr(annotation, "get_model_klass", None)
    if klass is None:
        return None, repeats
    element = klass()
    return (
        element if isinstance(element, type) and issubclass(element, FHIRAbstractModel) else None
    ), repeats


def _shared(body: Json, model: type[Any]) -> Json:
    """`body` with every element of a `SHARED_ELEMENTS` type given as its validated instance
    (validated now if it was not before)."""
    elements = _complex_elements(model)
    out: Json | None = None
    for key, value in body.items():
        spec = elements.get(key)
        if spec is None:
            continue
        element, repeats = spec
        if repeats and isinstance(value, list):
            new: Any = [_one(v, element) for v in value]
            changed = any(a is not b for a, b in zip(new, value, strict=True))
        else:
            new = _one(value, element)
            changed = new is not value
        if changed:
            out = dict(body) if out is None else out
            out[key] = new
    return body if out is None else out


def _one(value: Any, element: type[FHIRAbstractModel]) -> Any:
    if not isinstance(value, dict):
        return value
    if element.__name__ in MESSAGE_ELEMENTS and _IN_MESSAGE is not None:
        return _in_message(value, element, _IN_MESSAGE)
    if element.__name__ not in SHARED_ELEMENTS:
        return _shared(value, element)

    def validate() -> Any:
        try:
            return element.model_validate(value)
        except ValueError:  # reported in its place by the validation around it
            return None

    return _once(value, element, validate) or value


def _in_message(
    value: Json,
    element: type[FHIRAbstractModel],
    seen: dict[tuple[type[Any], bytes], FHIRAbstractModel],
) -> Any:
    """The instance this JSON became earlier in the message, or made now."""
    try:
        key = (element, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # not plain JSON: validated where it is
        return _shared(value, element)
    found = seen.get(key)
    if found is None:
        try:
            found = element.model_validate(_shared(value, element))
        except ValueError:  # reported in its place by the validation around it
            return value
        seen[key] = found
    return found


def _once(value: Json, model: type[Any], validate: Callable[[], Any]) -> Any:
    """The instance `validate()` made of this JSON before, or makes now (kept unless None)."""
    try:
        key = (model, orjson.dumps(value, option=orjson.OPT_SORT_KEYS))
    except TypeError:  # not plain JSON: validated where it is, every time
        return validate()
    found = _VALIDATED.get(key)
    if found is not None:
        _VALIDATED.move_to_end(key)
        return found
    found = validate()
    if found is not None:
        _VALIDATED[key] = found
        _KEPT_JSON[id(found)] = None
        if len(_VALIDATED) > _SHARED_LIMIT:
            _, dropped = _VALIDATED.popitem(last=False)
            del _KEPT_JSON[id(dropped)]
    return found


def validated_resource(body: Json) -> Json:
    """One resource given as JSON, validated by its model, back as the JSON it writes (the
    same as `model_dump_json(exclude_none=True)`, read back)."""
    return dict(orjson.loads(orjson.dumps(_dump(_resource(body)), option=orjson.OPT_UTC_Z)))


def validated(body: Json) -> FhirMessage:
    """Validate a Bundle given as JSON; raises (pydantic ValidationError) when it is invalid.
    Each entry's resource is validated by its own model, then the Bundle around them."""
    global _IN_MESSAGE  # noqa: PLW0603 - one message at a time (validation never awaits)
    _IN_MESSAGE = {}
    try:
        entries = [
            {**entry, "resource": _resource(entry["resource"])} if "resource" in entry else entry
            for entry in body.get("entry", ())
        ]
        return FhirMessage(Bundle.model_validate({**body, "entry": entries}))
    finally:
        _IN_MESSAGE = None


#: Per FHIR type: (JSON key, field, is primitive, extension field, extension JSON key).
Element = tuple[str, str, bool, str, str]
_ELEMENTS: dict[type[Any], tuple[Element, ...]] = {}


def _elements(model_class: type[Any]) -> tuple[Element, ...]:
    """The elements of a FHIR type in the specification's order (as fhir.resources writes)."""
    found = _ELEMENTS.get(model_class)
    if found is None:
        aliases = model_class.get_alias_mapping()
        fields = model_class.model_fields
        elements = []
        for name in model_class.elements_sequence():
            field = aliases[name]
            info = fields[field]
            extension = fields.get(f"{field}__ext")
            elements.append(
                (
                    info.alias or field,
                    field,
                    is_primitive_type(info),
                    f"{field}__ext",
                    (extension.alias or f"{field}__ext") if extension else "",
                )
            )
        found = _ELEMENTS[model_class] = tuple(elements)
    return found


def _primitive(value: Any) -> Any:
    if isinstance(value, list):
        return [_primitive(v) for v in value]
    if isinstance(value, uuid.UUID):
        return f"urn:uuid:{value}"
    if isinstance(value, decimal.Decimal):
        exponent = value.as_tuple().exponent
        if (
            value.is_finite()
            and value == value.to_integral_value()
            and isinstance(exponent, int)
            and exponent >= 0
        ):
            return int(value)
        return float(value)
    if isinstance(value, bytes | bytearray):
        raise TypeError("base64 elements are not produced by the hub's mappers")
    return value


def _complex(value: Any) -> Any:
    if isinstance(value, list):
        return [_complex(v) for v in value]
    if isinstance(value, FHIRAbstractModel):
        return _dump(value)
    return value


def _dump(model: FHIRAbstractModel) -> Json:
    """What `model_dump(exclude_none=True)` gives, without pydantic's serialiser machinery (a
    kept instance's JSON is written once: it is never changed)."""
    key = id(model)
    if key in _KEPT_JSON:
        kept = _KEPT_JSON[key]
        if kept is None:
            kept = _KEPT_JSON[key] = _dump_fields(model)
        return kept
    return _dump_fields(model)


def _dump_fields(model: FHIRAbstractModel) -> Json:
    out: Json = {}
    kind = type(model)
    if kind.has_resource_base():
        out["resourceType"] = model.__resource_type__
    values = model.__dict__
    for key, field, primitive, extension_field, extension_key in _elements(kind):
        value = values.get(field)
        if value is not None and value != []:
            out[key] = _primitive(value) if primitive else _complex(value)
        if primitive and extension_key:
            extension = values.get(extension_field)
            if extension:
                out[extension_key] = _complex(extension)
    return out


def to_json(message: FhirMessage) -> bytes:
    """The wire form of a Bundle: compact FHIR JSON without empty elements."""
    return orjson.dumps(_dump(message.model), option=orjson.OPT_UTC_Z)
