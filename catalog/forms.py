"""Parsing of what the officer asks for in a URL: search filters and finder requirements.

Bad values never raise: each one is dropped and described in a note that the
page shows, so a shared link with a typo still opens on the rest of its filters.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.http import QueryDict

from assessments.models import AssessmentVerdict
from catalog import freshness
from catalog.models import AIModelWeights, LicenceKind, Modality, ProviderKind, Ternary
from catalog.requirements.inputs import (
    FLAG,
    INPUTS,
    MODALITIES,
    PRICE,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    Input,
)

NO_LICENCE = "none"
UNKNOWN_FRESHNESS = freshness.UNKNOWN


@dataclass(frozen=True)
class Facet:
    """One facet: its URL parameter, heading, the values it accepts and what it counts."""

    param: str
    label: str
    choices: tuple[tuple[str, str], ...]
    counts: str  # "providers" or "models": which list the facet's counts describe

    @property
    def values(self) -> frozenset[str]:
        return frozenset(value for value, _ in self.choices)

    def label_for(self, value: str) -> str:
        return dict(self.choices).get(value, value)


PROVIDER_FACETS = (
    Facet("kind", "Provider kind", tuple(ProviderKind.choices), "providers"),
    Facet(
        "verdict",
        "GDPR verdict",
        tuple(AssessmentVerdict.choices),
        "providers",
    ),
    Facet(
        "eu",
        "EU data residency",
        (("yes", "EU data residency offered"),),
        "providers",
    ),
    Facet(
        "freshness",
        "Freshness of the provider's claims",
        (
            (freshness.CURRENT, "All current"),
            (freshness.AGEING, "Oldest is ageing"),
            (freshness.STALE, "Some are stale"),
            (UNKNOWN_FRESHNESS, "No claims recorded"),
        ),
        "providers",
    ),
)

MODEL_FACETS = (
    Facet("weights", "Weights", tuple(AIModelWeights.choices), "models"),
    Facet(
        "licence",
        "Licence kind",
        (*LicenceKind.choices, (NO_LICENCE, "No licence recorded")),
        "models",
    ),
    Facet(
        "commercial",
        "Commercial use under the licence",
        (
            (Ternary.YES, "Allowed"),
            (Ternary.CONDITIONAL, "Under conditions"),
            (Ternary.NO, "Not allowed"),
            (Ternary.UNKNOWN, "Unknown or no licence"),
        ),
        "models",
    ),
    Facet("selfhost", "Self-hosting", (("yes", "Weights you may run yourself"),), "models"),
)

FACETS = PROVIDER_FACETS + MODEL_FACETS
FACETS_BY_PARAM = {facet.param: facet for facet in FACETS}
MAX_QUERY_LENGTH = 200


@dataclass(frozen=True)
class SearchFilters:
    """What the home page searches for: free text and the selected values of each facet."""

    q: str = ""
    selected: dict[str, frozenset[str]] = field(default_factory=dict)

    def values(self, param: str) -> frozenset[str]:
        return self.selected.get(param, frozenset())

    @property
    def active(self) -> bool:
        return bool(self.q) or any(self.selected.values())


def search_filters_parse(*, params: QueryDict) -> tuple[SearchFilters, list[str]]:
    """Return the usable filters in ``params`` and one note per value that was ignored."""
    notes: list[str] = []
    q = " ".join(params.get("q", "").split())
    if len(q) > MAX_QUERY_LENGTH:
        notes.append(
            f"The search text was cut to its first {MAX_QUERY_LENGTH} characters (it had {len(q)})."
        )
        q = q[:MAX_QUERY_LENGTH]
    selected: dict[str, frozenset[str]] = {}
    for facet in FACETS:
        good = []
        for raw in params.getlist(facet.param):
            value = raw.strip()
            if not value:
                continue
            if value in facet.values:
                good.append(value)
            else:
                accepted = ", ".join(sorted(facet.values))
                notes.append(
                    f"Ignored “{value[:60]}” for {facet.label.lower()}: "
                    f"it is not one of {accepted}."
                )
        if good:
            selected[facet.param] = frozenset(good)
    known = {"q", "page", "mpage", *FACETS_BY_PARAM}
    for name in params:
        if name not in known:
            notes.append(f"Ignored the unknown filter “{name[:40]}”.")
    return SearchFilters(q=q, selected=selected), notes


def _finder_field(item: Input) -> forms.Field:
    """The finder's field for one declared requirement that is not a radio option."""
    if item.kind == FLAG:
        return forms.BooleanField(required=False, label=item.question)
    if item.kind == PRICE:
        return forms.DecimalField(
            required=False,
            min_value=0,
            max_digits=PRICE_MAX_DIGITS,
            decimal_places=PRICE_DECIMAL_PLACES,
            label=item.question,
        )
    # MODALITIES
    return forms.ModelMultipleChoiceField(
        required=False,
        queryset=Modality.objects.all(),
        to_field_name="slug",
        widget=forms.CheckboxSelectMultiple,
        label=item.question,
    )


class FinderForm(forms.Form):
    """The officer's requirements: a field per declared requirement (``INPUTS``), except that
    the flags sharing a ``choice_of`` are the options of one radio field of that name."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for item in INPUTS:
            if not item.choice_of:
                self.fields[item.name] = _finder_field(item)
            elif item.choice_of not in self.fields:
                options = [(o.name, o.question) for o in INPUTS if o.choice_of == item.choice_of]
                self.fields[item.choice_of] = forms.ChoiceField(
                    required=False,
                    label=item.fieldset,
                    choices=[("", "No requirement"), *options],
                    widget=forms.RadioSelect,
                )

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
        """The fields by the legend of the fieldset they are asked in, in declaration order."""
        legends: dict[str, str] = {}
        for item in INPUTS:
            legends.setdefault(item.choice_of or item.name, item.fieldset)
        grouped: dict[str, list[forms.BoundField]] = {}
        for bound in self:
            grouped.setdefault(legends[bound.name], []).append(bound)
        return list(grouped.items())

    def requirements_mapping(self) -> dict:
        """The cleaned answers as the mapping ``Requirements.from_mapping`` reads."""
        data = self.cleaned_data
        mapping = {}
        for item in INPUTS:
            if item.choice_of:
                mapping[item.name] = data.get(item.choice_of) == item.name
            elif item.kind == MODALITIES:
                mapping[item.name] = sorted(m.slug for m in data.get(item.name) or [])
            else:
                mapping[item.name] = data.get(item.name)
        return mapping

    def has_requirement(self) -> bool:
        return any(
            value not in (False, None, [], "") for value in self.requirements_mapping().values()
        )
