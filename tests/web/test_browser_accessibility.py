"""Every page type, signed out and in each role, in a real Chromium on the seeded catalogue:
axe-core finds no serious or critical violation, focus outlines and links in text meet WCAG 2.2
AA contrast, every error and help a field names is on the page, radio groups are fieldsets with
a legend, and at 390 px nothing scrolls sideways.

One browser for the whole run and one visit per page type and role: axe runs at desktop width,
then the same page is narrowed to a phone's width. Text contrast, most of axe's time, is
checked on each page type's first visit only, where screenshots of both widths are taken
(artifacts/screenshots/a11y-<page>-{desktop,phone}.png, for a person to look at): a role adds
controls, not colours.
"""

from __future__ import annotations

import pytest

from assessments.services.assessments import assessment_start, assessment_submit
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import AIModel, Claim, Provider, Source
from tests.factories import (
    amend_one_criterion,
    axe_problems,
    contrast_problems,
    make_user,
    reference_problems,
    shot,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def _pages() -> dict[str, dict[str, str]]:
    """The address of each page type, by the roles that visit it."""
    mistral = Provider.objects.get(slug="mistral")
    reviewer = make_user("rita-reviewer", "reviewer")
    author = make_user("oscar-reviewer", "reviewer")
    make_user("carla-curator", "curator")
    admin = make_user("ada-admin", is_staff=True, is_superuser=True)
    draft = assessment_start(author=reviewer, provider=mistral)
    admin_draft = assessment_start(author=admin, provider=mistral)
    submitted = assessment_start(author=author, provider=mistral)
    amend_one_criterion(submitted)
    assessment_submit(assessment=submitted, author=author, revision=submitted.revision)
    claim = Claim.objects.filter(provider=mistral).exclude(evidence_quote="").order_by("pk").first()
    model = AIModel.objects.filter(provider=mistral, licence__isnull=False).order_by("pk").first()
    source = Source.objects.listed().order_by("pk").first()
    public = {
        "home": "/",
        "search": "/?q=Mistral",
        "provider": "/providers/mistral/",
        "model": f"/models/{model.slug}/",
        "licences": "/licences/",
        "licence": f"/licences/{model.licence.slug}/",
        "claim": f"/claims/{claim.pk}/",
        "finder": "/finder/?commercial_use=on&fine_tuning=on",
        "compare": "/compare/?providers=mistral&providers=anthropic",
        "changes": "/changes/",
        "sources": "/sources/",
        "source": f"/sources/{source.pk}/",
        "reviews": "/review/providers/mistral/reviews/",
    }
    reviewing = {
        "my-reviews": "/review/",
        "draft": f"/review/assessments/{draft.pk}/",
        "correct": f"/review/claims/{claim.pk}/correct/",
    }
    return {
        "anonymous": {**public, "sign-in": "/accounts/login/", "sign-up": "/accounts/signup/"},
        "rita-reviewer": {**public, **reviewing},
        # A curator (not a superuser) opens every curator page; an admin is also a curator
        # and a reviewer (assessments/permissions.py).
        "carla-curator": {
            **public,
            "my-reviews": "/review/",
            "queue": "/review/queue/",
            "moderate": f"/review/queue/assessments/{submitted.pk}/",
            "triage": "/sources/triage/",
            "probes": f"/inference/claims/{claim.pk}/",
        },
        "ada-admin": {
            **public,
            **reviewing,
            "draft": f"/review/assessments/{admin_draft.pk}/",
            "queue": "/review/queue/",
            "triage": "/sources/triage/",
            "probes": f"/inference/claims/{claim.pk}/",
        },
    }


def test_every_page_type_passes_axe_shows_focus_and_fits_a_phone_in_every_role(
    new_page, live_server
):
    catalogue_load(path=SEED_CATALOGUE)
    pages = _pages()
    problems: list[str] = []
    seen: set[str] = set()
    for role, addresses in pages.items():
        page = new_page()
        if role != "anonymous":
            sign_in(page, live_server.url, role)
            page.wait_for_url(lambda url: "/accounts/login/" not in url)
        for name, address in addresses.items():
            page.set_viewport_size(DESKTOP)
            response = page.goto(live_server.url + address)
            if response.status != 200:
                problems.append(f"{role} {address}: HTTP {response.status}")
                continue
            first = name not in seen
            seen.add(name)
            found = axe_problems(page, colours=first)
            found += contrast_problems(page) + reference_problems(page)
            problems += [f"{role} {address}: {p}" for p in found]
            page.evaluate("window.scrollTo(0, 0)")  # the checks move focus down the page
            if first:
                shot(page, f"a11y-{name}-desktop")
            page.set_viewport_size(PHONE)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                problems.append(f"{role} {address}: {width} px wide at {PHONE['width']} px")
            if first:
                page.evaluate("window.scrollTo(0, 0)")
                shot(page, f"a11y-{name}-phone")
        page.context.close()
    assert not problems, "\n".join(problems)


def test_the_axe_check_reports_serious_violations_with_where_they_are(browser_page):
    page = browser_page
    page.set_content(
        "<!doctype html><html lang='en'><title>t</title><main>"
        "<p style='color:#bbb;background:#fff'>Faint words</p><img src='data:,'></main></html>"
    )
    found = axe_problems(page)
    assert any(p.startswith("color-contrast (serious) at p") for p in found), found
    assert any(p.startswith("image-alt (critical) at img") for p in found), found


def _tab_to(page, selector: str, *, limit: int = 120) -> None:
    """Press Tab until the element ``selector`` names has the focus; fails after ``limit``."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    pytest.fail(f"{selector} is not reached with Tab")


def test_a_reviewer_fills_and_saves_a_draft_with_the_keyboard_alone(browser_page, live_server):
    catalogue_load(path=SEED_CATALOGUE)
    reviewer = make_user("rita-reviewer", "reviewer")
    draft = assessment_start(author=reviewer, provider=Provider.objects.get(slug="mistral"))
    page = browser_page
    sign_in(page, live_server.url, "rita-reviewer")
    page.goto(f"{live_server.url}/review/assessments/{draft.pk}/")
    rows = page.locator(".evidence-row").count()

    _tab_to(page, "#id_conclusion")
    page.keyboard.press("Control+A")
    page.keyboard.type("Usable under the DPA; typed with the keyboard.")
    _tab_to(page, "#id_server_locations")
    page.keyboard.press("Control+A")
    page.keyboard.type("France and Sweden")
    # Enter in a one-line field submits the form: it must save, not add a source row.
    _tab_to(page, "input[type=url]")
    shot(page, "a11y-keyboard-draft-before-enter")
    with page.expect_navigation():
        page.keyboard.press("Enter")

    assert page.get_by_text("Draft saved.").is_visible()
    assert page.locator(".evidence-row").count() == rows
    assert page.locator("#id_conclusion").input_value() == (
        "Usable under the DPA; typed with the keyboard."
    )
    draft.refresh_from_db()
    assert draft.conclusion == "Usable under the DPA; typed with the keyboard."
    assert draft.server_locations == "France and Sweden"
    shot(page, "a11y-keyboard-draft-saved")

    # "Add another source", pressed from the keyboard, adds a row and keeps what was typed.
    _tab_to(page, "#id_conclusion")
    page.keyboard.press("Control+A")
    page.keyboard.type("Typed, then a source row asked for.")
    _tab_to(page, "button[name^='add-evidence-']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".evidence-row").count() == rows + 1
    assert page.locator("#id_conclusion").input_value() == "Typed, then a source row asked for."
