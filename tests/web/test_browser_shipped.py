"""An officer on the shipped catalogue: the home page says what it holds, and a provider other
than Mistral AI has a published GDPR rating, in a real Chromium; screenshots in
artifacts/screenshots/."""

from __future__ import annotations

import pytest

from assessments.models import Assessment
from catalog.catalogue_file import DEFAULT_CATALOGUE
from catalog.loader import catalogue_load
from tests.factories import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_officer_finds_a_provider_other_than_mistral_with_a_published_gdpr_rating(
    browser_page, live_server
):
    page = browser_page
    catalogue_load(path=DEFAULT_CATALOGUE)
    published = Assessment.objects.filter(status=Assessment.Status.PUBLISHED).exclude(
        provider__slug="mistral"
    )
    assert published.count() >= 9
    assessment = published.select_related("provider").get(provider__slug="berget-ai")

    page.goto(live_server.url + "/")
    holds = page.locator("dl.coverage")
    assert int(holds.locator("#cov-providers").inner_text()) >= 40
    assert int(holds.locator("#cov-assessments").inner_text()) >= 10
    holds.scroll_into_view_if_needed()
    shot(page, "shipped-01-home-what-the-catalogue-holds")

    page.goto(f"{live_server.url}/providers/{assessment.provider.slug}/")
    body = page.locator("main").inner_text()
    assert assessment.provider.name in body
    assert assessment.get_verdict_display() in body
    assert "Atlas" in assessment.conclusion
    shot(page, "shipped-02-provider-gdpr-rating", full_page=True)
    assert page.outside_requests == [], "the pages fetched something from outside"
