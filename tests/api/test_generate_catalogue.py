from __future__ import annotations

import pytest

from assessments.models import Assessment
from bench.generate_catalogue import generate_catalogue
from catalog.models import AIModel, Claim, Price, Provider

pytestmark = pytest.mark.django_db


def test_the_generator_makes_the_requested_catalogue_once(client):
    created = generate_catalogue(providers=3, models_per_provider=4, claims_per_model=5, out=str)
    assert created["Provider"] == 3
    assert (AIModel.objects.count(), Claim.objects.count(), Price.objects.count()) == (12, 60, 12)
    assert Assessment.objects.filter(status="published").count() == 3
    assert generate_catalogue(providers=3, out=str) == {}
    assert Provider.objects.count() == 3


def test_the_generated_catalogue_is_valid_for_the_api(anon):
    generate_catalogue(providers=2, models_per_provider=2, claims_per_model=3, out=str)
    response = anon.get("/api/v1/models/gen-m-1-1")
    assert response.status_code == 200
    assert len(response.json()["claims"]) == 3


def test_providers_can_have_claims_of_their_own_with_history_and_checks():
    from catalog.models import Verification

    created = generate_catalogue(
        providers=2, models_per_provider=1, claims_per_model=1, claims_per_provider=200, out=str
    )
    assert created["Claim"] == 2 + 2 * 200
    big = Provider.objects.get(slug="gen-p-0")
    claims = Claim.objects.filter(provider=big)
    assert claims.count() == 200
    assert claims.exclude(condition="").exists() and claims.exclude(scope_plan="").exists()
    assert Claim.history.filter(provider_id=big.pk).count() == 200
    assert Verification.objects.filter(claim__provider=big).count() == 50


def test_more_provider_claims_than_distinct_ones_are_refused():
    with pytest.raises(ValueError, match="claims_per_provider"):
        generate_catalogue(providers=1, claims_per_provider=201, out=str)
