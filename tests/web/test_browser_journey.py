"""The compliance officer's journey, driven in a real Chromium on the seeded catalogue.

Screenshots of every step land in artifacts/screenshots/ (git-ignored) for a person
to look at. Every request the browser makes must go to the test server: the one
external source link opened is answered inside the browser, never fetched.
"""

from __future__ import annotations

import re

import pytest

from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import AIModel, Licence, Provider
from tests.factories import SHOTS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The seed's open-weight Mistral models, all under Apache 2.0.
APACHE_MODELS = sorted(
    ["Ministral 3 14B", "Ministral 3 3B", "Ministral 3 8B", "Mistral 7B", "Mistral Nemo 12B",
     "Mixtral 8x22B", "Mixtral 8x7B"]
)  # fmt: skip


def test_an_officer_decides_whether_she_may_use_a_model(browser_page, live_server):
    page = browser_page
    catalogue_load(path=SEED_CATALOGUE)
    # Test data only, never in the seed: an open-weight model under a research-only licence.
    AIModel.objects.create(
        provider=Provider.objects.get(slug="mistral"),
        slug="test-only-research-model",
        name="Test-only Research Model",
        weights="open",
        licence=Licence.objects.get(slug="mistral-research-licence"),
    )

    # 1. Search "Mistral" from the home page, with the keyboard.
    page.goto(live_server.url + "/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.get_by_label("Search providers, models, licences and claims").fill("Mistral")
    page.get_by_label("Search providers, models, licences and claims").press("Enter")
    page.wait_for_url("**/?q=Mistral")
    assert page.get_by_role("heading", name="Results for “Mistral”").is_visible()
    providers = page.locator("section[aria-labelledby=providers-h] tbody th a")
    assert "Mistral AI" in providers.all_inner_texts()
    shot(page, "01-search-mistral")

    # 2. Open the provider.
    providers.filter(has_text="Mistral AI").click()
    page.wait_for_url("**/providers/mistral/")
    assert page.get_by_role("heading", name="Mistral AI", level=1).is_visible()
    shot(page, "02-provider-mistral")

    # 3. Read the GDPR card: every criterion, each with a mark in words, and the verdict.
    card = page.locator("#gdpr")
    card.scroll_into_view_if_needed()
    assert "Overall verdict: ◐ Conditional" in card.inner_text()
    rows = card.locator("table.criteria tbody tr")
    assert rows.count() == 8
    for i in range(8):
        mark = rows.nth(i).locator("td").first.inner_text()
        assert mark.split(" ", 1)[1] in {"Supported", "Partial", "Not supported", "Unknown"}
    for name in ("On-prem / local hosting", "DPA / AVV", "Zero data retention"):
        assert card.get_by_role("rowheader", name=name).count() == 1
    card.screenshot(path=str(SHOTS / "03-gdpr-card.png"))

    # 4. Open a source link: the claim's source, as cited.
    link = page.locator("#claims a", has_text="Mistral AI Terms of Service").first
    href = link.get_attribute("href")
    assert href == "https://mistral.ai/terms/#terms-of-use"
    link.click()
    page.wait_for_url(href)
    assert page.get_by_role("heading", name="External source").is_visible()
    fetched = href.split("#")[0]  # the fragment never goes on the wire
    assert page.outside_requests == [fetched]
    shot(page, "04-source-opened")
    page.go_back()
    page.wait_for_url("**/providers/mistral/")

    # 5. Models usable commercially under an open licence, with the facets.
    page.goto(live_server.url + "/")
    page.locator(".facet", has_text="Licence kind").get_by_role(
        "link", name=re.compile(r"^Permissive open source \d+$")
    ).click()
    page.wait_for_url("**/?licence=permissive")
    page.locator(".facet", has_text="Commercial use under the licence").get_by_role(
        "link", name=re.compile(r"^Allowed \d+$")
    ).click()
    page.wait_for_url("**/?licence=permissive&commercial=yes")
    models = page.locator("section[aria-labelledby=models-h] tbody th a").all_inner_texts()
    assert sorted(models) == APACHE_MODELS
    shot(page, "05-open-commercial-models", full_page=True)

    # 6. Compare Mistral AI with Anthropic.
    page.get_by_role("link", name="Compare", exact=True).click()
    page.get_by_label("Provider 1").select_option("mistral")
    page.get_by_label("Provider 2").select_option("anthropic")
    page.get_by_role("button", name="Compare providers").click()
    page.wait_for_url("**/compare/?providers=mistral&providers=anthropic**")
    table = page.locator("table.compare")
    headers = table.locator("thead th").all_inner_texts()
    assert headers == ["Dimension", "Mistral AI", "Anthropic"]
    origin = table.locator("tr", has=page.get_by_role("rowheader", name="Origin"))
    assert "differs" in origin.inner_text()
    assert table.locator("tr.differs").count() >= 5
    shot(page, "06-compare-mistral-anthropic", full_page=True)

    # 7. The finder: self-hosting and commercial use.
    page.get_by_role("link", name="Can we use it?").click()
    page.get_by_label("Commercial use").check()
    page.get_by_label("Self-hosting required (weights we run ourselves)").check()
    page.get_by_role("button", name="Find models").click()
    page.wait_for_url("**/finder/?**")
    qualifies = page.locator("section.outcome.qualifies")
    names = qualifies.locator(".results-list > li > a strong").all_inner_texts()
    assert sorted(names) == APACHE_MODELS
    licences = qualifies.locator(".results-list > li > a[href='/licences/apache-2-0/']")
    assert licences.all_inner_texts() == ["Apache License 2.0"] * len(APACHE_MODELS)
    fails = page.locator("section.outcome.fails")
    research = fails.locator(".results-list > li", has_text="Test-only Research Model")
    reason = research.inner_text()
    assert "Research only — not for production" in reason
    assert "Mistral AI Research License (research / non-production only) does not permit" in reason
    shot(page, "07-finder-self-hosting-commercial", full_page=True)
    research.scroll_into_view_if_needed()
    research.screenshot(path=str(SHOTS / "08-finder-research-excluded.png"))

    assert page.outside_requests == [fetched], "the pages fetched something from outside"


def test_the_provider_page_reads_on_a_phone_and_in_print(browser_page, live_server):
    page = browser_page
    catalogue_load(path=SEED_CATALOGUE)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/providers/mistral/")
    # Nothing wider than the screen but the scrollable tables.
    overflow = page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0
    shot(page, "09-provider-phone")
    page.emulate_media(media="print")
    assert not page.locator("header.site nav").is_visible()
    assert page.locator("#gdpr table.criteria").is_visible()
    shot(page, "10-provider-print")
    assert page.outside_requests == []
