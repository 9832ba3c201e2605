"""Every role's journey in a real Chromium: a public visitor, a compliance officer, a reviewer,
a curator and an admin each act and each action ends with a confirmation on the page it
returns to; no link of a role's own pages leads to a refusal.

Screenshots land in artifacts/screenshots/roles-*.png (git-ignored) for a person to look at.
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from assessments.models import Assessment, ClaimCorrection, Review, ReviewReport
from assessments.services.assessments import assessment_start, assessment_submit
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import Claim, Source
from tests.factories import amend_one_criterion, make_user, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _nothing_fetched_from_outside(new_page):
    yield
    assert new_page.outside == [], f"the pages asked for outside addresses: {new_page.outside}"


def _flash(page) -> str:
    """The one messages block of the page, which must be there."""
    flash = page.locator("ul.flash[role=status]")
    assert flash.count() == 1, page.url
    return flash.inner_text()


def _no_refusal_behind_links(page, base: str) -> None:
    """Every link of the page's navigation and content to the site opens for this user."""
    hrefs = page.eval_on_selector_all(
        "header a[href^='/'], main a[href^='/']",
        "links => [...new Set(links.map(a => a.getAttribute('href')))]",
    )
    assert hrefs
    for href in hrefs:
        if href.startswith("/admin/") or "/feed/" in href:
            continue
        status = page.request.get(base + href.split("#")[0]).status
        assert status not in (403, 404), f"{href} answers {status} on {page.url}"


def test_each_role_ends_each_action_with_a_confirmation_and_meets_no_refusal(new_page, live_server):
    base = live_server.url
    catalogue_load(path=SEED_CATALOGUE)
    rita = make_user("rita-reviewer", "reviewer")
    make_user("carla-curator", "curator")
    make_user("ada-admin", is_superuser=True, is_staff=True)
    claim = Claim.objects.get(provider__slug="mistral", key__key="output_ownership")
    # A submission waiting for a curator, written by the reviewer beforehand.
    draft = assessment_start(author=rita, provider=claim.provider)
    amend_one_criterion(draft)
    draft.refresh_from_db()
    submission = assessment_submit(assessment=draft, author=rita, revision=draft.revision)

    # --- a public visitor writes a review, confirms it from the e-mail and reports another.
    visitor = new_page()
    visitor.goto(f"{base}/review/providers/mistral/reviews/")
    visitor.check("input[name='rating'][value='4']")
    visitor.fill("#id_title", "Good EU option")
    visitor.fill("#id_body", "We moved our pilot to Mistral for the EU hosting.")
    visitor.fill("#id_author_name", "Dana")
    visitor.fill("#id_email", "dana@example.net")
    visitor.click("button:has-text('Send my review')")
    assert "We sent you an e-mail" in _flash(visitor)
    shot(visitor, "roles-01-visitor-review-sent")
    [confirmation] = mail.outbox
    link = re.search(r"(http://\S+/reviews/confirm/\S+/)", confirmation.body).group(1)
    assert "dana" not in link
    visitor.goto(link)
    assert "Good EU option" in visitor.inner_text("#review-to-confirm")
    assert "Mistral AI" in visitor.inner_text("main")
    shot(visitor, "roles-02-visitor-confirmation-page")
    visitor.click("button:has-text('Confirm and publish my review')")
    assert "your review “Good EU option” of Mistral AI is shown" in _flash(visitor)
    review = Review.objects.get()
    visitor.click(f"#review-{review.pk} summary")
    visitor.fill(f"#report-{review.pk}", "This reads like an advertisement.")
    visitor.click(f"#review-{review.pk} button:has-text('Send the report')")
    assert "a curator will look at this review" in _flash(visitor)
    shot(visitor, "roles-03-visitor-report-sent")

    # --- a compliance officer, signed out: labels, who changed what, and refusals as pages.
    officer = new_page()
    officer.goto(f"{base}/finder/?commercial_use=on")
    findings = officer.inner_text("main")
    assert "Commercial use allowed: yes" in findings
    assert "commercial_use_allowed" not in findings
    shot(officer, "roles-04-officer-finder")
    officer.goto(f"{base}/changes/")
    assert "By catalogue load" in officer.inner_text("main")
    assert officer.locator("a[rel=next]").count() == 1
    officer.select_option("#provider", "mistral")
    officer.click("form.inline button:has-text('Show')")
    officer.wait_for_url("**/changes/?provider=mistral")
    shot(officer, "roles-05-officer-what-changed")
    response = officer.goto(f"{base}/inference/claims/{claim.pk}/")
    assert response.status == 403
    assert officer.get_by_role("navigation", name="Main").is_visible()
    assert officer.locator("main").get_by_role("link", name="sign in", exact=True).is_visible()
    shot(officer, "roles-06-officer-refusal-page")
    response = officer.goto(f"{base}/providers/no-such-provider/")
    assert response.status == 404
    assert officer.get_by_role("navigation", name="Main").is_visible()
    assert officer.locator("main").get_by_role("link", name="searching the catalogue").is_visible()
    shot(officer, "roles-07-officer-not-found-page")

    # --- a reviewer starts a draft and proposes a correction.
    reviewer = new_page()
    sign_in(reviewer, base, "rita-reviewer")
    reviewer.wait_for_url("**/review/")
    _no_refusal_behind_links(reviewer, base)
    reviewer.select_option("#id_provider", label="Anthropic")
    reviewer.click("button:has-text('Start a draft')")
    assert "Draft started for Anthropic" in _flash(reviewer)
    shot(reviewer, "roles-08-reviewer-draft-started")
    reviewer.goto(f"{base}/claims/{claim.pk}/")
    reviewer.click("a:has-text('Propose a correction to this claim')")
    assert "Customer owns outputs: Yes" in reviewer.inner_text("main")
    value = reviewer.locator("#id_value")
    if value.evaluate("el => el.tagName") == "SELECT":
        value.select_option("partial")
    else:
        value.fill("partial")
    reviewer.fill("#id_reason", "The terms keep some rights over outputs.")
    reviewer.click("button:has-text('Propose')")
    correction = ClaimCorrection.objects.get()
    assert f"Correction {correction.pk} proposed" in _flash(reviewer)
    shot(reviewer, "roles-09-reviewer-correction-proposed")

    # --- a curator, appointed and no superuser: queue, reported review, approval, triage.
    curator = new_page()
    sign_in(curator, base, "carla-curator")
    curator.wait_for_url("**/review/")
    nav = curator.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Moderation queue").is_visible()
    assert nav.get_by_role("link", name="Triage").is_visible()
    _no_refusal_behind_links(curator, base)
    nav.get_by_role("link", name="Moderation queue").click()
    assert curator.inner_text("#reported").count("1 open report") == 1
    _no_refusal_behind_links(curator, base)
    shot(curator, "roles-10-curator-queue")
    curator.click("#reported a:has-text('Good EU option')")
    curator.check("input[name='action'][value='hide']")
    curator.fill("#id_text", "It is an advertisement.")
    curator.click("button:has-text('Decide')")
    assert "Decided" in _flash(curator)
    assert not ReviewReport.objects.filter(resolved_at__isnull=True).exists()
    curator.goto(f"{base}/review/queue/corrections/{correction.pk}/")
    curator.check("input[name='action'][value='approve']")
    curator.click("button:has-text('Record the decision')")
    assert "Done: approve and apply to the claim." in _flash(curator)
    curator.goto(f"{base}/review/queue/assessments/{submission.pk}/")
    curator.check("input[name='action'][value='approve']")
    curator.fill("#id_text", "Verified against the residency page.")
    curator.click("button:has-text('Record the decision')")
    curator.wait_for_url("**/providers/mistral/")
    assert f"Approved: assessment #{submission.pk} of Mistral AI is published" in _flash(curator)
    shot(curator, "roles-11-curator-approved-on-provider-page")
    approved = [m for m in mail.outbox if m.to == [rita.email]]
    assert [m.subject for m in approved] == ["Your assessment of Mistral AI on Atlas was approved"]
    nav.get_by_role("link", name="My reviews").click()
    curator.get_by_role("navigation", name="Main").get_by_role("link", name="Triage").click()
    assert curator.get_by_role("heading", name="Claims to review").is_visible()
    shot(curator, "roles-12-curator-triage")
    source = Source.objects.filter(provider__slug="mistral", listed=True).exclude(url="").first()
    curator.goto(f"{base}/sources/{source.pk}/")
    assert curator.get_by_role("button", name="Read it now").is_visible()
    response = curator.goto(f"{base}/inference/claims/{claim.pk}/")
    assert response.status == 200
    assert curator.get_by_role("heading", name="Tests of a claim").is_visible()

    # --- an admin signs in on the site: a reviewer and a curator too; reverts the approval.
    admin = new_page()
    sign_in(admin, base, "ada-admin")
    admin.wait_for_url("**/review/")
    assert admin.get_by_role("heading", name="My reviews").is_visible()
    _no_refusal_behind_links(admin, base)
    shot(admin, "roles-13-admin-lands-on-my-reviews")
    admin.goto(f"{base}/claims/{claim.pk}/")
    admin.click("a:has-text('Propose a correction to this claim')")
    assert admin.get_by_role("heading", name="Propose a correction").is_visible()
    admin.goto(f"{base}/review/queue/assessments/{submission.pk}/")
    admin.fill("#id_reason", "Published too early.")
    admin.click("button:has-text('Revert this publication')")
    admin.wait_for_url("**/providers/mistral/")
    reverted = _flash(admin)
    assert f"Reverted: assessment #{submission.pk} of Mistral AI is withdrawn" in reverted
    shot(admin, "roles-14-admin-reverted-on-provider-page")
    assert Assessment.objects.get(pk=submission.pk).status == Assessment.Status.SUPERSEDED
    subjects = [m.subject for m in mail.outbox if m.to == [rita.email]]
    assert subjects[-1] == "Your assessment of Mistral AI on Atlas was reverted"
