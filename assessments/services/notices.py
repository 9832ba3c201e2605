"""E-mails telling a reviewer what a curator decided about their assessment.

Sent once the decision is committed (``transaction.on_commit``), so a decision that rolls back
tells no one anything; an author without an address is told nothing.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction

from assessments.models import Assessment

logger = logging.getLogger(__name__)

# What each decision tells the author, after "Your assessment #N of <provider>".
DECISIONS = {
    "approved": "was approved by {curator} and is now the published assessment.",
    "changes_requested": "was sent back to you by {curator}: they asked for changes.",
    "rejected": "was rejected by {curator}.",
    "reverted": "was reverted by {curator}: it is no longer published.",
}


def assessment_decision_notify(
    *, assessment: Assessment, decision: str, curator, text: str
) -> None:
    """E-mail ``assessment``'s author that ``curator`` made ``decision`` (a key of
    ``DECISIONS``) with the words ``text``, when the surrounding transaction commits."""
    author = assessment.author
    if author is None or not author.email:
        return
    provider = assessment.provider.name
    who = curator.get_username()
    subject = f"Your assessment of {provider} on Atlas was {decision.replace('_', ' ')}"
    if decision == "changes_requested":
        subject = f"Your assessment of {provider} on Atlas was sent back for changes"
    body = (
        f"Hello {author.get_username()},\n\n"
        f"Your assessment #{assessment.pk} of {provider} "
        f"{DECISIONS[decision].format(curator=who)}\n\n"
        + (f"{who} wrote:\n\n{text}\n\n" if text else "")
        + "Sign in to Atlas and open My reviews to read the whole thread"
        + (" and amend the draft.\n" if decision == "changes_requested" else ".\n")
    )
    recipient = author.email
    transaction.on_commit(lambda: _send(subject=subject, body=body, recipient=recipient))


def _send(*, subject: str, body: str, recipient: str) -> None:
    # After the commit the decision stands: a mail server that fails is logged, not raised
    # into a response that would read as if the decision had failed.
    try:
        send_mail(subject=subject, message=body, from_email=None, recipient_list=[recipient])
    except Exception:
        logger.exception("could not e-mail %s about a decision", recipient)
