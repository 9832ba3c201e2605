"""What the catalogue holds and how much of it rests on evidence Atlas keeps: the figures the
home page and ``/api/v1/stats`` state, and that the shipped catalogue is held to.

A claim counts as *found in a stored text* when its latest source check found its quote in a
text of its source that Atlas stores (a crawled or imported version), not when it merely
carries a quote.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q

from assessments.models import Assessment
from catalog.models import AIModel, Claim, Provider, Verification
from catalog.selectors.charts import latest_values

# A provider counts as evidenced when at least this many of its own (provider-level) claims
# were found in a stored text of their sources.
PROVIDER_EVIDENCE_MIN = 6


@dataclass(frozen=True)
class Coverage:
    providers: int
    models: int
    claims: int
    claims_unknown: int
    claims_with_quote: int
    claims_found_in_text: int
    providers_evidenced: int
    open_weight_models: int
    open_weight_models_without_licence: int
    published_assessments: int

    @property
    def claims_stating(self) -> int:
        """Claims that state a value: all but those recorded as unknown (texts silent), which
        no quote can carry."""
        return self.claims - self.claims_unknown

    @property
    def found_share(self) -> float:
        """The share of claims stating a value that were found in a stored text, 0 to 1."""
        return self.claims_found_in_text / self.claims_stating if self.claims_stating else 0.0


def claims_found_in_text():
    """Ids of claims whose latest source check found the quote in a stored text."""
    checks = Verification.objects.filter(method=Verification.Method.SOURCE_CHECK)
    return (
        latest_values(checks, "outcome", "found_in_id")
        .filter(latest_outcome=Verification.Outcome.CONFIRMED, latest_found_in_id__isnull=False)
        .values("claim_id")
        .distinct()
    )


def catalogue_coverage() -> Coverage:
    """The figures of what the catalogue holds (retired claims aside); five queries."""
    claims = Claim.objects.exclude(status=Claim.Status.RETIRED)
    found = set(claims_found_in_text().values_list("claim_id", flat=True))
    rows = claims.values_list("pk", "provider_id", "evidence_quote", "value_flag")
    total = unknown = with_quote = found_count = 0
    per_provider: dict[int, int] = {}
    for pk, provider_id, quote, flag in rows.iterator():
        total += 1
        unknown += flag == Claim.Flag.UNKNOWN
        with_quote += bool(quote.strip())
        if pk in found:
            found_count += 1
            if provider_id is not None:
                per_provider[provider_id] = per_provider.get(provider_id, 0) + 1
    models = AIModel.objects.aggregate(
        all=Count("pk"),
        open=Count("pk", filter=Q(weights=AIModel.Weights.OPEN)),
        open_unlicensed=Count("pk", filter=Q(weights=AIModel.Weights.OPEN, licence__isnull=True)),
    )
    return Coverage(
        providers=Provider.objects.count(),
        models=models["all"],
        claims=total,
        claims_unknown=unknown,
        claims_with_quote=with_quote,
        claims_found_in_text=found_count,
        providers_evidenced=sum(n >= PROVIDER_EVIDENCE_MIN for n in per_provider.values()),
        open_weight_models=models["open"],
        open_weight_models_without_licence=models["open_unlicensed"],
        published_assessments=Assessment.objects.filter(status=Assessment.Status.PUBLISHED).count(),
    )
