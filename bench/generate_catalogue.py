"""Generate a large synthetic catalogue for benchmarks.

    SECRET_KEY=bench DATABASE_URL=postgres://... python bench/generate_catalogue.py \
        --providers 500 --models-per-provider 20 --claims-per-model 20 [--claims-per-provider 0]

Creates providers, two sources per provider, models (alternating open-weight and API-only,
with licences and modalities), claims about every model (keys and values cycling through
the finder's keys), optionally claims about every provider itself (what a provider page
lists; some with a condition or a plan; these have history rows and every fourth has been
re-checked once), one price per model and a published GDPR assessment per provider with
every criterion rated. Rows are written with ``bulk_create`` and, apart from provider
claims, leave no history rows (so the changes feed has nothing to say about them). Every
slug starts with ``gen-``; running it on a database that already has them adds nothing.

Use from Python: ``generate_catalogue(providers=..., models_per_provider=...,
claims_per_model=..., claims_per_provider=...)`` returns the number of rows created per
model class.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "atlas.settings")

BATCH = 5000
FLAGS = ("yes", "no", "partial", "unknown")
KEYS = (
    ("commercial_use_allowed", "Commercial use allowed", "right"),
    ("training_use_of_input", "Inputs used for training", "data_protection"),
    ("eu_data_residency", "EU data residency", "data_protection"),
    ("fine_tuning_api", "Fine-tuning through the API", "capability"),
    ("image_input", "Image input", "capability"),
    ("audio_input", "Audio input", "capability"),
    ("zero_data_retention", "Zero data retention", "data_protection"),
    ("dpa_available", "DPA available", "data_protection"),
    ("api_available", "API available", "capability"),
    ("output_ownership", "Customer owns outputs", "right"),
)
SURFACES = ("any", "api", "enterprise", "consumer_app", "self_hosted")
# A provider's claims also vary by plan, so one provider can carry 200 distinct claims.
PLANS = ("", "enterprise")


def generate_catalogue(
    *,
    providers: int = 500,
    models_per_provider: int = 20,
    claims_per_model: int = 20,
    claims_per_provider: int = 0,
    seed: int = 20261122,
    out=print,
) -> dict[str, int]:
    """Create the synthetic catalogue unless it is there already; return rows created."""
    from django.db import transaction
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from assessments.models import Assessment, Criterion, Rating
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

    if Provider.objects.filter(slug="gen-p-0").exists():
        out("The generated catalogue is already there; nothing added.")
        _analyse()
        return {}
    if claims_per_model > len(KEYS) * 2 * len(SURFACES):
        raise ValueError("claims_per_model is larger than the distinct (key, source, surface)")
    if claims_per_provider > len(KEYS) * 2 * len(SURFACES) * len(PLANS):
        raise ValueError(
            "claims_per_provider is larger than the distinct (key, source, surface, plan)"
        )
    started = time.perf_counter()
    rng = random.Random(seed)
    today = timezone.localdate()
    created: dict[str, int] = {}

    def bulk(model, rows: list, *, history: bool = False) -> list:
        made = []
        for start in range(0, len(rows), BATCH):
            batch = rows[start : start + BATCH]
            if history:
                made += bulk_create_with_history(batch, model, batch_size=BATCH)
            else:
                made += model.objects.bulk_create(batch)
        created[model.__name__] = created.get(model.__name__, 0) + len(rows)
        return made

    with transaction.atomic():
        modalities = [
            Modality.objects.get_or_create(slug=slug, defaults={"name": slug.title()})[0]
            for slug in ("text", "image", "audio", "code")
        ]
        keys = [
            ClaimKey.objects.get_or_create(
                key=key, defaults={"label": label, "group": group, "value_type": "flag"}
            )[0]
            for key, label, group in KEYS
        ]
        licences = [
            Licence.objects.get_or_create(
                slug=f"gen-licence-{kind}",
                defaults={
                    "name": f"Generated {kind} licence",
                    "kind": kind,
                    "url": f"https://licences.example/{kind}",
                    "commercial_use": commercial,
                    "self_hosting": "yes" if kind != "proprietary" else "no",
                    "fine_tuning": commercial,
                    "weight_redistribution": commercial,
                    "attribution_required": "yes",
                },
            )[0]
            for kind, commercial in (
                ("permissive", "yes"),
                ("open_weights_restricted", "conditional"),
                ("research_only", "no"),
                ("proprietary", "yes"),
            )
        ]
        criteria = list(Criterion.objects.all()) or [
            Criterion.objects.create(slug=f"gen-criterion-{n}", name=f"Criterion {n}", position=n)
            for n in range(8)
        ]
        provider_rows = bulk(
            Provider,
            [
                Provider(
                    slug=f"gen-p-{p}",
                    name=f"Generated Provider {p:04d}",
                    kind=("model_developer", "api_platform", "hosting_layer")[p % 3],
                    headquarters_country=("FR", "DE", "US", "GB", "CN")[p % 5],
                    website=f"https://gen-p-{p}.example",
                    summary=f"Synthetic provider number {p} for benchmarks.",
                )
                for p in range(providers)
            ],
        )
        source_rows = bulk(
            Source,
            [
                Source(
                    slug=f"gen-p-{p}-{doc}",
                    url=f"https://gen-p-{p}.example/{doc}",
                    title=f"{doc.title()} of provider {p}",
                    publisher=provider.name,
                    provider=provider,
                    doc_type=doc,
                )
                for p, provider in enumerate(provider_rows)
                for doc in ("terms", "privacy")
            ],
        )
        model_rows = bulk(
            AIModel,
            [
                AIModel(
                    provider=provider,
                    slug=f"gen-m-{p}-{m}",
                    name=f"Generated Model {p:04d}.{m:02d}",
                    family=f"family-{m % 4}",
                    weights="open" if m % 2 == 0 else "api_only",
                    licence=licences[(p + m) % len(licences)] if m % 2 == 0 else licences[3],
                    context_window=8192 * (1 + m % 16),
                    release_date=today - dt.timedelta(days=rng.randrange(1, 900)),
                )
                for p, provider in enumerate(provider_rows)
                for m in range(models_per_provider)
            ],
        )
        through = AIModel.modalities.through
        bulk(
            through,
            [
                through(aimodel_id=model.pk, modality_id=modality.pk)
                for n, model in enumerate(model_rows)
                for modality in modalities[: 1 + n % len(modalities)]
            ],
        )
        combos = [
            (key, source_index, surface)
            for surface in SURFACES
            for source_index in (0, 1)
            for key in keys
        ]
        claims = []
        for n, model in enumerate(model_rows):
            p = n // models_per_provider
            for key, source_index, surface in combos[:claims_per_model]:
                claims.append(
                    Claim(
                        model=model,
                        key=key,
                        value_flag=FLAGS[rng.randrange(len(FLAGS))],
                        scope_surface=surface,
                        source=source_rows[2 * p + source_index],
                        evidence_quote=f"Section {rng.randrange(1, 40)} of the document says so.",
                        checked_at=today - dt.timedelta(days=rng.randrange(0, 400)),
                    )
                )
            if len(claims) >= BATCH * 4:
                bulk(Claim, claims)
                claims = []
        bulk(Claim, claims)
        provider_combos = [
            (key, source_index, surface, plan)
            for plan in PLANS
            for surface in SURFACES
            for source_index in (0, 1)
            for key in keys
        ]
        claims = []
        provider_claims = []
        for p, provider in enumerate(provider_rows):
            for n, (key, source_index, surface, plan) in enumerate(
                provider_combos[:claims_per_provider]
            ):
                claims.append(
                    Claim(
                        provider=provider,
                        key=key,
                        value_flag=FLAGS[rng.randrange(len(FLAGS))],
                        scope_surface=surface,
                        scope_plan=plan,
                        condition="Only under a signed agreement." if n % 7 == 3 else "",
                        source=source_rows[2 * p + source_index],
                        evidence_quote=f"Clause {rng.randrange(1, 40)} of the document says so.",
                        checked_at=today - dt.timedelta(days=rng.randrange(0, 400)),
                    )
                )
            if len(claims) >= BATCH * 4:
                provider_claims += bulk(Claim, claims, history=True)
                claims = []
        if claims:
            provider_claims += bulk(Claim, claims, history=True)
        # Every fourth provider claim has been re-checked once, so a provider page shows
        # verification histories as a real one does.
        if provider_claims:
            bulk(
                Verification,
                [
                    Verification(
                        claim=claim,
                        checked_at=timezone.now(),
                        method="source_check",
                        outcome="confirmed",
                    )
                    for claim in provider_claims[::4]
                ],
            )
        bulk(
            Price,
            [
                Price(
                    model=model,
                    input_per_mtok=Decimal(rng.randrange(5, 2000)) / 100,
                    output_per_mtok=Decimal(rng.randrange(10, 6000)) / 100,
                    as_of=today,
                    source=source_rows[2 * (n // models_per_provider)],
                )
                for n, model in enumerate(model_rows)
            ],
        )
        now = timezone.now()
        assessment_rows = bulk(
            Assessment,
            [
                Assessment(
                    provider=provider,
                    status="published",
                    verdict=("recommended", "conditional", "not_recommended")[p % 3],
                    assessed_on=today,
                    published_at=now,
                )
                for p, provider in enumerate(provider_rows)
            ],
        )
        bulk(
            Rating,
            [
                Rating(
                    assessment=assessment,
                    criterion=criterion,
                    value=("supported", "partial", "not_supported", "unknown")[(a + c) % 4],
                )
                for a, assessment in enumerate(assessment_rows)
                for c, criterion in enumerate(criteria)
            ],
        )
    out(
        "Generated "
        + ", ".join(f"{count:,} {name}" for name, count in created.items())
        + f" in {time.perf_counter() - started:.0f} s."
    )
    _analyse()
    return created


def _analyse() -> None:
    """Give PostgreSQL's planner statistics of the tables as they now are.

    A production database gets them from autovacuum; a freshly bulk-loaded one, or a server
    running without autovacuum, plans every query on default guesses, which can pick a scan
    of the whole history where an index would answer in microseconds.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--providers", type=int, default=500)
    parser.add_argument("--models-per-provider", type=int, default=20)
    parser.add_argument("--claims-per-model", type=int, default=20)
    parser.add_argument("--claims-per-provider", type=int, default=0)
    parser.add_argument("--seed", type=int, default=20261122)
    args = parser.parse_args(argv)
    for name in ("providers", "models_per_provider", "claims_per_model"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.claims_per_provider < 0:
        parser.error("--claims-per-provider must be at least 0")

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    generate_catalogue(
        providers=args.providers,
        models_per_provider=args.models_per_provider,
        claims_per_model=args.claims_per_model,
        claims_per_provider=args.claims_per_provider,
        seed=args.seed,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
