"""Reads of the crawlers' records, shaped for pages, the admin and the triage list."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from catalog.models import Claim, Source, Verification
from crawlers.models import Check, Version


def version_diff(*, old: Version | None, new: Version, context: int = 2) -> str:
    """A unified diff of two versions' texts, one line per block of the document."""
    before = old.text.splitlines() if old is not None else []
    return "\n".join(
        difflib.unified_diff(
            before,
            new.text.splitlines(),
            fromfile=f"version {old.number}" if old is not None else "nothing",
            tofile=f"version {new.number}",
            lineterm="",
            n=context,
        )
    )


def source_checks(*, source: Source, limit: int = 50) -> QuerySet[Check]:
    return (
        Check.objects.filter(source=source)
        .select_related("version", "previous_version")
        .defer(
            "version__text",
            "version__raw_body",
            "previous_version__text",
            "previous_version__raw_body",
        )[:limit]
    )


def source_versions(*, source: Source) -> QuerySet[Version]:
    return Version.objects.filter(source=source).defer("raw_body", "text")


def sources_for_listing() -> QuerySet[Source]:
    return Source.objects.select_related("crawl", "provider").order_by("publisher", "title")


@dataclass
class TriageEntry:
    source: Source
    check: Check | None
    diff: str
    flagged: list[tuple[Claim, Verification]] = field(default_factory=list)


def triage_entries() -> list[TriageEntry]:
    """Claims waiting for review after a source check, grouped by the check that flagged them.

    Each entry holds the check whose text no longer holds the claims' quotes, the diff that
    check saw (previous text → new text), and the claims with their contradicting verification.
    """
    latest_checks = Verification.objects.filter(method=Verification.Method.SOURCE_CHECK).order_by(
        "-checked_at", "-id"
    )
    claims = (
        Claim.objects.filter(status=Claim.Status.NEEDS_REVIEW)
        .select_related("source", "key", "provider", "model")
        .prefetch_related(Prefetch("verifications", queryset=latest_checks, to_attr="checks"))
    )
    groups: dict[tuple[int, int | None], TriageEntry] = {}
    for claim in claims:
        contradiction = next(
            (v for v in claim.checks if v.outcome == Verification.Outcome.CONTRADICTED), None
        )
        if contradiction is None:
            continue
        check_id = contradiction.evidence.get("check_id")
        key = (claim.source_id, check_id)
        if key not in groups:
            check = (
                Check.objects.select_related("version", "previous_version")
                .filter(pk=check_id)
                .first()
            )
            diff = ""
            if check is not None and check.version is not None and check.is_change:
                diff = version_diff(old=check.previous_version, new=check.version)
            groups[key] = TriageEntry(source=claim.source, check=check, diff=diff)
        groups[key].flagged.append((claim, contradiction))
    return sorted(
        groups.values(),
        key=lambda e: e.check.finished_at.isoformat() if e.check and e.check.finished_at else "",
        reverse=True,
    )


def sources_failing() -> QuerySet[Source]:
    """Sources whose latest checks failed, most failures first."""
    return (
        Source.objects.filter(crawl__consecutive_failures__gt=0)
        .select_related("crawl")
        .order_by("-crawl__consecutive_failures")
    )
