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
