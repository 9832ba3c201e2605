"""Fixtures for the web pages: the seeded catalogue, and a builder of many rows for N+1 checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from assessments.models import Assessment, AssessmentSource, Criterion, Rating, RatingEvidence
from catalog.loader import catalogue_load
from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKey,
    Comparison,
    Licence,
    Modality,
    Price,
    Provider,
    Source,
    Verification,
)


@pytest.fixture(scope="session", autouse=True)
def _pages_over_plain_http():
    # Session-wide, so the live server's middleware (built once) sees it too: the manifest
    # storage of production needs `collectstatic`, and the test servers speak plain HTTP.
    override = override_settings(
        STORAGES={
            **django_settings.STORAGES,
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
        SECURE_SSL_REDIRECT=False,
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _cold_cache():
    # Catalogue-wide figures are cached; each test starts cold so query counts are stable.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(scope="module")
def _seeded_module(django_db_setup, django_db_blocker):
    # Loading takes seconds: do it once per module inside a transaction that is rolled
    # back afterwards; each test still runs in its own savepoint on top of it.
    with django_db_blocker.unblock(), transaction.atomic():
        catalogue_load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_module, db):
    """The seeded catalogue, loaded exactly as `python manage.py load_catalogue` loads it."""
    return Provider.objects.get(slug="mistral")


class RowBuilder:
    """Adds providers, each with models, claims, checks, prices and a published assessment."""

    def __init__(self) -> None:
        self.today = timezone.localdate()
        self.licence, _ = Licence.objects.get_or_create(
            slug="test-permissive",
            defaults=dict(
                name="Test Permissive Licence",
                kind=Licence.Kind.PERMISSIVE,
                commercial_use="yes",
                self_hosting="yes",
                fine_tuning="yes",
                weight_redistribution="yes",
                attribution_required="yes",
            ),
        )
        self.keys = [
            ClaimKey.objects.get_or_create(
                key=f"test_key_{group}",
                defaults=dict(label=f"Test key {group}", group=group, value_type="flag"),
            )[0]
            for group in ("right", "constraint", "data_protection", "capability", "commercial")
        ]
        self.criteria = [
            Criterion.objects.get_or_create(
                slug=f"test-criterion-{i}",
                defaults=dict(name=f"Test criterion {i}", position=90 + i),
            )[0]
            for i in range(2)
        ]
        self.modality, _ = Modality.objects.get_or_create(slug="text", defaults={"name": "Text"})
        self.count = Provider.objects.filter(slug__startswith="bulk-").count()

    def add(self, n: int, *, models_each: int = 2, claims_each: int = 3) -> list[Provider]:
        made = []
        for _ in range(n):
            self.count += 1
            i = self.count
            provider = Provider.objects.create(
                slug=f"bulk-{i}",
                name=f"Bulk Provider {i}",
                kind="model_developer",
                headquarters_country="DE",
            )
            source = Source.objects.create(
                slug=f"bulk-source-{i}",
                url=f"https://example.test/{i}/terms",
                title=f"Terms {i}",
                publisher=f"Bulk {i}",
                provider=provider,
                doc_type="terms",
            )
            FAQ.objects.create(provider=provider, question=f"Q{i}?", answer="A.", source=source)
            for j in range(claims_each):
                claim = Claim.objects.create(
                    provider=provider,
                    key=self.keys[j % len(self.keys)],
                    value_flag="yes",
                    source=source,
                    checked_at=self.today - dt.timedelta(days=30 * j),
                    scope_plan=f"plan-{j}",
                    condition="When asked.",
                    evidence_quote="We say so.",
                )
                Verification.objects.create(
                    claim=claim, checked_at=timezone.now(), method="manual", outcome="confirmed"
                )
            previous = None
            for k in range(models_each):
                model = AIModel.objects.create(
                    provider=provider,
                    slug=f"bulk-{i}-model-{k}",
                    name=f"Bulk {i} Model {k}",
                    weights="open",
                    licence=self.licence,
                    context_window=8000,
                    successor=previous,
                )
                model.modalities.add(self.modality)
                Price.objects.create(
                    model=model,
                    input_per_mtok=Decimal("1.5"),
                    output_per_mtok=Decimal("3"),
                    as_of=self.today,
                    source=source,
                )
                Claim.objects.create(
                    model=model,
                    key=self.keys[3],
                    value_flag="yes",
                    source=source,
                    checked_at=self.today,
                )
                previous = model
            assessment = Assessment.objects.create(
                provider=provider,
                status="published",
                verdict="recommended",
                assessed_on=self.today,
                published_at=timezone.now(),
                strengths=["Good."],
            )
            AssessmentSource.objects.create(
                assessment=assessment, source=source, read_on=self.today
            )
            for criterion in self.criteria:
                rating = Rating.objects.create(
                    assessment=assessment,
                    criterion=criterion,
                    value="supported",
                    justification="Documented.",
                )
                RatingEvidence.objects.create(rating=rating, source=source, read_on=self.today)
            comparison = Comparison.objects.create(slug=f"bulk-{i}-vs", title=f"Bulk {i} compared")
            comparison.providers.add(provider)
            made.append(provider)
        return made


@pytest.fixture
def rows(db):
    return RowBuilder()
