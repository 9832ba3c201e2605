"""What the provider, model, claim and licence pages show, each in a fixed number of queries
whatever the number of rows: related rows through ``select_related`` / ``Prefetch``, the claims
tables as prepared rows (``ClaimRow``) read as plain values.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.db.models import Count, Exists, F, Max, OuterRef, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber, Substr
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
from catalog import claim_state
from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKeyGroup,
    Comparison,
    Licence,
    LicenceKind,
    LicenceTerm,
    Price,
    Provider,
    Source,
    Verification,
)
from catalog.selectors.charts import (
    SUMMARY_BADGES,
    CriterionSpread,
    FreshnessSummary,
    provider_or_models_q,
    rating_spread,
)
from crawlers.models import Version

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
    badge: str  # what ``claim_state.badge`` says of the claim
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


@dataclass(frozen=True)
class CheckDates:
    """A single "last checked" line over many claims: the newest check, and beside it the
    oldest check still in force, so neither a fresh claim hides a stale one nor the reverse."""

    newest: dt.date | None  # the last day any claim shown was read
    oldest: dt.date | None  # the least recently checked current claim's date


def check_dates(rows: Iterable[ClaimRow]) -> CheckDates:
    """The check dates of claim rows (``_claim_rows``): newest over every claim shown,
    oldest over the current ones, as the home page's "Oldest claim" counts them."""
    newest: dt.date | None = None
    oldest: dt.date | None = None
    for row in rows:
        checked = row["checked_at"]
        if checked is None:
            continue
        newest = max(newest or checked, checked)
        if not row["status"]:
            oldest = min(oldest or checked, checked)
    return CheckDates(newest=newest, oldest=oldest)


@dataclass
class ProviderPage:
    provider: Provider
    claim_groups: list[tuple[str, list[ClaimRow]]]
    checked: CheckDates
    assessment: Assessment | None
    rating_rows: list[RatingRow]
    models: QuerySet[AIModel]  # unevaluated: the view pages it
    faqs: list[FAQ]
    sources: list[Source]
    comparisons: list[Comparison]
    freshness: FreshnessSummary
    spread: list[CriterionSpread]


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
    today = timezone.localdate()
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
                badge=claim_state.badge(
                    status=c["status"], quote=quote, checked=c["checked_at"], today=today
                ),
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


def _newest_prices(
    *, model_ids: list[int], platform: Provider | None = None
) -> dict[int, dict[str, Any]]:
    """Each model's newest price in force (latest ``as_of`` up to today, then by tier and
    id) as values; 1 query. A price announced for a later day is not yet shown here.

    The models table prints one price per model: its history and sources stay on the
    model page. With ``platform``, only the prices cited to that provider's sources: what
    the platform charges for another developer's model.
    """
    if not model_ids:
        return {}
    newest = Window(
        RowNumber(),
        partition_by=[F("model_id")],
        order_by=[F("as_of").desc(), F("tier").asc(), F("id").asc()],
    )
    found = Price.objects.filter(model_id__in=model_ids, as_of__lte=timezone.localdate())
    if platform is not None:
        found = found.filter(source__provider=platform)
    rows = (
        found.annotate(position=newest)
        .filter(position=1)
        .values("model_id", "input_per_mtok", "output_per_mtok", "currency", "as_of", "tier")
        # Price's default ordering sorts by provider and model name: two joins for nothing.
        .order_by()
    )
    return {row["model_id"]: row for row in rows}


def models_priced(*, models: list[AIModel], platform: Provider | None = None) -> list[AIModel]:
    """``models``, each with ``latest_price`` (its newest price in force, or None; with
    ``platform``, the newest that platform charges); 1 query, none for no models."""
    prices = _newest_prices(model_ids=[m.pk for m in models], platform=platform)
    for model in models:
        model.latest_price = prices.get(model.pk)
    return models


def served_models(*, provider: Provider) -> QuerySet[AIModel]:
    """Other developers' models with a price cited to one of ``provider``'s sources (a
    platform's listing of them), by developer and name; unevaluated, for paging."""
    listed = Price.objects.filter(source__provider=provider).exclude(model__provider=provider)
    return (
        AIModel.objects.filter(pk__in=listed.values("model_id"))
        .select_related("provider")
        .order_by("provider__name", "name", "pk")
    )


def provider_page(*, slug: str) -> ProviderPage:
    """Everything the provider page shows, in a fixed number of queries; 404 for a bad slug."""
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise Http404(f"No provider is catalogued as “{slug}”.")
    groups: dict[str, list[ClaimRow]] = defaultdict(list)
    rows = _claim_rows(claims=Claim.objects.filter(provider=provider))
    for row in rows:
        groups[row["group"]].append(row)
    claim_groups = [
        (ClaimKeyGroup(value).plural, groups[value])
        for value in ClaimKeyGroup.values
        if groups.get(value)
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

    # The models table is paged by the view (``models_priced`` then prices the page shown);
    # the figures below cover every model of the provider, read by id.
    models = provider.models.select_related("licence", "successor").order_by("name", "pk")
    model_ids = list(provider.models.values_list("pk", flat=True))
    # Per source, the claims checked against it and the newest check; summed, the badges
    # of the claims in force (what claim_figures counts), in the same query.
    usage = {
        row["source_id"]: row
        for row in Claim.objects.filter(provider_or_models_q(provider, model_ids))
        .order_by()
        .values("source_id")
        .annotate(
            last_checked=Max("checked_at"),
            claim_count=Count("pk"),
            **{badge: Count("pk", filter=claim_state.filter_q(badge)) for badge in SUMMARY_BADGES},
        )
    }
    summary = FreshnessSummary(
        **{badge: sum(row[badge] for row in usage.values()) for badge in SUMMARY_BADGES}
    )
    sources = list(
        Source.objects.listed()
        .filter(Q(provider=provider) | Q(pk__in=list(usage)))
        .order_by("doc_type", "title")
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
        checked=check_dates(rows),
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


def licence_page(*, slug: str) -> tuple[Licence, list[LicenceTerm], list[AIModel]]:
    """The licence, its AI-specific terms (each with its quote and source) in the order of
    ``LicenceTerm.Key``, and the models under it."""
    licence = Licence.objects.filter(slug=slug).first()
    if licence is None:
        raise Http404(f"No licence is catalogued as “{slug}”.")
    order = {key: index for index, key in enumerate(LicenceTerm.Key.values)}
    terms = sorted(licence.terms.select_related("source"), key=lambda t: order[t.key])
    models = list(
        licence.models.select_related("provider", "successor").order_by("provider__name", "name")
    )
    return licence, terms, models


def provider_by_slug(*, slug: str) -> Provider:
    provider = Provider.objects.filter(slug=slug).first()
    if provider is None:
        raise Http404(f"No provider is catalogued as “{slug}”.")
    return provider


# --- claim page --------------------------------------------------------------------------------

# The claim page lists at most this many other versions of the source the quote stood in.
FOUND_VERSIONS_SHOWN = 10
# Characters read either side of a found quote to show the sentence it stands in.
SENTENCE_REACH = 400
# A full stop, question or exclamation mark (with any closing quotes or brackets) before
# a space, or a line break.
_SENTENCE_END = re.compile("[.!?][\"'\u201d\u2019)\\]]*(?=\\s|$)|\n")
_ENDS_SENTENCE = re.compile("[.!?][\"'\u201d\u2019)\\]]*\\s*$")
# The outcomes of a source check that read a text (the others read nothing).
# The outcomes of a check that read a text: it found the quote, found it worded otherwise, or
# did not find it. An inconclusive or failed check read nothing and proves nothing.
_READ_OUTCOMES = (
    Verification.Outcome.CONFIRMED,
    Verification.Outcome.CHANGED_WORDING,
    Verification.Outcome.CONTRADICTED,
)


@dataclass
class FoundVersion:
    number: int
    stored_at: dt.datetime  # when the version was first stored
    last_read: dt.datetime  # the newest check that found the quote in it
    cause: str = ""  # how the version came to be stored (an import is credited)
    commit: str = ""  # an imported text's commit


@dataclass
class QuotePin:
    """Where a claim's quote was found in the stored texts of its source.

    ``latest`` is None when no check ever found it in a version it recorded; then
    ``confirmed_unrecorded`` is the newest confirmation made before checks recorded the version
    they read, if any, and ``read_any`` says whether any check read the source at all.
    ``before``, ``quote`` and ``after`` are the sentence around the quote in ``latest`` (empty
    when its span was not recorded).
    """

    latest: FoundVersion | None = None
    before: str = ""
    quote: str = ""
    after: str = ""
    others: list[FoundVersion] = field(default_factory=list)  # newest read first, bounded
    other_count: int = 0
    not_found_at: dt.datetime | None = None  # the newest check reading a text, if it missed
    confirmed_unrecorded: dt.datetime | None = None
    read_any: bool = False


def claim_page(*, pk: int) -> Claim:
    """The claim with its source, subject and verification history, in three queries at most.

    Sets ``claim.quote_pin`` (a ``QuotePin``) when the claim has a quote, else None, and
    ``claim.source_has_text``: whether Atlas stores any text of the claim's source.
    """
    verifications = (
        Verification.objects.select_related("found_in")
        .defer("found_in__text", "found_in__raw_body")
        .order_by("-checked_at", "-id")
    )
    claim = (
        Claim.objects.select_related("key", "source", "provider", "model", "model__provider")
        .prefetch_related(Prefetch("verifications", queryset=verifications))
        .annotate(source_has_text=Exists(Version.objects.filter(source_id=OuterRef("source_id"))))
        .exclude(status=Claim.Status.RETIRED)
        .filter(pk=pk)
        .first()
    )
    if claim is None:
        raise Http404(f"No claim has the number {pk}.")
    claim.quote_pin = _quote_pin(claim) if claim.evidence_quote.strip() else None
    return claim


def _quote_pin(claim: Claim) -> QuotePin:
    """The claim's ``QuotePin`` from its prefetched verifications; one query for the sentence."""
    checks = [v for v in claim.verifications.all() if v.method == Verification.Method.SOURCE_CHECK]
    newest_found: dict[int, Verification] = {}  # version id -> its newest confirmation
    for verification in checks:  # newest first
        if verification.outcome == Verification.Outcome.CONFIRMED and verification.found_in_id:
            newest_found.setdefault(verification.found_in_id, verification)
    if not newest_found:
        unrecorded = next((v for v in checks if v.outcome == Verification.Outcome.CONFIRMED), None)
        return QuotePin(
            confirmed_unrecorded=unrecorded.checked_at if unrecorded else None,
            read_any=any(v.outcome in _READ_OUTCOMES for v in checks),
        )
    found = [
        FoundVersion(
            number=v.found_in.number,
            stored_at=v.found_in.created_at,
            last_read=v.checked_at,
            cause=v.found_in.cause,
            commit=v.found_in.origin_commit,
        )
        for v in newest_found.values()
    ]
    latest = next(iter(newest_found.values()))
    # The newest check that read a text; one that could not read the source proves nothing.
    last_read = next(v for v in checks if v.outcome in _READ_OUTCOMES)
    pin = QuotePin(
        latest=found[0],
        others=found[1 : FOUND_VERSIONS_SHOWN + 1],
        other_count=len(found) - 1,
        not_found_at=(
            last_read.checked_at if last_read.outcome != Verification.Outcome.CONFIRMED else None
        ),
    )
    if latest.quote_start is not None and latest.quote_end is not None:
        pin.before, pin.quote, pin.after = _sentence_around(latest)
    return pin


def _sentence_around(verification: Verification) -> tuple[str, str, str]:
    """The text before the found quote in its sentence, the quote, and the text after it."""
    start, end = verification.quote_start, verification.quote_end
    low = max(0, start - SENTENCE_REACH)
    window = (
        Verification.objects.filter(pk=verification.pk)
        # Substr counts from 1; only this window of a text of any size is read.
        .values_list(Substr("found_in__text", low + 1, end - low + SENTENCE_REACH), flat=True)
        .first()
    ) or ""
    before, quote, after = (
        window[: start - low],
        window[start - low : end - low],
        window[end - low :],
    )
    ends = list(_SENTENCE_END.finditer(before))
    if ends:
        before = before[ends[-1].end() :].lstrip()
    elif low > 0:
        before = "…" + before.lstrip()
    stop = _SENTENCE_END.search(after)
    if _ENDS_SENTENCE.search(quote):
        after = ""
    elif stop:
        after = after[: stop.end()].rstrip()
    elif len(after) == SENTENCE_REACH:
        after = after.rstrip() + "…"
    return before, quote, after
