"""A small catalogue shared by the API tests.

The characters (users and their API clients) are the suite's own, from ``tests/conftest.py``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.utils import timezone

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
from tests.conftest import make_user

__all__ = [
    "build_catalogue",
    "complete_body",
    "complete_draft",
    "make_user",
    "publish_assessment",
]


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets():
    cache.clear()
    yield
    cache.clear()


class Catalogue:
    """Handles on the records of the small test catalogue."""


def build_catalogue(*, models_per_provider: int = 2, providers: int = 2) -> Catalogue:
    today = timezone.localdate()
    cat = Catalogue()
    text = Modality.objects.get_or_create(slug="text", defaults={"name": "Text"})[0]
    image = Modality.objects.get_or_create(slug="image", defaults={"name": "Image"})[0]
    cat.apache = Licence.objects.create(
        slug="apache-2-0",
        spdx_id="Apache-2.0",
        name="Apache 2.0",
        kind=Licence.Kind.PERMISSIVE,
        url="https://www.apache.org/licenses/LICENSE-2.0",
        permissions=["commercial-use", "modifications", "distribution"],
        commercial_use="yes",
        self_hosting="yes",
        fine_tuning="yes",
        weight_redistribution="yes",
        attribution_required="yes",
    )
    cat.proprietary = Licence.objects.create(
        slug="acme-terms",
        name="Acme terms",
        kind=Licence.Kind.PROPRIETARY,
        commercial_use="yes",
        self_hosting="no",
        fine_tuning="no",
        weight_redistribution="no",
        attribution_required="no",
    )
    cat.commercial = ClaimKey.objects.create(
        key="commercial_use_allowed",
        label="Commercial use allowed",
        group="right",
        value_type="flag",
    )
    cat.training = ClaimKey.objects.create(
        key="training_use_of_input",
        label="Inputs used for training",
        group="data_protection",
        value_type="flag",
    )
    cat.eu = ClaimKey.objects.create(
        key="eu_data_residency",
        label="EU data residency",
        group="data_protection",
        value_type="flag",
    )
    cat.criterion = Criterion.objects.create(slug="dpa", name="DPA offered", position=1)
    cat.criterion2 = Criterion.objects.create(slug="transfers", name="Transfers", position=2)
    cat.providers, cat.models, cat.claims, cat.sources = [], [], [], []
    for p in range(providers):
        provider = Provider.objects.create(
            slug=f"provider-{p}",
            name=f"Provider {p}",
            kind=Provider.Kind.MODEL_DEVELOPER if p % 2 == 0 else Provider.Kind.API_PLATFORM,
            headquarters_country="FR" if p % 2 == 0 else "US",
        )
        source = Source.objects.create(
            slug=f"provider-{p}-terms",
            url=f"https://provider-{p}.example/terms",
            title=f"Provider {p} terms",
            publisher=f"Provider {p}",
            provider=provider,
            doc_type=Source.DocType.TERMS,
        )
        cat.providers.append(provider)
        cat.sources.append(source)
        cat.claims.append(
            Claim.objects.create(
                provider=provider,
                key=cat.eu,
                value_flag="yes" if p % 2 == 0 else "no",
                source=source,
                evidence_quote="Data stays in the EU.",
                checked_at=today - dt.timedelta(days=10 + 200 * (p % 2)),
            )
        )
        cat.claims.append(
            Claim.objects.create(
                provider=provider,
                key=cat.training,
                value_flag="no",
                source=source,
                evidence_quote="We do not train on your inputs.",
                checked_at=today - dt.timedelta(days=10),
            )
        )
        for m in range(models_per_provider):
            open_weights = m % 2 == 0
            model = AIModel.objects.create(
                provider=provider,
                slug=f"model-{p}-{m}",
                name=f"Model {p}.{m}",
                weights=AIModel.Weights.OPEN if open_weights else AIModel.Weights.API_ONLY,
                licence=cat.apache if open_weights else cat.proprietary,
                context_window=32000,
            )
            model.modalities.add(text, *([image] if m % 2 else []))
            claim = Claim.objects.create(
                model=model,
                key=cat.commercial,
                value_flag="yes",
                source=source,
                evidence_quote="You may use the outputs commercially.",
                checked_at=today - dt.timedelta(days=5),
            )
            Verification.objects.create(
                claim=claim,
                checked_at=timezone.now(),
                method=Verification.Method.SOURCE_CHECK,
                outcome=Verification.Outcome.CONFIRMED,
            )
            Price.objects.create(
                model=model,
                input_per_mtok=Decimal("0.5") * (m + 1),
                output_per_mtok=Decimal("1.5") * (m + 1),
                as_of=today,
                source=source,
            )
            cat.models.append(model)
            cat.claims.append(claim)
    return cat


def publish_assessment(*, provider: Provider, author: User | None, cat: Catalogue) -> Assessment:
    assessment = Assessment.objects.create(
        provider=provider,
        status=Assessment.Status.PUBLISHED,
        verdict=Assessment.Verdict.RECOMMENDED,
        assessed_on=timezone.localdate(),
        author=author,
        published_at=timezone.now(),
    )
    rating = Rating.objects.create(
        assessment=assessment, criterion=cat.criterion, value="supported"
    )
    RatingEvidence.objects.create(
        rating=rating,
        source=cat.sources[0],
        quote="A DPA is offered.",
        read_on=timezone.localdate(),
    )
    return assessment


@pytest.fixture
def catalogue(db) -> Catalogue:
    return build_catalogue()


@pytest.fixture
def assessments(catalogue, reviewer, other_reviewer, curator) -> Catalogue:
    """A published assessment of provider-0, and a draft of provider-1 by each reviewer."""
    cat = catalogue
    cat.published = publish_assessment(provider=cat.providers[0], author=curator, cat=cat)
    cat.rita_draft = Assessment.objects.create(
        provider=cat.providers[1], assessed_on=timezone.localdate(), author=reviewer
    )
    cat.oscar_draft = Assessment.objects.create(
        provider=cat.providers[1], assessed_on=timezone.localdate(), author=other_reviewer
    )
    return cat


def complete_body(*, cat: Catalogue, provider: int = 1) -> dict:
    """A request body for a draft complete enough to submit: a verdict, a conclusion, the
    server locations and every criterion rated, justified and evidenced with a quote."""
    source = cat.sources[provider].slug
    read_on = timezone.localdate().isoformat()
    return {
        "provider": cat.providers[provider].slug,
        "assessed_on": read_on,
        "verdict": "conditional",
        "conclusion": "Usable with a DPA.",
        "server_locations": "France",
        "ratings": [
            {
                "criterion": criterion.slug,
                "value": value,
                "justification": f"{criterion.name}: read in the terms.",
                "evidence": [{"source": source, "quote": quote, "read_on": read_on}],
            }
            for criterion, value, quote in (
                (cat.criterion, "supported", "We sign DPAs."),
                (cat.criterion2, "partial", "Transfers rely on standard clauses."),
            )
        ],
    }


def complete_draft(
    *, cat: Catalogue, author: User, provider: int = 1, status: str = Assessment.Status.DRAFT
) -> Assessment:
    """The same complete draft as ``complete_body``, written directly, in ``status``."""
    body = complete_body(cat=cat, provider=provider)
    assessment = Assessment.objects.create(
        provider=cat.providers[provider],
        author=author,
        status=status,
        assessed_on=timezone.localdate(),
        verdict=body["verdict"],
        conclusion=body["conclusion"],
        server_locations=body["server_locations"],
    )
    for criterion, rating in zip((cat.criterion, cat.criterion2), body["ratings"], strict=True):
        saved = Rating.objects.create(
            assessment=assessment,
            criterion=criterion,
            value=rating["value"],
            justification=rating["justification"],
        )
        RatingEvidence.objects.create(
            rating=saved,
            source=cat.sources[provider],
            quote=rating["evidence"][0]["quote"],
            read_on=timezone.localdate(),
        )
    return assessment
