"""Every page links to the API's documentation and the exports, from its footer."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

LINKS = ["/api/docs/", "/api/v1/exports/catalogue.json", "/api/v1/exports/claims.csv"]


@pytest.mark.parametrize(
    "url",
    ["/", "/providers/provider-0/", "/licences/", "/compare/", "/accounts/login/"],
)
def test_every_pages_footer_links_the_api_docs_and_the_exports(small_catalogue, url):
    response = Client().get(url)
    assert response.status_code == 200
    footer = response.content.decode().split('<footer class="site">', 1)[1]
    for link in LINKS:
        assert f'href="{link}"' in footer, link


def test_the_linked_addresses_are_the_apis():
    assert [
        reverse("api:docs"),
        reverse("api:v1:export-json"),
        reverse("api:v1:export-claims"),
    ] == LINKS
