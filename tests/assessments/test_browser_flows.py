"""The whole moderation flow and the public review flow, driven in a real Chromium.

A reviewer signs up and proposes a change to Mistral AI's assessment; a curator compares,
asks for changes, then approves; the provider page, its history and the Atom feed show it.
A visitor's review stays hidden until the e-mailed link is followed; a report queues it.
Screenshots land in artifacts/screenshots/ (git-ignored).
"""

from __future__ import annotations

import re

import pytest
from django.core import mail

from assessments.models import Assessment, Rating, Review, ReviewReport
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from tests.factories import PASSWORD, make_user, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _nothing_fetched_from_outside(new_page):
    yield
    assert new_page.outside == [], f"the pages asked for outside addresses: {new_page.outside}"


def test_a_reviewer_proposes_a_change_and_a_curator_publishes_it(new_page, live_server):
    base = live_server.url
    catalogue_load(path=SEED_CATALOGUE)
    make_user("carla-curator", "curator")
    old = Assessment.objects.get(provider__slug="mistral", status="published")
    assert old.ratings.get(criterion__slug="eu-saas").value == "partial"
    slot = old.ratings.get(criterion__slug="eu-saas").evidence.count()

    # A reviewer signs up and starts from the published assessment.
    reviewer = new_page()
    reviewer.goto(f"{base}/accounts/signup/")
    reviewer.fill("#id_username", "rita")
    reviewer.fill("#id_email", "rita@example.org")
    reviewer.fill("#id_password1", PASSWORD)
    reviewer.fill("#id_password2", PASSWORD)
    shot(reviewer, "reviews-01-signup")
    reviewer.click("button:has-text('Create my account')")
    reviewer.select_option("#id_provider", label="Mistral AI")
    reviewer.click("button:has-text('Start a draft')")
    reviewer.wait_for_selector("#criterion-eu-saas")

    # Change one criterion from partial to supported, with evidence; forget the quote first.
    reviewer.select_option("select[name='eu-saas-value']", "supported")
    reviewer.fill(
        "textarea[name='eu-saas-justification']",
        "The residency page binds all API and Studio data to EU data centres.",
    )
    reviewer.fill(f"input[name='eu-saas-ev{slot}-url']", "https://mistral.ai/eu-residency")
    reviewer.fill(f"input[name='eu-saas-ev{slot}-read_on']", "2026-11-02")
    reviewer.click("button[name='submit']")
    problems = reviewer.locator("#problems")
    assert "quote the exact words" in problems.inner_text()
    # Nothing typed was lost.
    assert reviewer.input_value(f"input[name='eu-saas-ev{slot}-url']") == (
        "https://mistral.ai/eu-residency"
    )
    shot(reviewer, "reviews-02-submit-refused-with-every-problem")
    shot(reviewer, "reviews-02b-the-field-marked", "#criterion-eu-saas")
    reviewer.fill(
        f"textarea[name='eu-saas-ev{slot}-quote']",
        "All customer data of La Plateforme is stored and processed in the EU.",
    )
    reviewer.click("button[name='submit']")
    assert reviewer.inner_text("#assessment-status") == "Submitted for review"
    submission = Assessment.objects.get(author__username="rita")
    assert submission.status == "submitted"

    # A curator sees exactly the one difference and asks for a change.
    curator = new_page()
    sign_in(curator, base, "carla-curator")
    curator.goto(f"{base}/review/queue/")
    curator.click(f"a:has-text('Mistral AI (#{submission.pk})')")
    # The new reading date and the one criterion: nothing else differs.
    assert curator.inner_text("#changed-count") == "2"
    assert curator.locator("#diff tr.changed").count() == 2
    assert curator.locator("#field-assessed_on.changed").count() == 1
    changed = curator.locator("#diff tr.changed[id^='criterion-']")
    assert changed.count() == 1
    assert "EU SaaS" in changed.inner_text()
    assert "Supported" in changed.inner_text() and "Partial" in changed.inner_text()
    shot(curator, "reviews-03-curator-sees-the-difference", "#criterion-eu-saas")
    curator.check("input[name='action'][value='request_changes']")
    curator.fill("textarea[name='text']", "Name the data centre countries in the justification.")
    curator.click("button:has-text('Record the decision')")
    assert curator.inner_text("#assessment-status") == "Changes requested"

    # The reviewer reads the request and amends.
    reviewer.reload()
    assert reviewer.inner_text("#assessment-status") == "Changes requested"
    assert "Name the data centre countries" in reviewer.inner_text("#thread + ol")
    reviewer.fill(
        "textarea[name='eu-saas-justification']",
        "The residency page binds all API and Studio data to data centres in France and Sweden.",
    )
    shot(reviewer, "reviews-04-reviewer-amends", "#thread + ol")
    reviewer.click("button[name='submit']")
    assert reviewer.inner_text("#assessment-status") == "Submitted for review"

    # The curator approves; the provider page shows the new rating and the old one in history.
    curator.reload()
    curator.check("input[name='action'][value='approve']")
    curator.fill("textarea[name='text']", "Checked the residency page.")
    curator.click("button:has-text('Record the decision')")
    curator.wait_for_url(re.compile(r"/providers/mistral/$"))
    assert "Supported" in curator.inner_text("#gdpr-eu-saas")
    assert "France and Sweden" in curator.inner_text("#gdpr-eu-saas")
    history = curator.inner_text("#history")
    assert "GDPR assessment superseded" in history
    assert "GDPR assessment published" in history
    shot(curator, "reviews-05-provider-page-after-approval", "#gdpr-eu-saas")
    shot(curator, "reviews-05b-provider-history", "#history")
    old.refresh_from_db()
    assert old.status == "superseded"
    assert Rating.objects.get(assessment=submission, criterion__slug="eu-saas").value == (
        "supported"
    )

    feed = curator.request.get(f"{base}/providers/mistral/changes/feed/").text()
    assert "GDPR assessment superseded" in feed
    assert "EU SaaS / managed with EU residency" in feed
    assert "Supported — The residency page binds all API and Studio data to data centres" in feed


def test_a_visitor_review_is_shown_after_confirmation_and_a_report_queues_it(new_page, live_server):
    base = live_server.url
    catalogue_load(path=SEED_CATALOGUE)
    make_user("carla-curator", "curator")

    visitor = new_page()
    visitor.goto(f"{base}/providers/mistral/")
    visitor.click("a:has-text('Read or write a visitor review')")
    visitor.check("input[name='rating'][value='4']")
    visitor.fill("#id_title", "Good EU option")
    visitor.fill("#id_body", "We moved our pilot to Mistral for the EU hosting.")
    visitor.fill("#id_author_name", "Dana")
    visitor.fill("#id_email", "dana@example.net")
    visitor.click("button:has-text('Send my review')")
    assert "We sent you an e-mail" in visitor.inner_text(".flash")
    assert "Good EU option" not in visitor.inner_text("#reviews-h + *")
    shot(visitor, "reviews-06-review-waiting-for-confirmation")

    assert len(mail.outbox) == 1
    link = re.search(r"(http://\S+/reviews/confirm/\S+/)", mail.outbox[0].body).group(1)
    visitor.goto(link)
    visitor.click("button:has-text('Confirm and publish my review')")
    review = Review.objects.get()
    article = visitor.locator(f"#review-{review.pk}")
    assert "Good EU option" in article.inner_text()
    assert "dana@example.net" not in visitor.content()
    shot(visitor, "reviews-07-review-shown")

    reader = new_page()
    reader.goto(f"{base}/review/providers/mistral/reviews/")
    reader.click(f"#review-{review.pk} summary")
    reader.fill(f"#report-{review.pk}", "This reads like an advertisement.")
    reader.click(f"#review-{review.pk} button:has-text('Send the report')")
    assert "a curator will look at this review" in reader.inner_text(".flash")
    assert ReviewReport.objects.filter(review=review).count() == 1

    curator = new_page()
    sign_in(curator, base, "carla-curator")
    curator.goto(f"{base}/review/queue/")
    assert "Good EU option" in curator.inner_text("#reported")
    shot(curator, "reviews-08-reported-review-in-queue")
