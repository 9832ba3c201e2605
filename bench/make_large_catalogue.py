"""Fill the configured database with a large synthetic catalogue for the page benchmark.

    SECRET_KEY=bench DATABASE_URL=postgres://... python bench/make_large_catalogue.py

Adds, on top of the seeded catalogue (loaded first so the real claim keys, criteria
and licences exist): 500 providers, 10,000 models (20 each), 200,000 claims (200 per
provider and 10 per model), one check for every fourth claim, a price per model, five
sources per provider and a published GDPR assessment per provider with every criterion
rated. Claims, ratings and assessments get history rows, as real edits would, so the
"What changed" reads have something to read. Every name starts with "bench-" so the
rows are easy to tell apart; running it twice adds nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")

PROVIDERS = 500
MODELS_PER_PROVIDER = 20
CLAIMS_PER_PROVIDER = 200
CLAIMS_PER_MODEL = 10
BATCH = 5000


def generate(*, providers: int = PROVIDERS, out=print) -> None:
    """Create the synthetic rows unless they are already there."""
    from django.db import transaction
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from assessments.models import Assessment, Criterion, Rating, RatingEvidence
    from catalog.models import (
        AIModel,
        Claim,
        ClaimKey,
        Licence,
        Modality,
        Price,
        Provider,
        Source,
        Verification,
    )
    from catalog.services import catalogue_load

    if Provider.objects.filter(slug="bench-p-1").exists():
        out("Large catalogue already present; nothing added.")
        return
    started = time.perf_counter()
    catalogue_load()
    rng = random.Random(20260418)
    today = timezone.localdate()
    keys = list(ClaimKey.objects.filter(value_type="flag"))
    criteria = list(Criterion.objects.filter(active=True))
    licences = list(Licence.objects.all())
    text = Modality.objects.get(slug="text")
    kinds = ["model_developer", "api_platform", "hosting_layer"]
    flags = ["yes", "no", "partial", "unknown"]
    surfaces = ["any", "api", "enterprise", "consumer_app"]

    with transaction.atomic():
        provider_rows = Provider.objects.bulk_create(
            [
                Provider(
                    slug=f"bench-p-{i}",
                    name=f"Bench Provider {i:04d}",
                    kind=kinds[i % 3],
                    headquarters_country=["FR", "DE", "US", "CN", "GB"][i % 5],
                    website=f"https://bench-{i}.example",
                    summary=f"Synthetic provider number {i} for the page benchmark.",
                    analysis="Synthetic analysis. " * 20,
                )
                for i in range(1, providers + 1)
            ],
            batch_size=BATCH,
        )
        sources = Source.objects.bulk_create(
            [
                Source(
                    slug=f"bench-s-{p.pk}-{j}",
                    url=f"https://bench-{p.pk}.example/doc-{j}",
                    title=f"Document {j} of {p.name}",
                    publisher=p.name,
                    provider=p,
                    doc_type=["terms", "privacy", "dpa", "documentation", "pricing"][j],
                )
                for p in provider_rows
                for j in range(5)
            ],
            batch_size=BATCH,
        )
        by_provider: dict[int, list[Source]] = {}
        for source in sources:
            by_provider.setdefault(source.provider_id, []).append(source)

        models = AIModel.objects.bulk_create(
            [
                AIModel(
                    provider=p,
                    slug=f"bench-m-{p.pk}-{k}",
                    name=f"Bench Model {p.pk}-{k}",
                    family=f"Family {k % 4}",
                    weights=["open", "api_only", "unknown"][k % 3],
                    licence=licences[(p.pk + k) % len(licences)] if k % 5 else None,
                    context_window=8000 * (1 + k % 16),
                )
                for p in provider_rows
                for k in range(MODELS_PER_PROVIDER)
            ],
            batch_size=BATCH,
        )
        AIModel.modalities.through.objects.bulk_create(
            [AIModel.modalities.through(aimodel_id=m.pk, modality_id=text.pk) for m in models],
            batch_size=BATCH,
        )
        Price.objects.bulk_create(
            [
                Price(
                    model=m,
                    input_per_mtok=Decimal(rng.randint(5, 1500)) / 100,
                    output_per_mtok=Decimal(rng.randint(10, 6000)) / 100,
                    as_of=today - dt.timedelta(days=rng.randint(0, 300)),
                    source=by_provider[m.provider_id][4],
                )
                for m in models
                if m.weights != "open"
            ],
            batch_size=BATCH,
        )
        out(f"providers, sources, models, prices: {time.perf_counter() - started:.1f} s")

        def claim(**subject) -> Claim:
            provider_id = subject.get("provider").pk if "provider" in subject else None
            owner = provider_id or subject["model"].provider_id
            return Claim(
                key=keys[rng.randrange(len(keys))],
                value_flag=flags[rng.randrange(4)],
                source=by_provider[owner][rng.randrange(5)],
                checked_at=today - dt.timedelta(days=rng.randint(0, 400)),
                condition=rng.choice(["", "", "On the enterprise plan.", "For API traffic."]),
                evidence_quote="The synthetic source says so in so many words.",
                **subject,
            )

        claims: list[Claim] = []
        for p in provider_rows:
            seen: set[tuple] = set()
            target = len(claims) + CLAIMS_PER_PROVIDER
            while len(claims) < target:
                c = claim(provider=p)
                c.scope_surface = surfaces[rng.randrange(4)]
                c.scope_plan = f"plan-{rng.randrange(6)}"
                natural = (c.key.pk, c.source.pk, c.scope_surface, c.scope_plan)
                if natural in seen:
                    continue
                seen.add(natural)
                claims.append(c)
        for m in models:
            for n in range(CLAIMS_PER_MODEL):
                c = claim(model=m)
                c.scope_plan = f"plan-{n}"
                claims.append(c)
        claims = bulk_create_with_history(claims, Claim, batch_size=BATCH)
        out(f"{len(claims)} claims with history: {time.perf_counter() - started:.1f} s")
        now = timezone.now()
        Verification.objects.bulk_create(
            [
                Verification(claim=c, checked_at=now, method="source_check", outcome="confirmed")
                for c in claims[::4]
            ],
            batch_size=BATCH,
        )
        assessments = bulk_create_with_history(
            [
                Assessment(
                    provider=p,
                    status="published",
                    verdict=["recommended", "conditional", "not_recommended"][p.pk % 3],
                    assessed_on=today - dt.timedelta(days=p.pk % 300),
                    published_at=now,
                    conclusion="Synthetic conclusion.",
                    server_locations="EU and US.",
                    strengths=["One strength."],
                    weaknesses=["One weakness."],
                )
                for p in provider_rows
            ],
            Assessment,
            batch_size=BATCH,
        )
        ratings = bulk_create_with_history(
            [
                Rating(
                    assessment=a,
                    criterion=c,
                    value=["supported", "partial", "not_supported", "unknown"][rng.randrange(4)],
                    justification="Synthetic justification.",
                )
                for a in assessments
                for c in criteria
            ],
            Rating,
            batch_size=BATCH,
        )
        RatingEvidence.objects.bulk_create(
            [
                RatingEvidence(
                    rating=r,
                    source=by_provider[r.assessment.provider_id][1],
                    read_on=today,
                )
                for r in ratings
            ],
            batch_size=BATCH,
        )
    out(
        f"Large catalogue added in {time.perf_counter() - started:.1f} s: "
        f"{len(provider_rows)} providers, {len(models)} models, {len(claims)} claims."
    )


if __name__ == "__main__":
    import django

    django.setup()
    generate()
