"""The catalogue-wide figures of the home page and of ``/api/v1/stats`` (provider facets, claims
by badge, what the checks of claims found, rating spread), cached until a table they read
changes.
"""

from __future__ import annotations

from typing import NamedTuple

from django.core.cache import cache
from django.utils import timezone

from assessments.models import Assessment, Criterion, Rating
from catalog.change_stamp import tables_stamp
from catalog.models import AIModel, Claim, ClaimKey, Provider, Verification
from catalog.selectors.charts import ClaimStats, FreshnessSummary, claim_figures, rating_spread
from catalog.selectors.coverage import Coverage, catalogue_coverage
from catalog.selectors.search import ProviderFacts, provider_facts

CACHE_SECONDS = 300


def _catalogue_stamp() -> str:
    """Today's date and a token that moves whenever a table the figures read changes (see
    ``tables_stamp``); where only saves move it, figures cached before a deletion live
    CACHE_SECONDS at most."""
    tables = tables_stamp(
        models=(Provider, AIModel, Claim, ClaimKey, Verification, Criterion, Assessment, Rating),
        fallback=(Claim, Rating, Assessment, Provider),
    )
    return f"{timezone.localdate().isoformat()}:{tables}"


class Figures(NamedTuple):
    facts: dict[int, ProviderFacts]
    freshness: FreshnessSummary
    claim_stats: ClaimStats
    spread: list
    coverage: Coverage


def catalogue_figures() -> Figures:
    """Provider facts, claims by badge, what their checks found, the rating spread and what
    the catalogue holds, for the whole catalogue.

    They aggregate every claim, so they are cached under ``_catalogue_stamp``: 1 query
    when cached (4 without the change-stamp triggers), 13 more when not.
    """
    key = f"atlas:figures:{_catalogue_stamp()}"
    figures = cache.get(key)
    if figures is None:
        figures = Figures(provider_facts(), *claim_figures(), rating_spread(), catalogue_coverage())
        cache.set(key, figures, CACHE_SECONDS)
    return figures
