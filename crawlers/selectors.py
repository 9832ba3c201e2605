"""Reads of the crawlers' records, shaped for pages, the admin and the triage list."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from catalog import claim_state
from catalog.models import Claim, Provider, Source, Verification
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
    """The public list of sources (only listed ones: ``SourceQuerySet.listed``)."""
    return (
        Source.objects.listed().select_related("crawl", "provider").order_by("publisher", "title")
    )


@dataclass
class TriageEntry:
    source: Source
    check: Check | None
    diff: str
    flagged: list[tuple[Claim, Verification, Verification]] = field(default_factory=list)


DEMOTING = (Verification.Outcome.CONTRADICTED, Verification.Outcome.CHANGED_WORDING)


def demoting_verification(checks: list[Verification]) -> Verification | None:
    """The source check that sent a claim to review, from its source checks newest first.

    That is the first contradiction or changed wording since the quote was last confirmed:
    the later checks that still miss the quote (an unchanged page read the next day) did not
    cause anything, and failed reads in between neither confirm nor refute.
    """
    cause = None
    for verification in checks:
        if verification.outcome == Verification.Outcome.CONFIRMED:
            break
        if verification.outcome in DEMOTING:
            cause = verification
    return cause


def triage_entries() -> list[TriageEntry]:
    """Claims waiting for review after a source check, grouped by the check that flagged them.

    Each entry holds the check that first missed the claims' quotes (not the latest one,
    which may be a later, unchanged read), the diff that check saw (previous text → new
    text), and each claim with that verification and its latest source check.
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
        cause = demoting_verification(claim.checks)
        if cause is None:
            continue
        check_id = cause.evidence.get("check_id")
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
        groups[key].flagged.append((claim, cause, claim.checks[0]))
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


def unverifiable_claims_by_provider() -> list[tuple[Provider, list[Claim]]]:
    """Claims not retired without an evidence quote (``claim_state``), grouped by provider
    (a model's claims under its provider), providers by name, claims by subject and key;
    1 query."""
    claims = (
        Claim.objects.filter(~claim_state.verifiable_q())
        .exclude(status=Claim.Status.RETIRED)
        .select_related("key", "source", "provider", "model", "model__provider")
    )
    grouped: dict[int, tuple[Provider, list[Claim]]] = {}
    for claim in claims:
        provider = claim.provider if claim.provider_id else claim.model.provider
        grouped.setdefault(provider.pk, (provider, []))[1].append(claim)
    for _provider, provider_claims in grouped.values():
        provider_claims.sort(
            key=lambda c: (bool(c.model_id), c.model.name if c.model_id else "", c.key.label)
        )
    return sorted(grouped.values(), key=lambda entry: entry[0].name.lower())
