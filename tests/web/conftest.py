"""Fixtures for the web pages: a cold cache, and a builder of many rows for N+1 checks.

Mistral AI on the seeded catalogue (``mistral``) is the suite's own, from ``tests/conftest.py``.
"""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.factories import RowBuilder


@pytest.fixture(autouse=True)
def _cold_cache():
    # Catalogue-wide figures are cached; each test starts cold so query counts are stable.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def rows(db):
    return RowBuilder()
