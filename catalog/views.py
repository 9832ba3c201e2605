"""HTML pages for compliance officers: search, provider, model, licence, compare, finder, changes.

Views parse the request, call selectors and render; they hold no business rules.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode

from assessments.models import AssessmentVerdict
from catalog.forms import FACETS, FinderForm, search_filters_parse
from catalog.models import Provider
from catalog.requirements.check import requirements_check_cached, requirements_results
from catalog.requirements.inputs import Requirements, RequirementsError
from catalog.requirements.rules import Outcome
from catalog.selectors.changes import CHANGES_MAX_PAGE, changes_page, recent_changes
from catalog.selectors.compare import compare_candidates, compare_models, compare_providers
from catalog.selectors.coverage import PROVIDER_EVIDENCE_MIN
from catalog.selectors.home import catalogue_figures
from catalog.selectors.pages import (
    claim_page,
    licence_page,
    licences_by_kind,
    model_page,
    models_priced,
    provider_page,
    served_models,
)
from catalog.selectors.search import catalogue_search, search_claims, search_licences
from inference import selectors as inference_selectors

PAGE_SIZE = 50
# Models listed per outcome on one finder page; the rest are counted and paged.
FINDER_PAGE_SIZE = 25
# The URL parameter holding each outcome's page number on the finder.
FINDER_PAGE_PARAMS = {
    Outcome.QUALIFIES: "qpage",
    Outcome.CONDITIONAL: "cpage",
    Outcome.FAILS: "fpage",
}
FINDER_GROUPS = {
    Outcome.QUALIFIES: "qualify",
    Outcome.CONDITIONAL: "qualify under conditions",
    Outcome.FAILS: "do not qualify",
}
COMPARE_MIN, COMPARE_MAX = 2, 4


def _page_number(request: HttpRequest, name: str, notes: list[str]) -> int:
    raw = request.GET.get(name, "1")
    try:
        number = int(raw)
        if number < 1:
            raise ValueError
    except ValueError:
        notes.append(f"Ignored the page number “{raw[:20]}”: it must be a whole number from 1.")
        return 1
    return number


def _paginate(queryset, number: int, notes: list[str], what: str):
    paginator = Paginator(queryset, PAGE_SIZE)
    if number > paginator.num_pages:
        notes.append(
            f"There is no page {number} of {what}; showing page {paginator.num_pages} instead."
        )
        number = paginator.num_pages
    return paginator.page(number)


def _toggle_url(request: HttpRequest, param: str, value: str) -> str:
    """The current URL with ``param=value`` added, or removed when already there."""
    pairs = [
        (k, v)
        for k in request.GET
        for v in request.GET.getlist(k)
        if k not in {"page", "mpage"} and not (k == param and v == value)
    ]
    if value not in request.GET.getlist(param):
        pairs.append((param, value))
    query = urlencode(pairs)
    return f"{request.path}?{query}" if query else request.path


def home(request: HttpRequest) -> HttpResponse:
    filters, notes = search_filters_parse(params=request.GET)
    facts, freshness, claim_stats, spread, coverage = catalogue_figures()
    search = catalogue_search(filters=filters, facts=facts)
    providers_page = _paginate(
        search.providers, _page_number(request, "page", notes), notes, "providers"
    )
    search.decorate(providers_page.object_list)
    models_page = _paginate(search.models, _page_number(request, "mpage", notes), notes, "models")
    for result in search.facets:
        for count in result.counts:
            count.url = _toggle_url(request, result.facet.param, count.value)
    chosen = [
        (facet.label, facet.label_for(value), _toggle_url(request, facet.param, value))
        for facet in FACETS
        for value in sorted(filters.values(facet.param))
    ]
    verdicts = {value: 0 for value in AssessmentVerdict.values}
    for facts in search.facts.values():
        verdicts[facts.verdict] += 1
    context = {
        "filters": filters,
        "notes": notes,
        "providers": providers_page,
        "models": models_page,
        "provider_facets": [f for f in search.facets if f.facet.counts == "providers"],
        "model_facets": [f for f in search.facets if f.facet.counts == "models"],
        "chosen": chosen,
        "licences": search_licences(q=filters.q),
        "claims": search_claims(q=filters.q),
        "freshness": freshness,
        "claim_stats": claim_stats,
        "coverage": coverage,
        "coverage_min": PROVIDER_EVIDENCE_MIN,
        "spread": spread,
        "verdict_counts": verdicts,
        "base_query": urlencode(
            [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != "page"]
        ),
        "base_query_models": urlencode(
            [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != "mpage"]
        ),
    }
    return render(request, "catalog/home.html", context)


def provider_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = provider_page(slug=slug)
    notes: list[str] = []
    models = _paginate(page.models, _page_number(request, "mpage", notes), notes, "models")
    models.object_list = models_priced(models=list(models.object_list))
    served = _paginate(
        served_models(provider=page.provider),
        _page_number(request, "spage", notes),
        notes,
        "models priced here",
    )
    served.object_list = models_priced(models=list(served.object_list), platform=page.provider)
    changes = recent_changes(provider=page.provider, limit=20)
    return render(
        request,
        "catalog/provider_detail.html",
        {
            "page": page,
            "provider": page.provider,
            "models": models,
            "served": served,
            "notes": notes,
            "changes": changes,
        },
    )


def model_detail(request: HttpRequest, slug: str) -> HttpResponse:
    page = model_page(slug=slug)
    return render(request, "catalog/model_detail.html", {"page": page, "model": page.model})


def claim_detail(request: HttpRequest, pk: int) -> HttpResponse:
    claim = claim_page(pk=pk)
    tests = inference_selectors.claim_tests(claim=claim, user=request.user)
    return render(request, "catalog/claim_detail.html", {"claim": claim, "tests": tests})


def licence_list(request: HttpRequest) -> HttpResponse:
    return render(request, "catalog/licence_list.html", {"groups": licences_by_kind()})


def licence_detail(request: HttpRequest, slug: str) -> HttpResponse:
    licence, terms, models = licence_page(slug=slug)
    context = {"licence": licence, "terms": terms, "models": models}
    return render(request, "catalog/licence_detail.html", context)


def _slugs(request: HttpRequest, name: str) -> list[str]:
    seen: list[str] = []
    for raw in request.GET.getlist(name):
        for part in raw.split(","):
            slug = part.strip()
            if slug and slug not in seen:
                seen.append(slug)
    return seen


def compare(request: HttpRequest) -> HttpResponse:
    notes: list[str] = []
    provider_slugs = _slugs(request, "providers")
    model_slugs = _slugs(request, "models")
    kind, slugs = ("providers", provider_slugs) if provider_slugs else ("models", model_slugs)
    if provider_slugs and model_slugs:
        notes.append("Compare providers or models, not both at once: showing the providers.")
    if len(slugs) > COMPARE_MAX:
        notes.append(
            f"At most {COMPARE_MAX} can be compared; showing the first {COMPARE_MAX} of "
            f"{len(slugs)}."
        )
        slugs = slugs[:COMPARE_MAX]
    subjects, rows = [], []
    if len(slugs) >= COMPARE_MIN:
        if kind == "providers":
            subjects, rows = compare_providers(slugs=slugs)
        else:
            subjects, rows = compare_models(slugs=slugs)
    elif slugs:
        notes.append(f"Choose at least {COMPARE_MIN} {kind} to compare.")
    providers, models = compare_candidates()
    groups: list[tuple[str, list]] = []
    for row in rows:
        if not groups or groups[-1][0] != row.group:
            groups.append((row.group, []))
        groups[-1][1].append(row)
    return render(
        request,
        "catalog/compare.html",
        {
            "notes": notes,
            "kind": kind,
            "subjects": subjects,
            "groups": groups,
            "slugs": slugs,
            "all_providers": providers,
            "all_models": models,
        },
    )


@dataclass(frozen=True)
class FinderNav:
    """Where one outcome's page sits among its pages, with links to its neighbours."""

    number: int
    pages: int
    first: int  # position of the first row shown, from 1
    last: int
    previous_url: str
    next_url: str


def _finder_page_url(request: HttpRequest, param: str, number: int) -> str:
    pairs = [(k, v) for k in request.GET for v in request.GET.getlist(k) if k != param]
    if number > 1:
        pairs.append((param, str(number)))
    return f"{request.path}?{urlencode(pairs)}"


def finder(request: HttpRequest) -> HttpResponse:
    form = FinderForm(request.GET or None)
    results = None
    error = ""
    notes: list[str] = []
    if form.is_bound and form.is_valid() and form.has_requirement():
        try:
            requirements = Requirements.from_mapping(form.requirements_mapping())
        except RequirementsError as exc:
            error = str(exc)
        else:
            # Every model is sorted, but only one page of each outcome is judged in full
            # and shown: a large catalogue fails thousands of models.
            check = requirements_check_cached(requirements=requirements)
            shown: dict[str, list[int]] = {}
            navs: dict[str, FinderNav] = {}
            for outcome, param in FINDER_PAGE_PARAMS.items():
                ids = check.ids[outcome]
                pages = max(1, -(-len(ids) // FINDER_PAGE_SIZE))
                number = _page_number(request, param, notes)
                if number > pages:
                    notes.append(
                        f"There is no page {number} of the models that {FINDER_GROUPS[outcome]}; "
                        f"showing page {pages} instead."
                    )
                    number = pages
                start = (number - 1) * FINDER_PAGE_SIZE
                shown[outcome] = ids[start : start + FINDER_PAGE_SIZE]
                navs[outcome] = FinderNav(
                    number=number,
                    pages=pages,
                    first=start + 1,
                    last=start + len(shown[outcome]),
                    previous_url=_finder_page_url(request, param, number - 1) if number > 1 else "",
                    next_url=_finder_page_url(request, param, number + 1) if number < pages else "",
                )
            judged = {
                r.model.pk: r
                for r in requirements_results(
                    requirements=requirements,
                    model_ids=[pk for ids in shown.values() for pk in ids],
                )
            }
            results = {}
            for outcome in Outcome:
                results[outcome.value] = [judged[pk] for pk in shown[outcome] if pk in judged]
                results[f"{outcome.value}_total"] = check.counts[outcome]
                results[f"{outcome.value}_nav"] = navs[outcome]
    return render(
        request,
        "catalog/finder.html",
        {"form": form, "results": results, "error": error, "notes": notes},
    )


def changes(request: HttpRequest) -> HttpResponse:
    provider = None
    slug = request.GET.get("provider", "").strip()
    notes = []
    if slug:
        provider = Provider.objects.filter(slug=slug).first()
        if provider is None:
            notes.append(f"Ignored the provider “{slug[:60]}”: there is no such provider.")
    feed_url = (
        reverse("catalog:provider_changes_feed", args=[provider.slug])
        if provider
        else reverse("catalog:changes_feed")
    )
    number = _page_number(request, "page", notes)
    if number > CHANGES_MAX_PAGE:
        notes.append(f"Changes are shown {CHANGES_MAX_PAGE} pages back; this is the last.")
    page = changes_page(provider=provider, number=number)
    return render(
        request,
        "catalog/changes.html",
        {
            "changes": page.changes,
            "page": page,
            "page_base": f"provider={provider.slug}&" if provider else "",
            "provider": provider,
            "providers": Provider.objects.order_by("name").only("slug", "name"),
            "notes": notes,
            "feed_url": feed_url,
        },
    )
