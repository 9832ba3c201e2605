"""Public reviews: hidden until the e-mailed link is followed; reports, spam controls, privacy."""

from __future__ import annotations

import base64
import re
import time
from unittest import mock

import pytest
from django.core import mail
from django.urls import reverse

from assessments.models import Review, ReviewReport
from assessments.services import public_reviews
from catalog.models import Provider


@pytest.fixture
def provider(db):
    return Provider.objects.create(slug="acme-ai", name="Acme AI", kind="model_developer")


def post(client, provider, **overrides):
    data = {
        "rating": "4",
        "title": "Solid API, slow support",
        "body": "The API worked well for our pilot; support took a week to answer.",
        "author_name": "Dana",
        "email": "dana@example.net",
        "website": "",
    } | overrides
    return client.post(reverse("assessments:reviews", args=[provider.slug]), data)


def confirmation_link(message) -> str:
    return re.search(r"http://testserver(/review/reviews/confirm/[^\s]+/)", message.body).group(1)


def test_a_review_is_hidden_until_the_e_mailed_link_is_followed(client, provider):
    response = post(client, provider)
    assert response.status_code == 302
    review = Review.objects.get()
    assert review.status == Review.Status.UNCONFIRMED
    page = client.get(reverse("assessments:reviews", args=[provider.slug]))
    assert "Solid API, slow support" not in page.content.decode()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["dana@example.net"]
    link = confirmation_link(mail.outbox[0])
    assert client.get(link).status_code == 200
    review.refresh_from_db()
    assert review.status == Review.Status.UNCONFIRMED, "opening the page alone confirms nothing"
    assert client.post(link).status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.PUBLISHED
    body = client.get(reverse("assessments:reviews", args=[provider.slug])).content.decode()
    assert "Solid API, slow support" in body
    assert "dana@example.net" not in body


def test_a_tampered_or_expired_link_confirms_nothing(client, provider, settings):
    post(client, provider)
    link = confirmation_link(mail.outbox[0])
    assert client.post(link[:-3] + "xx/").status_code == 400
    settings.ATLAS_REVIEW_CONFIRM_HOURS = 1
    token = link.rstrip("/").rsplit("/", 1)[1]
    two_hours_later = time.time() + 2 * 3600
    with (
        mock.patch("time.time", return_value=two_hours_later),
        pytest.raises(public_reviews.ReviewError) as caught,
    ):
        public_reviews.review_confirm(token=token)
    assert "expired" in caught.value.message
    assert Review.objects.get().status == Review.Status.UNCONFIRMED


def test_the_honeypot_stores_and_sends_nothing(client, provider):
    response = post(client, provider, website="http://spam.example")
    assert response.status_code == 302
    assert Review.objects.count() == 0
    assert mail.outbox == []


def test_one_address_may_post_only_a_few_reviews_a_day(client, provider, settings):
    settings.ATLAS_REVIEWS_PER_EMAIL_PER_DAY = 2
    settings.ATLAS_REVIEWS_PER_IP_PER_HOUR = 100
    assert post(client, provider).status_code == 302
    assert post(client, provider, email="DANA@example.net").status_code == 302
    response = post(client, provider, title="Third one")
    assert response.status_code == 429
    assert "posted 2 reviews in the last 24 hours" in response.content.decode()
    assert "Third one" in response.content.decode(), "what was typed is kept"
    assert Review.objects.count() == 2


def test_one_network_may_post_only_a_few_reviews_an_hour(client, provider, settings):
    settings.ATLAS_REVIEWS_PER_IP_PER_HOUR = 1
    assert post(client, provider).status_code == 302
    assert post(client, provider, email="other@example.net").status_code == 429


def test_an_overlong_review_is_refused_with_its_length_named(client, provider):
    response = post(client, provider, body="x" * 4001)
    assert response.status_code == 400
    assert "at most 4000 characters" in response.content.decode()
    assert Review.objects.count() == 0


def test_a_report_sends_the_review_to_the_curators_queue(client, provider, curator):
    post(client, provider)
    client.post(confirmation_link(mail.outbox[0]))
    review = Review.objects.get()
    response = client.post(
        reverse("assessments:review_report", args=[review.pk]), {"reason": "Advertising."}
    )
    assert response.status_code == 302
    assert ReviewReport.objects.filter(review=review, resolved_at__isnull=True).count() == 1
    client.force_login(curator)
    queue = client.get(reverse("assessments:queue"))
    assert [r.pk for r in queue.context["reported"]] == [review.pk]
    response = client.post(
        reverse("assessments:review_moderate", args=[review.pk]),
        {"action": "hide", "text": "It is an advertisement."},
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == Review.Status.HIDDEN
    assert list(client.get(reverse("assessments:queue")).context["reported"]) == []
    record = review.history.latest("history_date")
    assert record.history_user == curator
    assert record.history_change_reason == "Hidden: It is an advertisement."
    restored = public_reviews.review_restore(review=review, curator=curator, reason="Appeal.")
    assert restored.status == Review.Status.PUBLISHED


def test_an_unconfirmed_review_cannot_be_reported(client, provider):
    post(client, provider)
    review = Review.objects.get()
    response = client.post(
        reverse("assessments:review_report", args=[review.pk]), {"reason": "Spam."}
    )
    assert response.status_code == 404


def test_review_history_never_stores_the_address(client, provider):
    post(client, provider)
    record = Review.history.get()
    assert not hasattr(record, "email")


def test_the_queue_lists_only_reviews_with_open_reports(client, provider, curator):
    post(client, provider)  # stays unconfirmed
    post(client, provider, title="Confirmed, never reported", email="eli@example.net")
    post(client, provider, title="Confirmed and reported", email="fay@example.net")
    client.post(confirmation_link(mail.outbox[1]))
    client.post(confirmation_link(mail.outbox[2]))
    reported = Review.objects.get(title="Confirmed and reported")
    client.post(reverse("assessments:review_report", args=[reported.pk]), {"reason": "Spam."})
    client.post(reverse("assessments:review_report", args=[reported.pk]), {"reason": "Ads."})
    client.force_login(curator)
    queue = client.get(reverse("assessments:queue"))
    assert [r.pk for r in queue.context["reported"]] == [reported.pk]
    body = queue.content.decode()
    assert "2 open reports" in body
    assert "0 report" not in body
    assert "Solid API, slow support" not in body


def _token_parts(link: str) -> list[bytes]:
    """Every part of the link's token decoded as base64, as anyone reading a log could."""
    token = link.rstrip("/").rsplit("/", 1)[1]
    decoded = []
    for part in token.split(":"):
        try:
            decoded.append(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        except ValueError:
            decoded.append(part.encode())
    return decoded


def test_the_confirmation_link_carries_no_e_mail_address(client, provider):
    post(client, provider)
    link = confirmation_link(mail.outbox[0])
    for part in [link.encode(), *_token_parts(link)]:
        assert b"dana" not in part.lower()
        assert b"example.net" not in part.lower()
    assert client.post(link).status_code == 302
    assert Review.objects.get().status == Review.Status.PUBLISHED


def test_the_confirmation_page_says_which_review_it_confirms(client, provider):
    post(client, provider)
    link = confirmation_link(mail.outbox[0])
    page = client.get(link).content.decode()
    assert "Acme AI" in page
    assert "Solid API, slow support" in page
    assert "4 out of 5" in page
    assert "dana@example.net" not in page
    client.post(link)
    page = client.get(link).content.decode()
    assert "already confirmed" in page
    assert "Confirm and publish my review" not in page
