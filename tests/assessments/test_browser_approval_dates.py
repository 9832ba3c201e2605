"""In a real Chromium: a curator approves an assessment, and a claim citing the same source
whose quote the stored text does not hold keeps its check date; the claim whose quote is
there is dated by that reading, and reverting the approval puts its date back."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from assessments.models import RatingEvidence
from assessments.services.assessments import assessment_start, assessment_submit
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import Claim, Provider
from tests.factories import (
    ABSENT,
    FOUND,
    OLD,
    TEXT,
    amend_one_criterion,
    make_user,
    shot,
    sign_in,
    store_text,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def last_checked(page, base: str, claim: Claim) -> str:
    page.goto(f"{base}/claims/{claim.pk}/")
    return page.inner_text("dt:has-text('Last checked') + dd")


def test_approving_in_the_browser_moves_no_date_it_did_not_read_and_reverting_puts_dates_back(
    new_page,
    live_server,
):
    base = live_server.url
    catalogue_load(path=SEED_CATALOGUE)
    make_user("carla-curator", "curator")
    reviewer = make_user("rita-reviewer", "reviewer")
    draft = assessment_start(author=reviewer, provider=Provider.objects.get(slug="mistral"))
    amend_one_criterion(draft)
    draft.refresh_from_db()
    submission = assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)
    cited = sorted(
        set(
            RatingEvidence.objects.filter(rating__assessment=submission).values_list(
                "source_id", flat=True
            )
        )
    )
    shared = next(
        s for s in cited if Claim.objects.filter(provider=draft.provider, source_id=s).count() >= 2
    )
    found, unrelated = Claim.objects.filter(provider=draft.provider, source_id=shared).order_by(
        "pk"
    )[:2]
    for claim, quote in ((found, FOUND), (unrelated, ABSENT)):
        claim.evidence_quote = quote
        claim.checked_at = OLD
        claim.save()
    store_text(shared, TEXT, read_days_ago=1)
    read_on = timezone.localdate(timezone.now() - dt.timedelta(days=1))

    curator = new_page()
    sign_in(curator, base, "carla-curator")
    curator.goto(f"{base}/review/queue/assessments/{submission.pk}/")
    curator.check("input[name='action'][value='approve']")
    curator.fill("textarea[name='text']", "Checked the residency page.")
    curator.click("button:has-text('Record the decision')")
    curator.wait_for_url(re.compile(r"/providers/[\w-]+/$"))

    assert last_checked(curator, base, unrelated).startswith("2025-01-01")
    shot(curator, "approval-dates-01-unrelated-claim-unchanged", "dl.facts")
    assert last_checked(curator, base, found).startswith(f"{read_on:%Y-%m-%d}")
    assert "Quote re-read at approval" in curator.inner_text("table")

    curator.goto(f"{base}/review/queue/assessments/{submission.pk}/")
    curator.fill("textarea[name='reason']", "Approved before the residency page was re-read.")
    curator.click("button:has-text('Revert this publication')")
    curator.wait_for_url(re.compile(r"/providers/[\w-]+/$"))

    assert last_checked(curator, base, found).startswith("2025-01-01")
    assert last_checked(curator, base, unrelated).startswith("2025-01-01")
    shot(curator, "approval-dates-02-date-put-back", "dl.facts")
    for claim in (found, unrelated):
        before = claim.status
        claim.refresh_from_db()
        assert (claim.checked_at, claim.status) == (OLD, before)
