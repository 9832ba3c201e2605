"""The figures the catalogue's charts draw: freshness of claims in force, what the checks of
claims found, and the spread of GDPR ratings across published assessments, for the whole
catalogue or one provider.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, Q, Window
from django.db.models.functions import FirstValue

from assessments.models import Assessment, Criterion, Rating, RatingValue
from catalog import claim_state, freshness
from catalog.models import Claim, Provider, Verification


def provider_or_models_q(provider: Provider, model_ids: list[int]) -> Q:
    """Claims (or anything with ``provider`` and ``model``) of ``provider`` or of its models."""
    # Model ids as literals, not a join: both sides of the OR can then use their index.
    return Q(provider=provider) | Q(model_id__in=model_ids)


# --- charts ------------------------------------------------------------------------------


@dataclass
class FreshnessSummary:
    """Claims in force by badge: verifiable ones by the age of their check, and unverifiable
    ones (no evidence quote) apart, never counted as current."""

    current: int = 0
    ageing: int = 0
    stale: int = 0
    unverifiable: int = 0

    @property
    def total(self) -> int:
        return self.current + self.ageing + self.stale + self.unverifiable

    def parts(self) -> list[tuple[str, str, int]]:
        return [
            (freshness.CURRENT, "Current", self.current),
            (freshness.AGEING, "Ageing", self.ageing),
            (freshness.STALE, "Stale", self.stale),
            (claim_state.UNVERIFIABLE, "Unverifiable (no quote)", self.unverifiable),
        ]


# The badges FreshnessSummary counts, each a field of it.
SUMMARY_BADGES = (*freshness.LEVELS, claim_state.UNVERIFIABLE)


@dataclass
class ClaimStats:
    """What the checks of the claims not retired found (``claim_figures``)."""

    verifiable: int = 0  # with an evidence quote, so a check can confirm or contradict them
    confirmed_within_window: int = 0  # verifiable, and the latest read confirmed the quote
    changed_wording: int = 0  # the latest source check found the quote's words changed
    needs_review: int = 0  # waiting for a curator
    unverifiable: int = 0  # without an evidence quote
    window_days: int = 0  # ATLAS_FRESHNESS_DAYS when counted


def claim_figures() -> tuple[FreshnessSummary, ClaimStats]:
    """The whole catalogue's claims by badge (claims in force) and what their checks found
    (claims not retired); three queries.

    *Confirmed within the window*: a verifiable claim whose latest source check or manual
    verification confirmed it on a day that is not stale (``ATLAS_FRESHNESS_DAYS``). *Changed
    wording*: the latest source check's outcome is ``changed_wording``.
    """
    _ageing_after, stale_after = freshness.thresholds()
    verifiable = claim_state.verifiable_q()
    claims = Claim.objects.exclude(status=Claim.Status.RETIRED)
    totals = claims.aggregate(
        **{badge: Count("pk", filter=claim_state.filter_q(badge)) for badge in SUMMARY_BADGES},
        all_verifiable=Count("pk", filter=verifiable),
        all_unverifiable=Count("pk", filter=~verifiable),
        needs_review=Count("pk", filter=Q(status=Claim.Status.NEEDS_REVIEW)),
    )
    read_methods = (Verification.Method.SOURCE_CHECK, Verification.Method.MANUAL)
    # A reading within the window makes the latest reading one too (readings are ordered by
    # day), so the latest reading is sought among the window's readings alone.
    confirmed = _latest_outcomes(
        Verification.objects.filter(method__in=read_methods, checked_at__date__gte=stale_after),
        Verification.Outcome.CONFIRMED,
        claims.filter(verifiable),
    )
    # Only a claim that was ever reworded can have a latest source check that says so.
    source_checks = Verification.objects.filter(method=Verification.Method.SOURCE_CHECK)
    reworded = Verification.Outcome.CHANGED_WORDING
    changed = _latest_outcomes(
        source_checks.filter(
            claim_id__in=source_checks.filter(outcome=reworded).values("claim_id")
        ),
        reworded,
        claims,
    )
    summary = FreshnessSummary(**{badge: totals[badge] or 0 for badge in SUMMARY_BADGES})
    stats = ClaimStats(
        verifiable=totals["all_verifiable"] or 0,
        confirmed_within_window=confirmed,
        changed_wording=changed,
        needs_review=totals["needs_review"] or 0,
        unverifiable=totals["all_unverifiable"] or 0,
        window_days=settings.ATLAS_FRESHNESS_DAYS,
    )
    return summary, stats


def latest_values(verifications, *fields: str):
    """``verifications`` each tagged, as ``latest_<field>``, with the value of ``field`` in
    its claim's latest one among them (by day, then id): one pass over them instead of a
    lookup per claim.

    Filter on the ``latest_`` values only: Django applies a condition on a window's value
    after the window is computed, but one on a plain column before, which would pick the
    latest of the rows that match instead of the latest row.
    """
    newest_first = [F("checked_at").desc(), F("id").desc()]
    return verifications.annotate(
        **{
            f"latest_{field}": Window(
                FirstValue(field), partition_by=[F("claim_id")], order_by=newest_first
            )
            for field in fields
        }
    )


def _latest_outcomes(verifications, outcome: str, claims) -> int:
    """How many of ``claims`` have ``outcome`` as the latest of ``verifications``."""
    latest = latest_values(verifications, "outcome").filter(latest_outcome=outcome)
    return claims.filter(pk__in=latest.values("claim_id")).count()


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
