"""The requirements a buyer states, as the web finder's form and the API's check both pass them.

``INPUTS`` declares each requirement once: its name, kind, label, the finder's question and
the API's description. The finder's form (``catalog.forms.FinderForm``) and the API's
request serializer (``catalog.requirements.api``) build their fields from it.
``Requirements.from_mapping`` reads form or JSON values and raises ``RequirementsError``
naming the offending field. Adding a requirement is an ``Input`` and a ``Requirements``
field here, and a rule in ``catalog.requirements.rules``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.models import Modality


class RequirementsError(ValueError):
    """Bad requirements; ``field`` names the offending input."""

    def __init__(self, field: str, message: str, *, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code  # "does_not_exist": well formed, but names no record


# How a requirement's value is read: yes or no, a budget, or a set of modality slugs.
FLAG = "flag"
PRICE = "price"
MODALITIES = "modalities"

# A budget's precision, and the most modalities one check may ask for.
PRICE_MAX_DIGITS = 12
PRICE_DECIMAL_PLACES = 4
MAX_MODALITIES = 10


@dataclasses.dataclass(frozen=True)
class Input:
    """One requirement a buyer may state, declared once: the finder's form and the API's
    check build their fields from it, and ``Requirements`` reads its value by ``kind``."""

    name: str
    kind: str  # FLAG, PRICE or MODALITIES
    label: str  # the requirement's name in findings
    question: str  # how the finder's form asks for it
    fieldset: str  # the legend of the finder form's fieldset it is asked in
    help_text: str | None = None  # the API's description of the field
    # The finder asks for this flag as one option of the radio field of this name, so at
    # most one of its options is chosen; the API takes each flag on its own.
    choice_of: str = ""


# Every requirement, in the order the API takes them and results list their findings.
INPUTS = (
    Input("commercial_use", FLAG, "Commercial use", "Commercial use", "Use"),
    Input(
        "self_hosting",
        FLAG,
        "Self-hosting",
        "Self-hosting required (weights we run ourselves)",
        "Where it runs",
        help_text="Weights you can run yourself.",
        choice_of="hosting",
    ),
    Input(
        "eu_residency",
        FLAG,
        "EU data residency",
        "EU data residency required (managed service hosted in the EU)",
        "Where it runs",
        help_text="An EU-hosted managed service.",
        choice_of="hosting",
    ),
    Input(
        "self_hosting_or_eu",
        FLAG,
        "Self-hosting or EU residency",
        "Either self-hosting or EU data residency",
        "Where it runs",
        help_text="Either self-hosting or EU residency.",
        choice_of="hosting",
    ),
    Input(
        "no_training_on_inputs", FLAG, "No training on inputs", "No training on our inputs", "Use"
    ),
    Input("fine_tuning", FLAG, "Fine-tuning", "Fine-tuning allowed", "Use"),
    Input(
        "redistribution",
        FLAG,
        "Redistribution of weights",
        "Redistribution of the weights",
        "Use",
        help_text="Redistribution of the weights.",
    ),
    Input(
        "max_input_price",
        PRICE,
        "Input price budget",
        "Budget per million input tokens (USD)",
        "Budget",
        help_text="Budget in USD per million input tokens.",
    ),
    Input(
        "max_output_price",
        PRICE,
        "Output price budget",
        "Budget per million output tokens (USD)",
        "Budget",
        help_text="Budget in USD per million output tokens.",
    ),
    Input(
        "modalities",
        MODALITIES,
        "Modalities",
        "Modalities it must handle",
        "Modalities it must handle",
        help_text="Modality slugs the model must handle, e.g. text, image, audio, code.",
    ),
)
LABELS = {item.name: item.label for item in INPUTS}


@dataclasses.dataclass(frozen=True)
class Requirements:
    """What a buyer requires; a field per declared input, unset when not required."""

    commercial_use: bool = False
    self_hosting: bool = False
    eu_residency: bool = False
    self_hosting_or_eu: bool = False
    no_training_on_inputs: bool = False
    fine_tuning: bool = False
    redistribution: bool = False
    max_input_price: Decimal | None = None
    max_output_price: Decimal | None = None
    modalities: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Requirements:
        """Build requirements from form or JSON data; raise RequirementsError naming the field."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequirementsError(unknown[0], f"unknown requirement; use one of {sorted(known)}")
        values: dict[str, Any] = {}
        for item in INPUTS:
            name = item.name
            if item.kind == FLAG:
                if name in data:
                    values[name] = _as_bool(name, data[name])
            elif data.get(name) not in (None, ""):
                read = _as_price if item.kind == PRICE else _as_modalities
                values[name] = read(name, data[name])
        return cls(**values)

    def requested(self) -> list[str]:
        """The names of the requirements asked for (those not at their default), in the order
        findings are listed."""
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        return [item.name for item in INPUTS if getattr(self, item.name) != defaults[item.name]]


def _as_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise RequirementsError(field, f"must be true or false, got {value!r}")


def _as_price(field: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise RequirementsError(field, "must be a number of currency units per million tokens")
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RequirementsError(field, f"must be a number, got {value!r}") from None
    if not price.is_finite() or price < 0:
        raise RequirementsError(field, f"must be a non-negative number, got {value!r}")
    return price


def _as_modalities(field: str, value: Any) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise RequirementsError(field, "must be a list of modality names")
    cleaned = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise RequirementsError(field, f"each modality must be a name, got {item!r}")
        cleaned.append(item.strip().lower())
    allowed = set(Modality.objects.values_list("slug", flat=True))
    bad = sorted(set(cleaned) - allowed)
    if bad:
        raise RequirementsError(
            field, f"unknown modality {bad[0]!r}; use {sorted(allowed)}", code="does_not_exist"
        )
    return frozenset(cleaned)
