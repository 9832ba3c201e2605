"""Source pages: fetch history, versions, diffs, claims with their checks; the curators' triage
and list of unverifiable claims."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from catalog.models import Claim, Source
from crawlers import selectors, services
from crawlers.errors import CrawlerError
from crawlers.models import Version


def source_list(request: HttpRequest) -> HttpResponse:
    return render(
        request, "crawlers/source_list.html", {"sources": selectors.sources_for_listing()}
    )


def source_detail(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.listed().select_related("provider"), pk=source_id)
    crawl = services.crawl_settings_for(source=source)
    claims = (
        Claim.objects.filter(source=source)
        .select_related("key", "provider", "model")
        .prefetch_related("verifications")
    )
    claim_rows = [(claim, list(claim.verifications.all())[:5]) for claim in claims]
    return render(
        request,
        "crawlers/source_detail.html",
        {
            "source": source,
            "crawl": crawl,
            "checks": selectors.source_checks(source=source),
            "versions": selectors.source_versions(source=source),
            "claim_rows": claim_rows,
            "can_check": request.user.has_perm("crawlers.change_crawlsettings"),
        },
    )


def version_detail(request: HttpRequest, source_id: int, number: int) -> HttpResponse:
    version = get_object_or_404(
        Version.objects.select_related("source").defer("raw_body"),
        source__listed=True,
        source_id=source_id,
        number=number,
    )
    return render(request, "crawlers/version_detail.html", {"version": version})


def version_compare(request: HttpRequest, source_id: int) -> HttpResponse:
    """The diff between any two versions: ?from=N&to=M (numbers; defaults: the last two)."""
    source = get_object_or_404(Source.objects.listed(), pk=source_id)
    versions = Version.objects.filter(source=source).defer("raw_body")
    numbers = sorted(versions.values_list("number", flat=True))
    if not numbers:
        raise Http404("This source has no versions yet.")
    try:
        new_number = int(request.GET.get("to") or numbers[-1])
        old_number = int(request.GET.get("from") or (numbers[-2] if len(numbers) > 1 else 0))
    except ValueError:
        return render(
            request,
            "crawlers/compare.html",
            {"source": source, "numbers": numbers, "error": "Versions are given by number."},
            status=400,
        )
    new = versions.filter(number=new_number).first()
    old = versions.filter(number=old_number).first() if old_number else None
    if new is None or (old_number and old is None):
        missing = new_number if new is None else old_number
        return render(
            request,
            "crawlers/compare.html",
            {"source": source, "numbers": numbers, "error": f"There is no version {missing}."},
            status=404,
        )
    return render(
        request,
        "crawlers/compare.html",
        {
            "source": source,
            "numbers": numbers,
            "old": old,
            "new": new,
            "diff_lines": selectors.version_diff(old=old, new=new).splitlines(),
        },
    )


@require_POST
@permission_required("crawlers.change_crawlsettings", raise_exception=True)
def source_check_now(request: HttpRequest, source_id: int) -> HttpResponse:
    source = get_object_or_404(Source.objects.listed(), pk=source_id)
    try:
        check = services.check_queue(source=source, reason=f"web:{request.user.get_username()}")
    except CrawlerError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Check {check.pk} queued; refresh to see its result.")
    return redirect("crawlers:source", source_id=source.pk)


@login_required
@permission_required("catalog.change_claim", raise_exception=True)
def triage(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "crawlers/triage.html",
        {"entries": selectors.triage_entries(), "failing": selectors.sources_failing()},
    )


@login_required
@permission_required("catalog.change_claim", raise_exception=True)
def unverifiable(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "crawlers/unverifiable.html",
        {"providers": selectors.unverifiable_claims_by_provider()},
    )
