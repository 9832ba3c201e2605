"""Providers or models side by side, in rows grouped by section in the order procurement
reads them; a fixed number of queries for any two to four subjects.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Prefetch, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404
from django.urls import reverse

from assessments.models import Assessment, AssessmentVerdict, Criterion, Rating, RatingValue
from catalog.models import AIModel, AIModelWeights, Claim, ClaimKeyGroup, Price, Provider, Ternary
from catalog.selectors.search import EU_RESIDENCY_KEY


def _published(provider_ref: str) -> QuerySet[Assessment]:
    # order_by(): the model's default ordering would join providers for nothing.
    return Assessment.objects.filter(
        provider=OuterRef(provider_ref), status=Assessment.Status.PUBLISHED
    ).order_by()


def _verdict_annotation(provider_ref: str) -> Coalesce:
    return Coalesce(
        Subquery(_published(provider_ref).values("verdict")[:1]),
        Value(AssessmentVerdict.UNRATED),
    )


def _oldest_claim_annotation(provider_ref: str) -> Subquery:
    """The check date of the provider's least recently checked current claim."""
    return Subquery(
        Claim.objects.filter(provider=OuterRef(provider_ref), status=Claim.Status.CURRENT)
        .order_by("checked_at")
        .values("checked_at")[:1]
    )


def _eu_residency_annotation(provider_ref: str) -> Exists:
    return Exists(
        Claim.objects.filter(
            provider=OuterRef(provider_ref),
            key__key=EU_RESIDENCY_KEY,
            value_flag=Claim.Flag.YES,
            status=Claim.Status.CURRENT,
        )
    )


def providers_annotated() -> QuerySet[Provider]:
    """Providers with ``verdict_now``, ``assessed_on``, ``oldest_check`` and ``eu_residency``."""
    return Provider.objects.annotate(
        verdict_now=_verdict_annotation("pk"),
        assessed_on=Subquery(_published("pk").values("assessed_on")[:1]),
        oldest_check=_oldest_claim_annotation("pk"),
        eu_residency=_eu_residency_annotation("pk"),
    )


def models_annotated() -> QuerySet[AIModel]:
    return AIModel.objects.select_related("provider", "licence").annotate(
        provider_verdict=_verdict_annotation("provider_id"),
        provider_oldest_check=_oldest_claim_annotation("provider_id"),
        provider_eu_residency=_eu_residency_annotation("provider_id"),
    )


def _latest_prices() -> Prefetch:
    return Prefetch(
        "prices", queryset=Price.objects.select_related("source").order_by("-as_of", "tier", "id")
    )


@dataclass
class ClaimValue:
    """One claim's value in a cell: what it says, linked to the claim and its source."""

    text: str  # the value with its scope and condition
    claim: Claim

    @property
    def status_label(self) -> str:
        """The claim's status when it is not current (disputed, needs review), else ""."""
        if self.claim.status == Claim.Status.CURRENT:
            return ""
        return self.claim.get_status_display()


@dataclass
class Cell:
    text: str
    values: list[ClaimValue] = field(default_factory=list)  # when the cell shows claims
    link: str = ""  # where the evidence is, when it is not a claim
    tone: str = ""  # css hint: good / warn / bad / unknown


@dataclass
class CompareRow:
    label: str
    cells: list[Cell]
    group: str = ""

    @property
    def differs(self) -> bool:
        return len({cell.text for cell in self.cells}) > 1


def _claims_by_key(claims: list[Claim]) -> dict[str, list[Claim]]:
    by_key: dict[str, list[Claim]] = defaultdict(list)
    for claim in claims:
        by_key[claim.key.key].append(claim)
    return by_key


def _claims_in_force() -> QuerySet[Claim]:
    """The claims a compare cell shows: those in force, as on the provider page, so a
    disputed or doubted fact is shown with each of its values, marked, never dropped."""
    return Claim.objects.exclude(status=Claim.Status.RETIRED).select_related("key", "source")


def _claims_cell(claims: list[Claim]) -> Cell:
    """Every claim's value, each with its evidence; a cell holding a disputed or
    awaiting-review claim is toned unknown, since no one value of it is established."""
    if not claims:
        return Cell(text="Not recorded", tone="unknown")
    values = []
    for claim in claims:
        text = claim.display_value
        scope = ", ".join(
            s
            for s in (
                claim.get_scope_surface_display() if claim.scope_surface != "any" else "",
                claim.scope_plan,
                claim.scope_region,
            )
            if s
        )
        if scope:
            text = f"{text} ({scope})"
        if claim.condition:
            text = f"{text} — {claim.condition}"
        values.append(ClaimValue(text=text, claim=claim))
    if any(value.status_label for value in values):
        tone = "unknown"
    else:
        tone = {"yes": "good", "partial": "warn", "no": "bad", "unknown": "unknown"}.get(
            claims[0].value_flag, ""
        )
    # The text compares cells (``CompareRow.differs``): a status is part of what a cell says.
    text = "; ".join(
        f"{value.text} [{value.status_label.lower()}]" if value.status_label else value.text
        for value in values
    )
    return Cell(text=text, values=values, tone=tone)


_RATING_TONE = {
    RatingValue.SUPPORTED: "good",
    RatingValue.PARTIAL: "warn",
    RatingValue.NOT_SUPPORTED: "bad",
    RatingValue.UNKNOWN: "unknown",
}


def compare_providers(*, slugs: list[str]) -> tuple[list[Provider], list[CompareRow]]:
    """Providers side by side; a fixed number of queries for any two to four providers."""
    found = {
        p.slug: p
        for p in providers_annotated()
        .filter(slug__in=slugs)
        .prefetch_related(
            Prefetch("claims", queryset=_claims_in_force(), to_attr="claims_in_force"),
            Prefetch(
                "models",
                queryset=AIModel.objects.select_related("licence").prefetch_related(
                    _latest_prices()
                ),
                to_attr="model_list",
            ),
            Prefetch(
                "assessments",
                queryset=Assessment.objects.filter(
                    status=Assessment.Status.PUBLISHED
                ).prefetch_related(Prefetch("ratings", queryset=Rating.objects.all())),
                to_attr="published",
            ),
        )
    }
    missing = [s for s in slugs if s not in found]
    if missing:
        raise Http404(f"No provider is catalogued as “{missing[0]}”.")
    providers = [found[s] for s in slugs]
    criteria = list(Criterion.objects.filter(active=True))
    rows: list[CompareRow] = []

    def add(label: str, cells: list[Cell], group: str) -> None:
        rows.append(CompareRow(label=label, cells=cells, group=group))

    add(
        "Origin (headquarters)",
        [
            Cell(
                text=p.headquarters_country or "Not recorded",
                link=_provider_url(p, "basics"),
            )
            for p in providers
        ],
        "Basics",
    )
    add("Kind", [Cell(text=p.get_kind_display()) for p in providers], "Basics")
    open_cells = []
    for p in providers:
        open_models = [m for m in p.model_list if m.weights == AIModelWeights.OPEN]
        open_cells.append(
            Cell(
                text=f"{len(open_models)} of {len(p.model_list)} models"
                if p.model_list
                else "No models catalogued",
                tone="good" if open_models else "",
                link=_provider_url(p, "models"),
            )
        )
    add("Open-weight models", open_cells, ACCESS)
    commercial = []
    for p in providers:
        yes = sorted(
            {
                m.licence.name
                for m in p.model_list
                if m.licence and m.licence.commercial_use == "yes"
            }
        )
        commercial.append(
            Cell(
                text=", ".join(yes) if yes else "No licence allows it outright",
                tone="good" if yes else "warn",
                link=_provider_url(p, "models"),
            )
        )
    add("Licences allowing commercial use", commercial, "Rights")
    price_cells = []
    for p in providers:
        prices = [m.prices.all()[0] for m in p.model_list if m.prices.all()]
        if prices:
            low = min(prices, key=lambda price: price.input_per_mtok)
            price_cells.append(
                Cell(
                    text=f"from {low.input_per_mtok.normalize():f} {low.currency} per million "
                    f"input tokens (as of {low.as_of:%Y-%m-%d})",
                    link=low.source.url,
                )
            )
        else:
            price_cells.append(Cell(text="Not recorded", tone="unknown"))
    add("Price", price_cells, "Commercial")

    by_provider = [_claims_by_key(p.claims_in_force) for p in providers]
    keys: dict[str, Any] = {}
    for claims in by_provider:
        for key, items in claims.items():
            keys.setdefault(key, items[0].key)
    ordered = sorted(keys.values(), key=lambda k: (_GROUP_ORDER.get(k.group, 9), k.label))
    for key in ordered:
        add(
            key.label,
            [_claims_cell(claims.get(key.key, [])) for claims in by_provider],
            _section_for(key),
        )

    for p in providers:
        p.assessment = p.published[0] if p.published else None
    add(
        "GDPR verdict",
        [
            Cell(
                text=p.assessment.get_verdict_display() if p.assessment else "Not yet rated",
                link=_provider_url(p, "gdpr"),
                tone={"recommended": "good", "conditional": "warn", "not_recommended": "bad"}.get(
                    p.verdict_now, "unknown"
                ),
            )
            for p in providers
        ],
        "GDPR",
    )
    add(
        "Server locations",
        [
            Cell(
                text=(p.assessment.server_locations if p.assessment else "") or "Not recorded",
                link=_provider_url(p, "gdpr") if p.assessment else "",
            )
            for p in providers
        ],
        ACCESS,
    )
    for criterion in criteria:
        cells = []
        for p in providers:
            rating = None
            if p.assessment:
                rating = next(
                    (r for r in p.assessment.ratings.all() if r.criterion_id == criterion.pk),
                    None,
                )
            value = rating.value if rating else RatingValue.UNKNOWN
            cells.append(
                Cell(
                    text=RatingValue(value).label,
                    link=_provider_url(p, f"gdpr-{criterion.slug}"),
                    tone=_RATING_TONE[value],
                )
            )
        add(criterion.name, cells, "GDPR")
    return providers, _in_sections(rows)


def _provider_url(provider: Provider, anchor: str) -> str:
    return reverse("catalog:provider", args=[provider.slug]) + f"#{anchor}"


ACCESS = "Access and data hosting"
# Procurement reads top-down: who, how it is reached and where data goes, then rights.
SECTIONS = (
    "Basics",
    ACCESS,
    "Rights",
    "Constraints",
    "Data protection",
    "Commercial",
    "GDPR",
    "Capabilities",
)
_SECTION_BY_GROUP = {
    ClaimKeyGroup.RIGHT: "Rights",
    ClaimKeyGroup.CONSTRAINT: "Constraints",
    ClaimKeyGroup.DATA_PROTECTION: "Data protection",
    ClaimKeyGroup.COMMERCIAL: "Commercial",
    ClaimKeyGroup.CAPABILITY: "Capabilities",
}
_ACCESS_KEYS = {
    "access_model",
    "api_available",
    "open_weights_available",
    "self_hosting_supported",
    "data_hosting",
    "eu_data_residency",
}


def _section_for(key: Any) -> str:
    if key.key in _ACCESS_KEYS:
        return ACCESS
    return _SECTION_BY_GROUP.get(key.group, "Other claims")


def _in_sections(rows: list[CompareRow]) -> list[CompareRow]:
    """Rows grouped by section in reading order; the order within a section is kept."""
    rank = {name: i for i, name in enumerate(SECTIONS)}
    return sorted(rows, key=lambda row: rank.get(row.group, len(SECTIONS)))


_GROUP_ORDER = {
    ClaimKeyGroup.RIGHT: 0,
    ClaimKeyGroup.CONSTRAINT: 1,
    ClaimKeyGroup.DATA_PROTECTION: 2,
    ClaimKeyGroup.COMMERCIAL: 3,
    ClaimKeyGroup.CAPABILITY: 4,
}

_TERNARY_TONE = {"yes": "good", "conditional": "warn", "no": "bad", "unknown": "unknown"}


def compare_models(*, slugs: list[str]) -> tuple[list[AIModel], list[CompareRow]]:
    found = {
        m.slug: m
        for m in models_annotated()
        .filter(slug__in=slugs)
        .prefetch_related(
            "modalities",
            _latest_prices(),
            Prefetch("claims", queryset=_claims_in_force(), to_attr="claims_in_force"),
        )
    }
    missing = [s for s in slugs if s not in found]
    if missing:
        raise Http404(f"No model is catalogued as “{missing[0]}”.")
    models = [found[s] for s in slugs]
    rows: list[CompareRow] = []

    def add(label: str, cells: list[Cell], group: str) -> None:
        rows.append(CompareRow(label=label, cells=cells, group=group))

    add("Provider", [Cell(text=m.provider.name) for m in models], "Basics")
    add(
        "Origin (provider headquarters)",
        [Cell(text=m.provider.headquarters_country or "Not recorded") for m in models],
        "Basics",
    )
    add("Weights", [Cell(text=m.get_weights_display()) for m in models], "Basics")
    add(
        "Licence",
        [
            Cell(
                text=m.licence.name if m.licence else "Not recorded",
                link=m.licence.url if m.licence else "",
                tone="bad" if m.licence and not m.licence.production_use else "",
            )
            for m in models
        ],
        "Rights",
    )
    for field_name, label in (
        ("commercial_use", "Commercial use"),
        ("self_hosting", "Self-hosting"),
        ("fine_tuning", "Fine-tuning"),
        ("weight_redistribution", "Redistribution of weights"),
    ):
        cells = []
        for m in models:
            value = getattr(m.licence, field_name) if m.licence else Ternary.UNKNOWN
            cells.append(
                Cell(
                    text=Ternary(value).label,
                    link=m.licence.url if m.licence else "",
                    tone=_TERNARY_TONE[value],
                )
            )
        add(f"{label} (licence)", cells, "Rights")
    add(
        "Context window",
        [
            Cell(text=f"{m.context_window:,} tokens" if m.context_window else "Not recorded")
            for m in models
        ],
        "Capabilities",
    )
    add(
        "Modalities",
        [
            Cell(text=", ".join(x.name for x in m.modalities.all()) or "Not recorded")
            for m in models
        ],
        "Capabilities",
    )
    price_cells = []
    for m in models:
        prices = m.prices.all()
        if prices:
            p = prices[0]
            out = f" / {p.output_per_mtok.normalize():f} output" if p.output_per_mtok else ""
            price_cells.append(
                Cell(
                    text=f"{p.input_per_mtok.normalize():f} input{out} {p.currency} per million "
                    f"tokens (as of {p.as_of:%Y-%m-%d})",
                    link=p.source.url if p.source_id else "",
                )
            )
        else:
            price_cells.append(Cell(text="Not recorded", tone="unknown"))
    add("Price", price_cells, "Commercial")
    add(
        "Provider's GDPR verdict",
        [Cell(text=AssessmentVerdict(m.provider_verdict).label) for m in models],
        "GDPR",
    )
    by_model = [_claims_by_key(m.claims_in_force) for m in models]
    keys: dict[str, Any] = {}
    for claims in by_model:
        for key, items in claims.items():
            keys.setdefault(key, items[0].key)
    for key in sorted(keys.values(), key=lambda k: (_GROUP_ORDER.get(k.group, 9), k.label)):
        add(
            key.label,
            [_claims_cell(claims.get(key.key, [])) for claims in by_model],
            _section_for(key),
        )
    return models, _in_sections(rows)


def compare_candidates() -> tuple[list[Provider], list[AIModel]]:
    """Names and slugs for the compare pickers; two queries."""
    return (
        list(Provider.objects.only("slug", "name")),
        list(AIModel.objects.select_related("provider").only("slug", "name", "provider__name")),
    )
