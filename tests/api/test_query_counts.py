"""Every list endpoint runs a fixed number of queries whatever the page size (no N+1)."""

from __future__ import annotations

import pytest

from tests.factories import build_catalogue, publish_assessment

pytestmark = pytest.mark.django_db

# Queries per list request, pinned: the page, then one per prefetched relation.
EXPECTED = {
    "/api/v1/providers": 2,  # providers with model count; published assessments
    "/api/v1/models": 2,  # models with provider, licence, successor; modalities
    "/api/v1/licences": 2,  # licences; their terms with sources
    "/api/v1/claims": 2,  # claims with key, source, subject; verifications
    "/api/v1/claim-keys": 1,
    "/api/v1/sources": 1,
    "/api/v1/prices": 1,
    "/api/v1/criteria": 1,
    # These two read the user's roles first (one query), as visibility depends on them.
    "/api/v1/assessments": 5,  # roles; assessments; ratings with criterion; evidence; sources
    "/api/v1/claim-corrections": 2,  # roles; corrections with claim, author, source
}


@pytest.fixture
def big(curator):
    cat = build_catalogue(providers=4, models_per_provider=3)
    for provider in cat.providers:
        publish_assessment(provider=provider, author=curator, cat=cat)
    from assessments.models import ClaimCorrection, Criterion
    from catalog.models import ClaimKey, Licence

    for n in range(3):
        Criterion.objects.create(slug=f"extra-{n}", name=f"Extra {n}", position=10 + n)
        ClaimKey.objects.create(
            key=f"extra_{n}", label=f"Extra {n}", group="right", value_type="flag"
        )
        Licence.objects.create(
            slug=f"extra-{n}",
            name=f"Extra {n}",
            kind="proprietary",
            commercial_use="no",
            self_hosting="no",
            fine_tuning="no",
            weight_redistribution="no",
            attribution_required="no",
        )

    for claim in cat.claims[:6]:
        ClaimCorrection.objects.create(claim=claim, author=curator, reason="typo", condition="x")
    return cat


@pytest.mark.parametrize("url", sorted(EXPECTED))
def test_a_list_runs_the_same_number_of_queries_at_two_page_sizes(
    url, big, curator, django_assert_num_queries
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=curator)
    expected = EXPECTED[url]
    for page_size in (2, 4):
        curator._atlas_roles = None
        with django_assert_num_queries(expected):
            response = client.get(url, {"page_size": page_size})
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == page_size, url


def test_the_claims_changed_since_a_moment_take_as_many_queries_as_the_whole_list(
    big, curator, django_assert_num_queries
):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(user=curator)
    for page_size in (2, 4):
        params = {"updated_since": "2000-01-01T00:00:00Z", "page_size": page_size}
        with django_assert_num_queries(EXPECTED["/api/v1/claims"]):
            response = client.get("/api/v1/claims", params)
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == page_size


@pytest.mark.parametrize("subject", ["assessments", "claim-corrections"])
def test_a_moderation_thread_runs_the_same_number_of_queries_at_two_page_sizes(
    subject, big, reviewer, curator, django_assert_num_queries
):
    from rest_framework.test import APIClient

    from assessments.models import Assessment, ClaimCorrection
    from assessments.services.moderation import thread_comment

    if subject == "assessments":
        record = Assessment.objects.create(
            provider=big.providers[0], assessed_on="2026-03-01", author=reviewer, status="submitted"
        )
        comment, about = thread_comment, {"assessment": record}
    else:
        record = ClaimCorrection.objects.create(
            claim=big.claims[0], author=reviewer, reason="typo", condition="y"
        )
        comment, about = thread_comment, {"correction": record}
    for n in range(6):
        comment(user=curator if n % 2 else reviewer, text=f"Note {n}.", **about)
    client = APIClient()
    client.force_authenticate(user=curator)
    for page_size in (2, 4):
        curator._atlas_roles = None
        # Roles; the record, through the selector that decides who reads its thread; the
        # page of notes with their authors.
        with django_assert_num_queries(3):
            response = client.get(f"/api/v1/{subject}/{record.pk}/notes", {"page_size": page_size})
        assert response.status_code == 200, response.content
        assert len(response.json()["results"]) == page_size
