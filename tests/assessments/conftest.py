"""Characters and a submitted assessment of Mistral AI shared by the moderation tests."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.db import transaction
from django.test import override_settings

from assessments.models import Assessment, Rating, RatingEvidence
from assessments.services.assessments import (
    assessment_start,
    assessment_submit,
    evidence_source_for_url,
)
from catalog.loader import catalogue_load
from catalog.models import Provider
from tests.conftest import make_user

CHANGED_CRITERION = "eu-saas"
EVIDENCE_URL = "https://docs.mistral.ai/deployment/eu-residency"


@pytest.fixture(scope="session", autouse=True)
def _live_server_over_plain_http():
    # Session-wide, so the live server's middleware (built once) sees it: the test server
    # speaks plain HTTP and serves static files without `collectstatic`.
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


@pytest.fixture
def second_curator(db):
    return make_user("cora-curator", "curator")


@pytest.fixture(scope="module")
def _seeded_module(django_db_setup, django_db_blocker):
    # Loading takes seconds: once per module inside a transaction rolled back afterwards;
    # each test still runs in its own savepoint on top of it.
    with django_db_blocker.unblock(), transaction.atomic():
        catalogue_load()
        yield
        transaction.set_rollback(True)


@pytest.fixture
def mistral(_seeded_module, db) -> Provider:
    """Mistral AI in the seeded catalogue, with its published assessment."""
    return Provider.objects.get(slug="mistral")


def published_of(provider: Provider) -> Assessment:
    return Assessment.objects.get(provider=provider, status=Assessment.Status.PUBLISHED)


def amend_one_criterion(draft: Assessment, *, value: str = "supported") -> Rating:
    """Change one criterion of a pre-filled draft, with new evidence, as a reviewer would."""
    rating = draft.ratings.get(criterion__slug=CHANGED_CRITERION)
    rating.value = value
    rating.justification = "The EU residency page now binds all API data to EU data centres."
    rating.save()
    source = evidence_source_for_url(url=EVIDENCE_URL, provider=draft.provider)
    RatingEvidence.objects.create(
        rating=rating,
        source=source,
        quote="All customer data of La Plateforme is stored and processed in the EU.",
        read_on=draft.assessed_on,
    )
    return rating


@pytest.fixture
def submission(mistral, reviewer) -> Assessment:
    draft = assessment_start(author=reviewer, provider=mistral)
    amend_one_criterion(draft)
    draft.refresh_from_db()
    return assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)
