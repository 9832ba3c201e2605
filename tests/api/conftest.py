"""A small catalogue shared by the API tests.

The characters (users and their API clients) are the suite's own, from ``tests/conftest.py``.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.utils import timezone

from assessments.models import Assessment
from tests.factories import Catalogue, build_catalogue, publish_assessment


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def small_catalogue(db) -> Catalogue:
    """Two providers with two models each, their claims, sources, prices and two criteria."""
    return build_catalogue()


@pytest.fixture
def assessments(small_catalogue, reviewer, other_reviewer, curator) -> Catalogue:
    """A published assessment of provider-0, and a draft of provider-1 by each reviewer."""
    cat = small_catalogue
    cat.published = publish_assessment(provider=cat.providers[0], author=curator, cat=cat)
    cat.rita_draft = Assessment.objects.create(
        provider=cat.providers[1], assessed_on=timezone.localdate(), author=reviewer
    )
    cat.oscar_draft = Assessment.objects.create(
        provider=cat.providers[1], assessed_on=timezone.localdate(), author=other_reviewer
    )
    return cat
