"""Search and facets: the providers and models the home page lists for a text and a set of
facet values, with a count for every facet value, and the licences and claims a search names.

A fixed number of queries whatever the number of rows: providers are few, so their facets are
decided in Python from ``provider_facts``; model facets are counted in one aggregate.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from assessments.models import Assessment, AssessmentVerdict
from catalog import freshness
from catalog.forms import FACETS, MODEL_FACETS, NO_LICENCE, PROVIDER_FACETS, Facet, SearchFilters
from catalog.models import AIModel, AIModelWeights, Claim, ClaimKey, Licence, Provider, Ternary

PROVIDER_PARAMS = frozenset(facet.param for facet in PROVIDER_FACETS)

# The provider claim that says a managed service keeps data in the EU.
EU_RESIDENCY_KEY = "eu_data_residency"
SEARCH_RESULTS_LIMIT = 20


# --- facets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProviderFacts:
    """What the provider facets look at, for one provider."""

    kind: str
    verdict: str
    assessed_on: dt.date | None
    oldest_check: dt.date | None
    eu_residency: bool
    level: str  # freshness of the oldest check, decided once

    def matches(self, param: str, values: frozenset[str]) -> bool:
        if param == "kind":
            return self.kind in values
        if param == "verdict":
            return self.verdict in values
        if param == "eu":
            return self.eu_residency
        if param == "freshness":
            return self.level in values
        raise ValueError(f"not a provider facet: {param}")


def provider_facts() -> dict[int, ProviderFacts]:
    """Kind, GDPR verdict, oldest current claim and EU residency of every provider; 3 queries.

    Providers are few (hundreds) next to claims and models, so their facets are
    decided here once per request instead of by a correlated subquery per row.
    """
    published = {
        pid: (verdict, assessed_on)
        for pid, verdict, assessed_on in Assessment.objects.filter(
            status=Assessment.Status.PUBLISHED
        )
        .order_by()
        .values_list("provider_id", "verdict", "assessed_on")
    }
    # One probe per provider into claim_current_provider_checked_idx (current claims by
    # provider, checked_at): the first in check order is the oldest. Grouping every provider
    # claim instead read and sorted half the claims table on each cold home page.
    oldest_check = (
        Claim.objects.filter(provider=OuterRef("pk"), status=Claim.Status.CURRENT)
        .order_by("checked_at")
        .values("checked_at")[:1]
    )
    eu = set(
        Claim.objects.filter(
            key__key=EU_RESIDENCY_KEY,
            value_flag=Claim.Flag.YES,
            status=Claim.Status.CURRENT,
            provider__isnull=False,
        )
        .order_by()
        .values_list("provider_id", flat=True)
    )
    today = timezone.localdate()
    return {
        pid: ProviderFacts(
            kind=kind,
            verdict=published.get(pid, (AssessmentVerdict.UNRATED, None))[0],
            assessed_on=published.get(pid, (None, None))[1],
            oldest_check=oldest,
            eu_residency=pid in eu,
            level=freshness.level(oldest, today),
        )
        for pid, kind, oldest in Provider.objects.order_by()
        .annotate(oldest=Subquery(oldest_check))
        .values_list("pk", "kind", "oldest")
    }


def _passes(facts: ProviderFacts, filters: SearchFilters, *, skip: str = "") -> bool:
    return all(
        facts.matches(param, values)
        for param, values in filters.selected.items()
        if values and param != skip and param in PROVIDER_PARAMS
    )


def _model_facet_q(param: str, values: frozenset[str]) -> Q:
    if param == "weights":
        return Q(weights__in=values)
    if param == "licence":
        q = Q(licence__kind__in=values - {NO_LICENCE})
        if NO_LICENCE in values:
            q |= Q(licence__isnull=True)
        return q
    if param == "commercial":
        q = Q(licence__commercial_use__in=values)
        if Ternary.UNKNOWN in values:
            q |= Q(licence__isnull=True)
        return q
    if param == "selfhost":
        return Q(
            weights=AIModelWeights.OPEN,
            licence__self_hosting__in=[Ternary.YES, Ternary.CONDITIONAL],
        )
    raise ValueError(f"not a model facet: {param}")


def _model_q(filters: SearchFilters, *, skip: str = "") -> Q:
    q = Q()
    for facet in MODEL_FACETS:
        values = filters.values(facet.param)
        if values and facet.param != skip:
            q &= _model_facet_q(facet.param, values)
    return q


def _text_q_providers(q: str) -> Q:
    return Q(name__icontains=q) | Q(slug__icontains=q) | Q(summary__icontains=q)


def _text_q_models(q: str) -> Q:
    return (
        Q(name__icontains=q)
        | Q(slug__icontains=q)
        | Q(family__icontains=q)
        | Q(provider__name__icontains=q)
    )


def _id_in(field_name: str, chosen: set[int], facts: dict[int, ProviderFacts]) -> Q:
    """``field IN chosen``, or ``NOT IN`` the rest when that list is shorter (fewer parameters)."""
    rest = set(facts) - chosen
    if len(rest) < len(chosen):
        return ~Q(**{f"{field_name}__in": sorted(rest)})
    return Q(**{f"{field_name}__in": sorted(chosen)})


@dataclass
class FacetCount:
    value: str
    label: str
    count: int
    selected: bool
    url: str = ""


@dataclass
class FacetResult:
    facet: Facet
    counts: list[FacetCount] = field(default_factory=list)


@dataclass
class SearchResult:
    providers: QuerySet[Provider]  # page it, then call ``decorate`` on the page
    models: QuerySet[AIModel]
    facets: list[FacetResult]
    facts: dict[int, ProviderFacts]

    def decorate(self, providers: list[Provider]) -> list[Provider]:
        """Put the listing's facts (verdict, assessed_on, oldest_check) on each provider."""
        for provider in providers:
            facts = self.facts[provider.pk]
            provider.verdict_now = facts.verdict
            provider.assessed_on = facts.assessed_on
            provider.oldest_check = facts.oldest_check
        return providers


# The columns the home page's provider and model tables print.
LISTED_PROVIDER_FIELDS = ("slug", "name", "status", "kind", "headquarters_country")
LISTED_MODEL_FIELDS = (
    "slug",
    "name",
    "weights",
    "context_window",
    "provider__slug",
    "provider__name",
    "licence__slug",
    "licence__name",
    "licence__kind",
    "licence__commercial_use",
)


def catalogue_search(
    *, filters: SearchFilters, facts: dict[int, ProviderFacts] | None = None
) -> SearchResult:
    """Providers and models matching the text and facets, with a count for every facet value.

    Counts apply every *other* selected facet (values within one facet are
    alternatives); provider facets count providers, model facets count models.
    Provider facets filter models through their provider; model facets keep the
    providers that have at least one matching model. A fixed number of queries:
    four for the provider facts, one or two for text and model matches, one
    aggregate for the model facet counts; the two lists are lazy querysets.
    """
    if facts is None:
        facts = provider_facts()
    if filters.q:
        text_ids = set(
            Provider.objects.filter(_text_q_providers(filters.q)).values_list("pk", flat=True)
        )
    else:
        text_ids = set(facts)
    model_q = _model_q(filters)
    with_models = (
        set(AIModel.objects.filter(model_q).order_by().values_list("provider_id", flat=True))
        if model_q
        else None
    )

    def provider_ok(pid: int, *, skip: str = "") -> bool:
        return (
            pid in text_ids
            and (with_models is None or pid in with_models)
            and _passes(facts[pid], filters, skip=skip)
        )

    # The listings read only what their tables show: providers and licences carry long
    # texts (analysis, summaries, terms) that a page of fifty rows would fetch for nothing.
    # A counting subquery, not a join and GROUP BY: it runs for the page's rows only, and
    # the paginator's count can drop it and count plain providers.
    model_count = (
        AIModel.objects.filter(provider=OuterRef("pk"))
        .order_by()
        .values("provider")
        .annotate(n=Count("pk"))
        .values("n")
    )
    providers = (
        Provider.objects.only(*LISTED_PROVIDER_FIELDS)
        .annotate(model_count=Coalesce(Subquery(model_count), 0))
        .order_by("name", "pk")
    )
    provider_filtered = any(filters.values(f.param) for f in PROVIDER_FACETS)
    if provider_filtered or with_models is not None or filters.q:
        providers = providers.filter(
            _id_in("pk", {pid for pid in facts if provider_ok(pid)}, facts)
        )
    models = AIModel.objects.select_related("provider", "licence").only(*LISTED_MODEL_FIELDS)
    if filters.q:
        models = models.filter(_text_q_models(filters.q))
    if provider_filtered:
        owners = {pid for pid, f in facts.items() if _passes(f, filters)}
        models = models.filter(_id_in("provider_id", owners, facts))

    results: list[FacetResult] = []
    model_aggs: dict[str, Count] = {}
    for facet in FACETS:
        chosen = filters.values(facet.param)
        result = FacetResult(facet=facet)
        # The providers every *other* selection keeps, decided once per facet, not per value.
        eligible = (
            [facts[pid] for pid in facts if provider_ok(pid, skip=facet.param)]
            if facet.counts == "providers"
            else []
        )
        for position, (value, label) in enumerate(facet.choices):
            count = 0
            if facet.counts == "providers":
                single = frozenset({value})
                count = sum(1 for f in eligible if f.matches(facet.param, single))
            else:
                model_aggs[f"{facet.param}_{position}"] = Count(
                    "pk",
                    filter=_model_q(filters, skip=facet.param)
                    & _model_facet_q(facet.param, frozenset({value})),
                )
            result.counts.append(
                FacetCount(value=value, label=label, count=count, selected=value in chosen)
            )
        results.append(result)
    totals = models.order_by().aggregate(**model_aggs)
    for result in results:
        if result.facet.counts == "models":
            for position, count in enumerate(result.counts):
                count.count = totals[f"{result.facet.param}_{position}"] or 0
    return SearchResult(
        providers=providers,
        models=models.filter(model_q).order_by("provider__name", "name", "pk"),
        facets=results,
        facts=facts,
    )


def search_licences(*, q: str) -> list[Licence]:
    if not q:
        return []
    return list(
        Licence.objects.filter(
            Q(name__icontains=q) | Q(spdx_id__icontains=q) | Q(slug__icontains=q)
        ).annotate(model_count=Count("models"))[:SEARCH_RESULTS_LIMIT]
    )


def search_claims(*, q: str) -> list[Claim]:
    """Claims whose value, condition, key or evidence mentions ``q`` (first 20)."""
    if not q:
        return []
    keys = list(ClaimKey.objects.filter(label__icontains=q).values_list("pk", flat=True))
    return list(
        Claim.objects.filter(
            Q(value_text__icontains=q)
            | Q(condition__icontains=q)
            | Q(key_id__in=keys)
            | Q(evidence_quote__icontains=q)
        )
        .select_related("key", "source", "provider", "model", "model__provider")
        .order_by("-checked_at", "id")[:SEARCH_RESULTS_LIMIT]
    )
