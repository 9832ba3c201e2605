"""The requirements a buyer states, as the web finder's form and the API's check both pass them.

``Requirements.from_mapping`` reads form or JSON values and raises ``RequirementsError``
naming the offending field. A requirement is a field here, a label, and a rule in
``catalog.requirements.rules``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from catalog.models import Modality


class RequirementsError(ValueError):
    """Bad requirements; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


# Yes-or-no requirements, in the order results list their findings.
FLAG_FIELDS = (
    "commercial_use",
    "self_hosting",
    "eu_residency",
    "self_hosting_or_eu",
    "no_training_on_inputs",
    "fine_tuning",
    "redistribution",
)
PRICE_FIELDS = ("max_input_price", "max_output_price")
LABELS = {
    "commercial_use": "Commercial use",
    "self_hosting": "Self-hosting",
    "eu_residency": "EU data residency",
    "self_hosting_or_eu": "Self-hosting or EU residency",
    "no_training_on_inputs": "No training on inputs",
    "fine_tuning": "Fine-tuning",
    "redistribution": "Redistribution of weights",
    "max_input_price": "Input price budget",
    "max_output_price": "Output price budget",
    "modalities": "Modalities",
}


@dataclasses.dataclass(frozen=True)
class Requirements:
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
        for name in FLAG_FIELDS:
            if name in data:
                values[name] = _as_bool(name, data[name])
        for name in PRICE_FIELDS:
            if data.get(name) not in (None, ""):
                values[name] = _as_price(name, data[name])
        if "modalities" in data and data["modalities"] not in (None, ""):
            values["modalities"] = _as_modalities(data["modalities"])
        return cls(**values)

    def requested(self) -> list[str]:
        """The names of the requirements asked for, in the order findings are listed."""
        names = [name for name in FLAG_FIELDS if getattr(self, name)]
        names += [name for name in PRICE_FIELDS if getattr(self, name) is not None]
        if self.modalities:
            names.append("modalities")
        return names


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


def _as_modalities(value: Any) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise RequirementsError("modalities", "must be a list of modality names")
    cleaned = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise RequirementsError("modalities", f"each modality must be a name, got {item!r}")
        cleaned.append(item.strip().lower())
    allowed = set(Modality.objects.values_list("slug", flat=True))
    bad = sorted(set(cleaned) - allowed)
    if bad:
        raise RequirementsError("modalities", f"unknown modality {bad[0]!r}; use {sorted(allowed)}")
    return frozenset(cleaned)
