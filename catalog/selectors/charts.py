"""The figures the catalogue's charts draw: freshness of claims in force and the spread of
GDPR ratings across published assessments, for the whole catalogue or one provider.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass

from django.db.models import Count, Q

from assessments.models import Assessment, Criterion, Rating, RatingValue
from catalog import freshness
from catalog.models import Claim, Provider


def provider_or_models_q(provider: Provider, model_ids: list[int]) -> Q:
    """Claims (or anything with ``provider`` and ``model``) of ``provider`` or of its models."""
    # Model ids as literals, not a join: both sides of the OR can then use their index.
    return Q(provider=provider) | Q(model_id__in=model_ids)


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
        qs = qs.filter(provider_or_models_q(provider, model_ids or []))
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
