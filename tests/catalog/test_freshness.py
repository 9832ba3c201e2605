"""Freshness is derived from the check date and ATLAS_FRESHNESS_DAYS, in Python and in SQL alike."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone

from catalog import freshness
from catalog.models import Claim

TODAY = dt.date(2026, 11, 22)


@override_settings(ATLAS_FRESHNESS_DAYS=180)
@pytest.mark.parametrize(
    ("age_days", "expected"),
    [(0, "current"), (90, "current"), (91, "ageing"), (180, "ageing"), (181, "stale")],
)
def test_freshness_flips_to_stale_past_the_window(age_days, expected):
    assert freshness.level(TODAY - dt.timedelta(days=age_days), today=TODAY) == expected


def test_a_shorter_window_makes_the_same_date_stale():
    checked = TODAY - dt.timedelta(days=40)
    with override_settings(ATLAS_FRESHNESS_DAYS=365):
        assert freshness.level(checked, today=TODAY) == "current"
    with override_settings(ATLAS_FRESHNESS_DAYS=30):
        assert freshness.level(checked, today=TODAY) == "stale"


def test_an_unchecked_fact_has_unknown_freshness():
    assert freshness.level(None) == "unknown"


@override_settings(ATLAS_FRESHNESS_DAYS=180)
def test_the_database_agrees_with_python(seeded_catalogue):
    today = timezone.localdate()
    claim = Claim.objects.filter(provider__slug="mistral").first()
    for age, expected in [(3, "current"), (120, "ageing"), (400, "stale")]:
        Claim.objects.filter(pk=claim.pk).update(checked_at=today - dt.timedelta(days=age))
        annotated = Claim.objects.with_freshness().get(pk=claim.pk)
        assert annotated.freshness_level == expected
        assert Claim.objects.get(pk=claim.pk).freshness == expected
        assert Claim.objects.fresh_as(expected).filter(pk=claim.pk).exists()


def test_an_unknown_level_is_refused():
    with pytest.raises(ValueError, match="unknown freshness level"):
        freshness.filter_q("checked_at", "mouldy")
