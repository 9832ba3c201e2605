"""Public reviews: posting with an e-mail confirmation, reporting, and curators' decisions.

A review is stored at once but shown only after its author follows the signed, expiring link
sent to the address they gave. Spam controls: a honeypot field, a maximum length (form and
database), and limits on how many reviews one e-mail address and one client address may post.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from assessments.models import ModerationNote, Review, ReviewReport
from assessments.services.moderation import (
    AssessmentError,
    curator_required,
    note_add,
    save_recorded,
    words,
)
from catalog.models import Provider

CONFIRM_SALT = "atlas.reviews.confirm"


class ReviewError(AssessmentError):
    """A review that cannot be posted, confirmed or reported (``code`` as in AssessmentError,
    ``rate_limited`` included)."""


def _limit(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def review_confirmation_token(*, review: Review) -> str:
    """A signed, timestamped token naming the review by its id alone: the link ends up in
    mail logs, browser history and proxies, so it carries no e-mail address."""
    return signing.dumps({"review": review.pk}, salt=CONFIRM_SALT)


def review_for_token(*, token: str) -> Review:
    """The review a confirmation token names; raises ``ReviewError`` when the token is not
    valid, has expired or names a review that no longer exists."""
    max_age = dt.timedelta(hours=_limit("ATLAS_REVIEW_CONFIRM_HOURS", 72))
    try:
        payload = signing.loads(token, salt=CONFIRM_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise ReviewError(
            "this confirmation link has expired; post the review again", code="conflict"
        ) from None
    except signing.BadSignature:
        raise ReviewError("this confirmation link is not valid", path="token") from None
    review_id = payload.get("review") if isinstance(payload, dict) else None
    review = (
        Review.objects.select_related("provider").filter(pk=review_id).first()
        if isinstance(review_id, int)
        else None
    )
    if review is None:
        raise ReviewError("this review no longer exists", code="conflict")
    return review


def review_post(
    *,
    provider: Provider,
    rating: int,
    title: str,
    body: str,
    author_name: str,
    email: str,
    client_ip: str | None,
    honeypot: str,
    confirm_url: Callable[[str], str],
) -> Review | None:
    """Store an unconfirmed review and e-mail its author the confirmation link.

    Returns ``None`` without storing or sending anything when the honeypot was filled (the
    caller answers as if it worked, so bots learn nothing). Raises ``ReviewError`` with code
    ``rate_limited`` when the address or client posted too many reviews recently.
    """
    if honeypot.strip():
        return None
    email = email.strip().lower()
    now = timezone.now()
    per_email = _limit("ATLAS_REVIEWS_PER_EMAIL_PER_DAY", 3)
    per_ip = _limit("ATLAS_REVIEWS_PER_IP_PER_HOUR", 5)
    if Review.objects.filter(email=email, created_at__gte=now - dt.timedelta(days=1)).count() >= (
        per_email
    ):
        raise ReviewError(
            f"this e-mail address posted {per_email} reviews in the last 24 hours; "
            "please wait a day",
            code="rate_limited",
            path="email",
        )
    if client_ip and (
        Review.objects.filter(
            client_ip=client_ip, created_at__gte=now - dt.timedelta(hours=1)
        ).count()
        >= per_ip
    ):
        raise ReviewError(
            f"{per_ip} reviews were posted from your network in the last hour; please wait",
            code="rate_limited",
        )
    review = Review(
        provider=provider,
        rating=rating,
        title=title.strip(),
        body=body.strip(),
        author_name=author_name.strip(),
        email=email,
        client_ip=client_ip,
    )
    try:
        review.full_clean(validate_constraints=False)
    except Exception as exc:
        messages = getattr(exc, "message_dict", {"review": [str(exc)]})
        name, problems = next(iter(messages.items()))
        raise ReviewError(f"{name}: {' '.join(problems)}", path=name) from None
    with transaction.atomic():
        review.save()
        link = confirm_url(review_confirmation_token(review=review))
        hours = _limit("ATLAS_REVIEW_CONFIRM_HOURS", 72)
        # Sent inside the transaction: if the mail cannot be handed over, nothing is stored
        # and the visitor is told, rather than waiting for a link that never comes.
        send_mail(
            subject=f"Confirm your review of {provider.name} on Atlas",
            message=(
                f"Hello {review.author_name},\n\n"
                f"You wrote a review of {provider.name} on Atlas titled “{review.title}”.\n"
                f"It will be shown once you confirm this address by opening this link "
                f"within {hours} hours:\n\n{link}\n\n"
                "If you did not write it, ignore this message and nothing will be shown.\n"
            ),
            from_email=None,
            recipient_list=[email],
        )
    return review


def review_confirm(*, token: str) -> Review:
    """Publish the review the token names. Confirming twice is harmless."""
    named = review_for_token(token=token)
    with transaction.atomic():
        review = Review.objects.select_for_update().filter(pk=named.pk).first()
        if review is None:
            raise ReviewError("this review no longer exists", code="conflict")
        if review.status == Review.Status.UNCONFIRMED:
            review.status = Review.Status.PUBLISHED
            review.confirmed_at = timezone.now()
            save_recorded(review, user=None, reason="E-mail address confirmed")
    return review


def review_report(*, review: Review, reason: str, client_ip: str | None) -> ReviewReport:
    """Send a published review to the curators' queue with the reporter's reason."""
    text = words(reason, what="Say what is wrong with the review")[:1000]
    if review.status != Review.Status.PUBLISHED:
        raise ReviewError("only published reviews can be reported", code="conflict")
    per_ip = _limit("ATLAS_REPORTS_PER_IP_PER_HOUR", 10)
    if client_ip and (
        ReviewReport.objects.filter(
            client_ip=client_ip, created_at__gte=timezone.now() - dt.timedelta(hours=1)
        ).count()
        >= per_ip
    ):
        raise ReviewError("too many reports from your network; please wait", code="rate_limited")
    return ReviewReport.objects.create(review=review, reason=text, client_ip=client_ip)


def review_decide(*, review: Review, curator, hide: bool, reason: str) -> Review:
    """Close the open reports on ``review``: hide it, or keep it (both with the reason)."""
    curator_required(curator, to="decide on reported reviews")
    text = words(reason, what="Give the reason")
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        now = timezone.now()
        locked.reports.filter(resolved_at__isnull=True).update(resolved_at=now, resolved_by=curator)
        if hide and locked.status == Review.Status.PUBLISHED:
            locked.status = Review.Status.HIDDEN
            save_recorded(locked, user=curator, reason=f"Hidden: {text}")
        note_add(
            user=curator,
            action=ModerationNote.Action.HIDE if hide else ModerationNote.Action.COMMENT,
            text=text,
            review=locked,
        )
    return locked


def review_restore(*, review: Review, curator, reason: str) -> Review:
    """Show a hidden review again (a revert of the curator's decision), recorded."""
    curator_required(curator, to="restore reviews")
    text = words(reason, what="Give the reason")
    with transaction.atomic():
        locked = Review.objects.select_for_update().get(pk=review.pk)
        if locked.status != Review.Status.HIDDEN:
            raise ReviewError("only a hidden review can be restored", code="conflict")
        locked.status = Review.Status.PUBLISHED
        save_recorded(locked, user=curator, reason=f"Restored: {text}")
        note_add(user=curator, action=ModerationNote.Action.RESTORE, text=text, review=locked)
    return locked
