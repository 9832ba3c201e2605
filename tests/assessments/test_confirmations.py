"""Each action's confirmation is shown, once and styled, on the page the action returns to."""

from __future__ import annotations

from django.contrib.staticfiles import finders
from django.urls import reverse
from django.utils import timezone

from assessments.services.assessments import assessment_approve
from catalog.models import Source
from crawlers.models import Check
from tests.factories import published_of

FLASH = '<ul class="flash" role="status">'


def _flash(response) -> str:
    """The messages block of a page (and that there is exactly one)."""
    html = response.content.decode()
    assert html.count(FLASH) == 1, "one messages block, from base.html"
    return html.split(FLASH, 1)[1].split("</ul>", 1)[0]


def test_approving_returns_to_the_provider_page_saying_it_is_published(
    client, second_curator, submission, mistral
):
    client.force_login(second_curator)
    response = client.post(
        reverse("assessments:moderate", args=[submission.pk]),
        {"action": "approve", "revision": submission.revision, "text": "Verified."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("catalog:provider", args=[mistral.slug])
    assert f"Approved: assessment #{submission.pk} of Mistral AI is published" in _flash(response)
    assert published_of(mistral).pk == submission.pk


def test_reverting_returns_to_the_provider_page_saying_what_is_published_again(
    client, curator, second_curator, submission, mistral
):
    published = assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision
    ).assessment
    client.force_login(second_curator)
    response = client.post(
        reverse("assessments:revert", args=[published.pk]),
        {"revision": published.revision, "reason": "Published by mistake."},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse("catalog:provider", args=[mistral.slug])
    shown = _flash(response)
    assert f"Reverted: assessment #{published.pk} of Mistral AI is withdrawn" in shown
    assert "previous assessment is published again" in shown


def test_reading_a_source_now_is_confirmed_in_the_site_wide_messages(client, curator, mistral):
    source = Source.objects.filter(provider=mistral).exclude(url="").first()
    # A check already waiting: "Read it now" answers with it and fetches nothing here.
    Check.objects.create(source=source, url=source.url, queued_at=timezone.now())
    client.force_login(curator)
    response = client.post(reverse("crawlers:check-now", args=[source.pk]), follow=True)
    assert "queued" in _flash(response)


def test_starting_a_draft_is_confirmed_on_the_draft(client, reviewer, mistral):
    client.force_login(reviewer)
    response = client.post(reverse("assessments:new"), {"provider": mistral.pk}, follow=True)
    assert "Draft started for Mistral AI" in _flash(response)


def test_messages_are_styled_by_the_site_wide_stylesheet():
    with open(finders.find("atlas/atlas.css"), encoding="utf-8") as css:
        rules = css.read()
    for selector in (".flash li {", ".flash li.error", ".flash li.success", ".flash li.warning"):
        assert selector in rules
