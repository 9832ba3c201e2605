"""A compliance officer finds a research-licensed model left out by the finder, in the words
of its licence, on the shipped catalogue, in a real Chromium; screenshots in
artifacts/screenshots/."""

from __future__ import annotations

import pytest

from catalog.catalogue_file import DEFAULT_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import LicenceTerm
from tests.factories import SHOTS, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

MODEL = "SDXL-Turbo"
LICENCE = "Stability AI Non-Commercial Research Community License Agreement"


def test_the_finder_leaves_a_research_licensed_model_out_quoting_its_licence(
    browser_page, live_server
):
    page = browser_page
    catalogue_load(path=DEFAULT_CATALOGUE)
    quote = LicenceTerm.objects.get(
        licence__slug="stability-ai-nc-research-community-licence", key="research_only"
    ).quote

    # 1. Ask the finder for models usable commercially.
    page.goto(live_server.url + "/finder/")
    page.get_by_label("Commercial use").check()
    page.get_by_role("button", name="Find models").click()
    page.wait_for_url("**/finder/?**")

    # 2. Page through the models that do not qualify until the research-licensed one shows.
    fails = page.locator("section.outcome.fails")
    row = fails.locator(".results-list > li", has=page.locator("strong", has_text=MODEL))
    for _ in range(20):
        if row.count():
            break
        fails.get_by_role("link", name="Next page →").click()
        page.wait_for_load_state()
    assert row.count() == 1, f"{MODEL} is not among the models that do not qualify"

    # 3. Its reason names the licence and quotes its own words, with the text it comes from.
    reason = row.inner_text()
    assert "Research only — not for production" in reason
    assert f"{LICENCE} (research / non-production only) does not permit commercial use." in reason
    assert f"The licence says: “{quote}”" in reason
    assert "quoted from" in reason
    row.scroll_into_view_if_needed()
    row.screenshot(path=str(SHOTS / "licences-01-finder-research-excluded-quoted.png"))

    # 4. The licence page shows the same words under the term, with its source and date.
    row.get_by_role("link", name=LICENCE).first.click()
    page.wait_for_url("**/licences/stability-ai-nc-research-community-licence/**")
    term = page.locator("#term-research_only + dd")
    assert quote in term.inner_text()
    assert "version of 2023-11-28" in term.inner_text()
    shot(page, "licences-02-licence-terms-quoted", full_page=True)

    assert page.outside_requests == [], "the pages fetched something from outside"
