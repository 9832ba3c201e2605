"""The plain home page lists the catalogue with licences and verdicts."""

from __future__ import annotations

from catalog.models import AIModel, Provider


def test_the_home_page_lists_providers_and_models_with_licence_and_verdict(
    seeded_catalogue, client
):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Mistral AI" in html and "Anthropic" in html
    assert "Mixtral 8x7B" in html
    assert "Apache License 2.0" in html
    assert "Conditional" in html
    assert "Not yet rated" in html


def test_the_home_page_query_count_does_not_grow_with_rows(
    seeded_catalogue, client, django_assert_max_num_queries
):
    # Catalogue-wide figures (4 for the cache stamp + 13 when not cached), two lists paged,
    # the model facet counts, and with a search text the matching providers, licences
    # and claims.
    with django_assert_max_num_queries(26):
        client.get("/", {"q": "Extra"})
    provider = Provider.objects.get(slug="mistral")
    for index in range(30):
        AIModel.objects.create(provider=provider, slug=f"extra-{index}", name=f"Extra {index}")
    with django_assert_max_num_queries(26):
        response = client.get("/", {"q": "Extra"})
    assert "Extra 29" in response.content.decode()


def test_the_verdicts_chart_says_so_when_no_provider_is_catalogued(client, db):
    response = client.get("/")
    assert response.status_code == 200
    assert "No provider catalogued yet." in response.content.decode()
    assert 'aria-labelledby="verdicts-title verdicts-desc"' not in response.content.decode()
