"""Reads of the catalogue shaped for the HTML pages (no writes here).

Every selector runs a fixed number of queries whatever the number of rows it
returns: related rows come through ``select_related`` / ``Prefetch`` and
per-row figures through subquery annotations, so pages cannot grow an N+1.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.core.cache import cache
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, Greatest, RowNumber
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator

from assessments.models import (
    Assessment,
    AssessmentVerdict,
    Criterion,
    Rating,
    RatingEvidence,
    RatingValue,
)
from catalog import freshness
from catalog.change_stamp import tables_stamp
from catalog.forms import (
    FACETS,
    MODEL_FACETS,
    NO_LICENCE,
    PROVIDER_FACETS,
    Facet,
    SearchFilters,
)
from catalog.models import (
    FAQ,
    AIModel,
    AIModelWeights,
    Claim,
    ClaimKey,
    ClaimKeyGroup,
    Comparison,
    Licence,
    LicenceKind,
    Price,
    Provider,
    Source,
    Ternary,
    Verification,
)

PROVIDER_PARAMS = frozenset(facet.param for facet in PROVIDER_FACETS)

# The provider claim that says a managed service keeps data in the EU.
EU_RESIDENCY_KEY = "eu_data_residency"
SEARCH_RESULTS_LIMIT = 20


# --- shared annotations --------------------------------------------------------------------


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


def _provider_or_models_q(provider: Provider, model_ids: list[int], prefix: str = "") -> Q:
    # Model ids as literals, not a join: both sides of the OR can then use their index.
    return Q(**{f"{prefix}provider": provider}) | Q(**{f"{prefix}model_id__in": model_ids})


# --- catalogue-wide figures, cached --------------------------------------------------------

CACHE_SECONDS = 300


def _catalogue_stamp() -> str:
    """Today's date and a token that moves whenever a table the figures read changes (see
    ``tables_stamp``); where only saves move it, figures cached before a deletion live
    CACHE_SECONDS at most."""
    tables = tables_stamp(
        models=(Provider, AIModel, Claim, ClaimKey, Criterion, Assessment, Rating),
        fallback=(Claim, Rating, Assessment, Provider),
    )
    return f"{timezone.localdate().isoformat()}:{tables}"


def catalogue_figures() -> tuple[dict[int, ProviderFacts], FreshnessSummary, list]:
    """Provider facts, claim freshness and the rating spread for the whole catalogue.

    They aggregate every claim, so they are cached under ``_catalogue_stamp``: 1 query
    when cached (4 without the change-stamp triggers), 6 more when not.
    """
    key = f"atlas:figures:{_catalogue_stamp()}"
    figures = cache.get(key)
    if figures is None:
        figures = (provider_facts(), claim_freshness_summary(), rating_spread())
        cache.set(key, figures, CACHE_SECONDS)
    return figures


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


# --- charts ------------------------------------------------------------------------------


@dataclass
class FreshnessSummary:
    current: int = 0
    ageing: int = 0
    stale: int = 0

    @property
    def total(self) -> int:
        return self.current + self.ageing + self.stale

    def parts(self) -> list[tuple[str, str, int]]:
        return [
            (freshness.CURRENT, "Current", self.current),
            (freshness.AGEING, "Ageing", self.ageing),
            (freshness.STALE, "Stale", self.stale),
        ]


def claim_freshness_summary(
    *, provider: Provider | None = None, model_ids: list[int] | None = None
) -> FreshnessSummary:
    """How many current-status claims are current, ageing or stale; one query.

    For a provider, its own claims and those of ``model_ids`` (its models) count.
    """
    qs = Claim.objects.filter(status=Claim.Status.CURRENT)
    if provider is not None:
        qs = qs.filter(_provider_or_models_q(provider, model_ids or []))
    totals = qs.aggregate(
        **{
            level: Count("pk", filter=freshness.filter_q("checked_at", level))
            for level in freshness.LEVELS
        }
    )
    return FreshnessSummary(**{level: totals[level] or 0 for level in freshness.LEVELS})


@dataclass
class CriterionSpread:
    criterion: Criterion
    counts: dict[str, int]
    highlight: str = ""  # this provider's value, on a provider page

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def rating_spread(*, criteria: list[Criterion] | None = None) -> list[CriterionSpread]:
    """For each active criterion, how many published assessments rate it each way.

    Two queries, or one when the caller already holds the active criteria.
    """
    if criteria is None:
        criteria = list(Criterion.objects.filter(active=True))
    rows = (
        Rating.objects.filter(assessment__status=Assessment.Status.PUBLISHED)
        .values("criterion_id", "value")
        .annotate(n=Count("pk"))
        .order_by()
    )
    by_criterion: dict[int, Counter] = defaultdict(Counter)
    for row in rows:
        by_criterion[row["criterion_id"]][row["value"]] = row["n"]
    return [
        CriterionSpread(
            criterion=criterion,
            counts={value: by_criterion[criterion.pk][value] for value in RatingValue.values},
        )
        for criterion in criteria
    ]


# --- provider page -----------------------------------------------------------------------------


@dataclass
class RatingRow:
    criterion: Criterion
    rating: Rating | None

    @property
    def value(self) -> str:
        return self.rating.value if self.rating else RatingValue.UNKNOWN


class VerificationRow(TypedDict):
    checked_at: dt.datetime  # in the current time zone, as the page prints it
    outcome: str
    method: str
    note: str


class ClaimRow(TypedDict):
    """One row of the provider page's claims table, computed once so the template only prints.

    Dicts rather than objects: the template engine looks a name up in a dict first, so each
    of the table's few thousand lookups costs one step instead of a failed one and a retry.
    """

    pk: int
    group: str  # the claim key's group (``ClaimKeyGroup``), for pages that split the table
    url: str
    label: str
    status: str  # empty when the claim is current: only other states are badged
    status_label: str
    flag: str  # the yes / no / … value, shown as a mark; empty for numbers and text
    value: str
    condition: str
    scope: str  # surface, plan and region as the table prints them; empty when unscoped
    source_url: str
    source_title: str
    source_meta: str
    quote: str  # the evidence quote cut to its first 40 words
    checked_at: dt.date
    checks: list[VerificationRow]  # the newest VERIFICATIONS_SHOWN checks
    check_count: int  # all checks of the claim


# Crawlers add a verification each time they re-read a source, so a claim's history grows
# daily; the page shows the newest few and links to the claim page for the rest.
VERIFICATIONS_SHOWN = 5


@dataclass
class ProviderPage:
    provider: Provider
    claim_groups: list[tuple[str, list[ClaimRow]]]
    assessment: Assessment | None
    rating_rows: list[RatingRow]
    models: list[AIModel]
    faqs: list[FAQ]
    sources: list[Source]
    comparisons: list[Comparison]
    freshness: FreshnessSummary
    spread: list[CriterionSpread]


def _claims_with_history() -> QuerySet[Claim]:
    return (
        Claim.objects.select_related("key", "source")
        .prefetch_related(
            Prefetch(
                "verifications",
                queryset=Verification.objects.order_by("-checked_at", "-id"),
            )
        )
        .exclude(status=Claim.Status.RETIRED)
    )


def _latest_prices() -> Prefetch:
    return Prefetch(
        "prices", queryset=Price.objects.select_related("source").order_by("-as_of", "tier", "id")
    )


_CLAIM_ROW_FIELDS = (
    "pk",
    "key__label",
    "key__group",
    "status",
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_surface",
    "scope_plan",
    "scope_region",
    "source__url",
    "source__title",
    "source__publisher",
    "source__doc_type",
    "evidence_quote",
    "checked_at",
)


def _latest_verifications(*, claim_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The newest VERIFICATIONS_SHOWN checks of each claim as values, newest first, each
    carrying ``total`` (all the claim's checks); 1 query."""
    newest = Window(
        RowNumber(), partition_by=[F("claim_id")], order_by=[F("checked_at").desc(), F("id").desc()]
    )
    rows = (
        Verification.objects.filter(claim_id__in=claim_ids)
        .annotate(position=newest, total=Window(Count("id"), partition_by=[F("claim_id")]))
        .filter(position__lte=VERIFICATIONS_SHOWN)
        .values("claim_id", "checked_at", "method", "outcome", "note", "total")
        .order_by("claim_id", "position")
    )
    by_claim: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for verification in rows:
        by_claim[verification["claim_id"]].append(verification)
    return by_claim


def _claim_rows(*, claims: QuerySet[Claim]) -> list[ClaimRow]:
    """The claims in force among ``claims`` as display rows, in the claims' order; 2 queries.

    Reads only the columns the table prints, as plain values: building 200 model instances
    with their key, source and checks cost more than the queries themselves. Each row carries
    the newest VERIFICATIONS_SHOWN checks and the count of all, so the query count and the
    page stay the same size however many checks crawlers add.
    """
    claims = list(claims.exclude(status=Claim.Status.RETIRED).values(*_CLAIM_ROW_FIELDS))
    checks = _latest_verifications(claim_ids=[c["pk"] for c in claims])
    flag_labels = dict(Claim._meta.get_field("value_flag").flatchoices)
    status_labels = dict(Claim.Status.choices)
    surface_labels = dict(Claim._meta.get_field("scope_surface").flatchoices)
    doc_type_labels = dict(Source._meta.get_field("doc_type").flatchoices)
    outcome_labels = {
        value: str(label) for value, label in Verification._meta.get_field("outcome").flatchoices
    }
    method_labels = {
        value: str(label).lower()
        for value, label in Verification._meta.get_field("method").flatchoices
    }
    claim_url = reverse("catalog:claim", args=[0])[:-2]  # ends in "0/"
    zone = timezone.get_current_timezone()
    rows: list[ClaimRow] = []
    for c in claims:
        if c["value_flag"]:
            value = str(flag_labels.get(c["value_flag"], c["value_flag"]))
        elif c["value_number"] is not None:
            value = f"{c['value_number'].normalize():f} {c['value_unit']}".strip()
        else:
            value = c["value_text"]
        surface = c["scope_surface"]
        scope = str(surface_labels.get(surface, surface)) if surface != "any" else ""
        if c["scope_plan"]:
            scope += f" · plan {c['scope_plan']}"
        if c["scope_region"]:
            scope += f" · {c['scope_region']}"
        status = c["status"] if c["status"] != Claim.Status.CURRENT else ""
        quote = c["evidence_quote"]
        history = checks.get(c["pk"], [])
        rows.append(
            ClaimRow(
                pk=c["pk"],
                group=c["key__group"],
                url=f"{claim_url}{c['pk']}/",
                label=c["key__label"],
                status=status,
                status_label=str(status_labels.get(status, status)) if status else "",
                flag=c["value_flag"],
                value=value,
                condition=c["condition"],
                scope=scope,
                source_url=c["source__url"],
                source_title=c["source__title"],
                source_meta=(
                    f"{c['source__publisher']} · "
                    f"{doc_type_labels.get(c['source__doc_type'], c['source__doc_type'])}"
                ),
                quote=Truncator(quote).words(40) if quote else "",
                checked_at=c["checked_at"],
                checks=[
                    VerificationRow(
                        checked_at=v["checked_at"].astimezone(zone),
                        outcome=outcome_labels.get(v["outcome"], v["outcome"]),
                        method=method_labels.get(v["method"], v["method"]),
                        note=v["note"],
                    )
                    for v in history
                ],
                check_count=history[0]["total"] if history else 0,
            )
        )
    return rows


def _newest_prices(*, model_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each model's newest price (the first of ``_latest_prices``' order) as values; 1 query.

    The models table prints one price per model: its history and sources stay on the
    model page.
    """
    newest = Window(
        RowNumber(),
        partition_by=[F("model_id")],
        order_by=[F("as_of").desc(), F("tier").asc(), F("id").asc()],
    )
    rows = (
        Price.objects.filter(model_id__in=model_ids)
        .annotate(position=newest)
        .filter(position=1)
        .values("model_id", "input_per_mtok", "output_per_mtok", "currency", "as_of", "tier")
        # Price's default ordering sorts by provider and model name: two joins for nothing.
        .order_by()
    )
    return {row["model_id"]: row for row in rows}


def provider_page(*, slug: str) -> ProviderPage:
    """Everything the provider page shows, in a fixed number of queries; 404 for a bad slug."""
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise Http404(f"No provider is catalogued as “{slug}”.")
    groups: dict[str, list[ClaimRow]] = defaultdict(list)
    oldest_check: dt.date | None = None
    for row in _claim_rows(claims=Claim.objects.filter(provider=provider)):
        groups[row["group"]].append(row)
        # What providers_annotated() computes in SQL, taken from the rows already read.
        if not row["status"] and row["checked_at"]:
            oldest_check = min(oldest_check or row["checked_at"], row["checked_at"])
    provider.oldest_check = oldest_check
    claim_groups = [
        (label, groups[value]) for value, label in ClaimKeyGroup.choices if groups.get(value)
    ]

    assessment = (
        Assessment.objects.filter(provider=provider, status=Assessment.Status.PUBLISHED)
        .prefetch_related(
            Prefetch(
                "ratings",
                queryset=Rating.objects.select_related("criterion").prefetch_related(
                    Prefetch(
                        "evidence",
                        queryset=RatingEvidence.objects.select_related("source"),
                    )
                ),
            ),
            Prefetch("sources__source"),
        )
        .first()
    )
    provider.verdict_now = assessment.verdict if assessment else AssessmentVerdict.UNRATED
    criteria = list(Criterion.objects.filter(active=True))
    ratings = {r.criterion_id: r for r in assessment.ratings.all()} if assessment else {}
    rating_rows = [RatingRow(criterion=c, rating=ratings.get(c.pk)) for c in criteria]
    # Inactive criteria that this assessment still rates are shown after the active ones.
    active_ids = {c.pk for c in criteria}
    rating_rows += [
        RatingRow(criterion=r.criterion, rating=r)
        for r in ratings.values()
        if r.criterion_id not in active_ids
    ]

    models = list(provider.models.select_related("licence", "successor"))
    model_ids = [m.pk for m in models]
    prices = _newest_prices(model_ids=model_ids)
    for model in models:
        model.latest_price = prices.get(model.pk)
    # Per source, the claims checked against it and the newest check; summed, the freshness
    # of the claims in force (what claim_freshness_summary counts), in the same query.
    in_force = Q(status=Claim.Status.CURRENT)
    usage = {
        row["source_id"]: row
        for row in Claim.objects.filter(_provider_or_models_q(provider, model_ids))
        .order_by()
        .values("source_id")
        .annotate(
            last_checked=Max("checked_at"),
            claim_count=Count("pk"),
            **{
                level: Count("pk", filter=in_force & freshness.filter_q("checked_at", level))
                for level in freshness.LEVELS
            },
        )
    }
    summary = FreshnessSummary(
        **{level: sum(row[level] for row in usage.values()) for level in freshness.LEVELS}
    )
    sources = list(
        Source.objects.filter(Q(provider=provider) | Q(pk__in=list(usage))).order_by(
            "doc_type", "title"
        )
    )
    for source in sources:
        source.last_checked = usage.get(source.pk, {}).get("last_checked")
        source.claim_count = usage.get(source.pk, {}).get("claim_count", 0)
    spread = rating_spread(criteria=criteria)
    for item in spread:
        row = ratings.get(item.criterion.pk)
        item.highlight = row.value if row else RatingValue.UNKNOWN
    return ProviderPage(
        provider=provider,
        claim_groups=claim_groups,
        assessment=assessment,
        rating_rows=rating_rows,
        models=models,
        faqs=list(provider.faqs.select_related("source")),
        sources=sources,
        comparisons=list(provider.comparisons.prefetch_related("providers")),
        freshness=summary,
        spread=spread,
    )


# --- model page ----------------------------------------------------------------------------


@dataclass
class ModelPage:
    model: AIModel
    capabilities: list[ClaimRow]
    other_claims: list[ClaimRow]
    prices: list[Price]
    predecessors: list[AIModel]


def model_page(*, slug: str) -> ModelPage:
    """Everything the model page shows, in a fixed number of queries; 404 for a bad slug.

    The claims come as prepared rows with their newest checks only (``_claim_rows``), as on
    the provider page: the page's size and queries do not grow as crawlers re-check them.
    """
    model = (
        AIModel.objects.select_related("provider", "licence", "successor", "successor__provider")
        .prefetch_related("modalities")
        .filter(slug=slug)
        .first()
    )
    if model is None:
        raise Http404(f"No model is catalogued as “{slug}”.")
    claims = _claim_rows(claims=Claim.objects.filter(model=model))
    return ModelPage(
        model=model,
        capabilities=[c for c in claims if c["group"] == ClaimKeyGroup.CAPABILITY],
        other_claims=[c for c in claims if c["group"] != ClaimKeyGroup.CAPABILITY],
        prices=list(model.prices.select_related("source").order_by("-as_of", "tier")),
        predecessors=list(model.predecessors.all()),
    )


# --- licences --------------------------------------------------------------------------------

# Research-only licences come last and apart, so nobody reads them as usable in production.
LICENCE_ORDER = [
    LicenceKind.PERMISSIVE,
    LicenceKind.OPEN_WEIGHTS_RESTRICTED,
    LicenceKind.PROPRIETARY,
    LicenceKind.RESEARCH_ONLY,
]


def licences_by_kind() -> list[tuple[str, str, list[Licence]]]:
    """Licences grouped by kind (kind, label, licences), each with its model count; one query."""
    licences = list(Licence.objects.annotate(model_count=Count("models")))
    grouped: dict[str, list[Licence]] = defaultdict(list)
    for licence in licences:
        grouped[licence.kind].append(licence)
    return [
        (kind.value, kind.label, grouped[kind.value]) for kind in LICENCE_ORDER if grouped[kind]
    ]


def licence_page(*, slug: str) -> tuple[Licence, list[AIModel]]:
    licence = Licence.objects.filter(slug=slug).first()
    if licence is None:
        raise Http404(f"No licence is catalogued as “{slug}”.")
    models = list(
        licence.models.select_related("provider", "successor").order_by("provider__name", "name")
    )
    return licence, models


# --- compare ---------------------------------------------------------------------------------


@dataclass
class Cell:
    text: str
    claims: list[Claim] = field(default_factory=list)
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


def _claims_cell(claims: list[Claim]) -> Cell:
    if not claims:
        return Cell(text="Not recorded", tone="unknown")
    parts = []
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
        parts.append(text)
    tone = {"yes": "good", "partial": "warn", "no": "bad", "unknown": "unknown"}.get(
        claims[0].value_flag, ""
    )
    return Cell(text="; ".join(parts), claims=claims, tone=tone)


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
            Prefetch(
                "claims",
                queryset=Claim.objects.filter(status=Claim.Status.CURRENT).select_related(
                    "key", "source"
                ),
                to_attr="current_claims",
            ),
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

    by_provider = [_claims_by_key(p.current_claims) for p in providers]
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
            Prefetch(
                "claims",
                queryset=Claim.objects.filter(status=Claim.Status.CURRENT).select_related(
                    "key", "source"
                ),
                to_attr="current_claims",
            ),
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
    by_model = [_claims_by_key(m.current_claims) for m in models]
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


# --- what changed --------------------------------------------------------------------------


@dataclass
class Change:
    when: dt.datetime
    kind: str  # "claim", "rating" or "assessment"
    action: str  # created / changed / deleted
    provider: Provider | None
    title: str
    summary: str
    record: Any
    diffs: list[tuple[str, str, str]] = field(default_factory=list)
    link: str = ""

    @property
    def uid(self) -> str:
        return f"change-{self.kind}-{self.record.history_id}"


_ACTIONS = {"+": "added", "~": "changed", "-": "removed"}
CHANGES_LIMIT = 50


def _diffs(record: Any, previous: Any, fields: list[str]) -> list[tuple[str, str, str]]:
    if previous is None:
        return []
    out = []
    for name in fields:
        old, new = getattr(previous, name), getattr(record, name)
        if old != new:
            out.append((name.replace("_", " "), _show(old), _show(new)))
    return out


def _show(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def _newest_claim_versions(*, provider: Provider, model_ids: list[int], limit: int) -> list[int]:
    """History ids of the newest ``limit`` versions of the provider's claims and as many of its
    models' claims; 2 queries (1 when it has no models).

    Apart, each side reads its owner's index from the newest end. One query with the two
    owners OR-ed walks the catalogue-wide ``history_date`` index backwards instead, past every
    newer change to every other provider: the longer the catalogue's history, the slower.
    """
    HistoricalClaim = Claim.history.model
    newest = ("-history_date", "-history_id")
    ids = list(
        HistoricalClaim.objects.filter(provider=provider)
        .order_by(*newest)
        .values_list("history_id", flat=True)[:limit]
    )
    if model_ids:
        ids += (
            HistoricalClaim.objects.filter(model_id__in=model_ids)
            .order_by(*newest)
            .values_list("history_id", flat=True)[:limit]
        )
    return ids


def _previous_records(history_model: Any, records: list[Any]) -> dict[int, Any]:
    """The record before each of ``records`` (same object), found with one query."""
    if not records:
        return {}
    ids = {r.id for r in records}
    versions: dict[int, list[Any]] = defaultdict(list)
    for version in history_model.objects.filter(id__in=ids).order_by("history_date", "history_id"):
        versions[version.id].append(version)
    previous: dict[int, Any] = {}
    for record in records:
        chain = versions[record.id]
        position = next((i for i, v in enumerate(chain) if v.history_id == record.history_id), None)
        previous[record.history_id] = chain[position - 1] if position else None
    return previous


CLAIM_DIFF_FIELDS = [
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_plan",
    "scope_surface",
    "scope_region",
    "checked_at",
    "status",
    "evidence_quote",
    "note",
]
RATING_DIFF_FIELDS = ["value", "justification"]
ASSESSMENT_DIFF_FIELDS = [
    "status",
    "verdict",
    "conclusion",
    "server_locations",
    "assessed_on",
]


def recent_changes(*, provider: Provider | None = None, limit: int = CHANGES_LIMIT) -> list[Change]:
    """The latest changes to claims, ratings and assessments, newest first.

    A newly published assessment's ratings are listed at its publication, criterion by
    criterion, as changes against the assessment it superseded ("partial → supported");
    criteria it left as they were are not changes and are not listed.

    Five queries whatever ``limit`` is: one page of each history table, then the versions
    needed to say what changed (claims and ratings).
    """
    HistoricalClaim = Claim.history.model
    HistoricalRating = Rating.history.model
    HistoricalAssessment = Assessment.history.model

    claims_qs = HistoricalClaim.objects.select_related(
        "provider", "model", "model__provider", "key", "source"
    )
    ratings_qs = HistoricalRating.objects.select_related(
        "assessment", "assessment__provider", "criterion"
    )
    assessments_qs = HistoricalAssessment.objects.select_related("provider")
    if provider is not None:
        model_ids = list(AIModel.objects.filter(provider=provider).values_list("pk", flat=True))
        claims_qs = claims_qs.filter(
            history_id__in=_newest_claim_versions(
                provider=provider, model_ids=model_ids, limit=limit
            )
        )
        ratings_qs = ratings_qs.filter(assessment__provider=provider)
        assessments_qs = assessments_qs.filter(provider=provider)
    # Drafts and reviews in progress are not public: only ratings of published assessments.
    ratings_qs = ratings_qs.filter(
        assessment__status__in=[Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED]
    )
    assessments_qs = assessments_qs.filter(
        status__in=[Assessment.Status.PUBLISHED, Assessment.Status.SUPERSEDED]
    )
    claims = list(claims_qs.order_by("-history_date", "-history_id")[:limit])
    # A rating written while its assessment was a draft became public when the assessment
    # was published: it is listed then.
    shown_at = Greatest("history_date", Coalesce("assessment__published_at", "history_date"))
    ratings = list(
        ratings_qs.annotate(shown_at=shown_at).order_by("-shown_at", "-history_id")[:limit]
    )
    assessments = list(assessments_qs.order_by("-history_date", "-history_id")[:limit])

    changes: list[Change] = []
    previous = _previous_records(HistoricalClaim, claims)
    for r in claims:
        subject = r.provider if r.provider_id else r.model
        owner = r.provider if r.provider_id else (r.model.provider if r.model_id else None)
        value = r.value_flag or (
            f"{r.value_number.normalize():f} {r.value_unit}".strip()
            if r.value_number is not None
            else r.value_text
        )
        changes.append(
            Change(
                when=r.history_date,
                kind="claim",
                action=_ACTIONS[r.history_type],
                provider=owner,
                title=f"{subject}: {r.key.label if r.key_id else 'claim'}",
                summary=f"{value}"
                + (f" — {r.condition}" if r.condition else "")
                + (f" (source: {r.source.title}, checked {r.checked_at:%Y-%m-%d})"),
                record=r,
                diffs=_diffs(r, previous.get(r.history_id), CLAIM_DIFF_FIELDS),
            )
        )
    changes += _rating_changes(HistoricalRating, ratings)
    # Assessment history needs no previous-version query: status and verdict are on the row.
    for r in assessments:
        changes.append(
            Change(
                when=r.history_date,
                kind="assessment",
                action=_ACTIONS[r.history_type],
                provider=r.provider,
                title=f"{r.provider}: GDPR assessment {Assessment.Status(r.status).label.lower()}",
                summary=f"Verdict: {AssessmentVerdict(r.verdict).label}"
                + (f" — {r.conclusion}" if r.conclusion else ""),
                record=r,
            )
        )
    changes.sort(key=lambda c: (c.when, c.record.history_id), reverse=True)
    return changes[:limit]


def _rating_changes(history_model: Any, ratings: list[Any]) -> list[Change]:
    """``Change``s for a page of rating history (annotated ``shown_at``), with one query.

    A version made before its assessment was published (while it was a draft) is folded into
    the publication: only the last such version of each criterion counts, compared with the
    superseded assessment's rating of that criterion as it stood at the publication.
    """
    drafted: dict[tuple[int, int], Any] = {}
    live: list[Any] = []
    for r in ratings:
        published_at = r.assessment.published_at
        if published_at is not None and r.history_date <= published_at:
            # The page is newest first, so the first version seen per criterion is the last.
            drafted.setdefault((r.assessment_id, r.criterion_id), r)
        else:
            live.append(r)
    superseded_ids = {r.assessment.supersedes_id for r in drafted.values()} - {None}
    versions: dict[int, list[Any]] = defaultdict(list)
    before: dict[tuple[int, int], list[Any]] = defaultdict(list)
    if live or superseded_ids:
        query = Q(id__in={r.id for r in live}) | Q(assessment_id__in=superseded_ids)
        for version in history_model.objects.filter(query).order_by("history_date", "history_id"):
            versions[version.id].append(version)
            if version.assessment_id in superseded_ids:
                before[(version.assessment_id, version.criterion_id)].append(version)

    def label(value: str) -> str:
        return RatingValue(value).label.lower() if value in RatingValue.values else _show(value)

    changes: list[Change] = []
    for r in live:
        chain = versions[r.id]
        position = next((i for i, v in enumerate(chain) if v.history_id == r.history_id), None)
        previous = chain[position - 1] if position else None
        changes.append(
            _rating_change(
                r,
                when=r.history_date,
                action=_ACTIONS[r.history_type],
                diffs=_diffs(r, previous, RATING_DIFF_FIELDS),
            )
        )
    for r in drafted.values():
        if r.history_type == "-":
            continue
        published_at = r.assessment.published_at
        old = next(
            (
                v
                for v in reversed(before[(r.assessment.supersedes_id, r.criterion_id)])
                if v.history_date <= published_at
            ),
            None,
        )
        if old is None or old.history_type == "-":
            changes.append(_rating_change(r, when=published_at, action="added", diffs=[]))
            continue
        diffs = []
        if old.value != r.value:
            diffs.append((r.criterion.name, label(old.value), label(r.value)))
        if old.justification != r.justification:
            diffs.append(("justification", _show(old.justification), _show(r.justification)))
        if diffs:
            changes.append(_rating_change(r, when=published_at, action="changed", diffs=diffs))
    return changes


def _rating_change(r: Any, *, when: dt.datetime, action: str, diffs: list) -> Change:
    return Change(
        when=when,
        kind="rating",
        action=action,
        provider=r.assessment.provider,
        title=f"{r.assessment.provider}: GDPR criterion “{r.criterion.name}”",
        summary=RatingValue(r.value).label + (f" — {r.justification}" if r.justification else ""),
        record=r,
        diffs=diffs,
    )


def provider_by_slug(*, slug: str) -> Provider:
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise Http404(f"No provider is catalogued as “{slug}”.")
    return provider


def claim_page(*, pk: int) -> Claim:
    claim = (
        _claims_with_history()
        .select_related("provider", "model", "model__provider")
        .filter(pk=pk)
        .first()
    )
    if claim is None:
        raise Http404(f"No claim has the number {pk}.")
    return claim
