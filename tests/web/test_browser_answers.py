"""Answers an officer can act on, in a real Chromium on the seeded catalogue: the finder with
"no training on our inputs", and Mistral's disputed facts side by side with Anthropic's.

Screenshots land in artifacts/screenshots/ beside the journey's, at desktop width and at 390 px.
"""

from __future__ import annotations

import pytest

from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from tests.factories import shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}


def test_an_officer_finds_models_that_do_not_train_on_inputs_and_sees_disputed_facts(
    browser_page,
    live_server,
):
    page = browser_page
    catalogue_load(path=SEED_CATALOGUE)

    # 1. The finder, "no training on our inputs" only.
    page.goto(live_server.url + "/finder/")
    page.get_by_label("No training on our inputs").check()
    page.get_by_role("button", name="Find models").click()
    page.wait_for_url("**/finder/?**")
    conditional = page.locator("section.outcome.conditional")
    names = conditional.locator(".results-list > li > a strong").all_inner_texts()
    for name in ("Mistral Embed", "Mistral Large", "Mistral Medium", "Mistral Small"):
        assert name in names, name
    large = conditional.locator(".results-list > li", has_text="Mistral Large").first
    text = large.inner_text()
    assert "Inputs used for training: no, but another source says only partly." in text
    assert "Condition: The DPA still lists cases where training is allowed" in text
    shot(page, "11-finder-no-training", full_page=True)
    page.set_viewport_size(PHONE)
    large.scroll_into_view_if_needed()
    shot(page, "12-finder-no-training-phone")

    # 2. Compare Mistral AI with Anthropic: both disputed values, each with its evidence.
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(live_server.url + "/compare/?providers=mistral&providers=anthropic")
    table = page.locator("table.compare")
    hosting = table.locator("tr", has=page.get_by_role("rowheader", name="Where data is hosted"))
    mistral = hosting.locator("td").first
    # The two disputed readings of the seed, beside any other hosting claim quoted since.
    for text in (
        "EU infrastructure (Paris / Frankfurt)",
        "Mistral Compute in EU Tier 3+ data centres",
    ):
        value = mistral.locator(".claim-value", has_text=text)
        assert value.count() == 1
        assert "Disputed" in value.locator(".badge").inner_text()
        assert value.locator("a[href^='/claims/']").count() == 1
    residency = table.locator("tr", has=page.get_by_role("rowheader", name="EU data residency"))
    assert residency.locator("td").first.locator(".badge", has_text="Disputed").count() == 2
    hosting.scroll_into_view_if_needed()
    shot(page, "13-compare-disputed-hosting", full_page=True)
    page.set_viewport_size(PHONE)
    hosting.scroll_into_view_if_needed()
    shot(page, "14-compare-disputed-hosting-phone")

    assert page.outside_requests == [], "the pages fetched something from outside"
