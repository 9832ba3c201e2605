"""A draft publishes nothing: an address a reviewer cites in a draft (or a proposed correction)
is no public source and nothing the crawler reads until a curator approves it; then it is a
source like any other."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Assessment
from assessments.services.assessments import (
    assessment_approve,
    assessment_reject,
    assessment_start,
    assessment_submit,
)
from assessments.services.corrections import claim_correction_approve
from catalog.models import Claim, Source
from crawlers.models import Check, CrawlSettings
from crawlers.services import sources_sweep
from tests.factories import CHANGED_CRITERION, EVIDENCE_URL, amend_one_criterion

CHOSEN_URL = "https://reviewer-chosen.example/any/page"
PUBLIC_PLACES = (
    "source list",
    "source page",
    "provider page",
    "api list",
    "api detail",
    "changes feed",
    "export",
)


def public_sightings(source: Source, *, since: dt.datetime) -> dict[str, bool]:
    """For each public place, whether an anonymous visitor or client finds ``source`` there
    (in the changes feed: among the changes ``since``)."""
    web, api = Client(), APIClient()
    url = source.url
    provider_page = web.get(reverse("catalog:provider", args=[source.provider.slug]))
    changes = api.get("/api/v1/changes", {"since": since.isoformat(), "limit": 5000})
    export = api.get("/api/v1/exports/catalogue.json")
    exported = json.loads(b"".join(export.streaming_content))
    return {
        "source list": url in web.get(reverse("crawlers:sources")).content.decode(),
        "source page": web.get(reverse("crawlers:source", args=[source.pk])).status_code == 200,
        "provider page": url in provider_page.content.decode(),
        "api list": url
        in {s["url"] for s in api.get("/api/v1/sources", {"search": url}).json()["results"]},
        "api detail": api.get(f"/api/v1/sources/{source.slug}").status_code == 200,
        "changes feed": any(
            c["resource"] == "source" and c["id"] == source.slug for c in changes.json()["changes"]
        ),
        "export": url in {s["url"] for s in exported["sources"]},
    }


def swept(source: Source) -> bool:
    """Whether a sweep of every due source queues a check of ``source``. The checks it makes
    are handed to the workers only after a commit, which a test's transaction never reaches,
    so nothing is fetched."""
    queued = sources_sweep(limit=Source.objects.count() + 10)
    return Check.objects.filter(pk__in=queued, source=source).exists()


def form_data(client, assessment: Assessment) -> dict:
    """What the browser would send back untouched: the form's current values."""
    form = client.get(reverse("assessments:edit", args=[assessment.pk])).context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            value = ""
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    for row in form.rows():
        data[row.count_name] = len(row.evidence)
    return data


def cite_on_the_web(client, assessment: Assessment):
    """Cite ``CHOSEN_URL`` as new evidence of one criterion and save the draft."""
    data = form_data(client, assessment)
    data[f"{CHANGED_CRITERION}-value"] = "supported"
    slot = data[f"{CHANGED_CRITERION}-evcount"] - 1
    data[f"{CHANGED_CRITERION}-ev{slot}-url"] = CHOSEN_URL
    data[f"{CHANGED_CRITERION}-ev{slot}-quote"] = "Customer data stays in the EU."
    data[f"{CHANGED_CRITERION}-ev{slot}-read_on"] = "2026-11-01"
    return client.post(reverse("assessments:edit", args=[assessment.pk]), data | {"save": "1"})


@pytest.fixture(autouse=True)
def _fresh_throttle_buckets():
    # The anonymous API calls here would otherwise share a minute's allowance with others'.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def draft(mistral, reviewer) -> Assessment:
    return assessment_start(author=reviewer, provider=mistral)


def test_an_address_saved_in_a_web_draft_is_public_and_swept_only_after_approval(
    client, reviewer, curator, draft
):
    start = timezone.now()
    client.force_login(reviewer)
    assert cite_on_the_web(client, draft).status_code == 302
    source = Source.objects.get(url=CHOSEN_URL)
    assert not source.listed
    assert public_sightings(source, since=start) == dict.fromkeys(PUBLIC_PLACES, False)
    assert not swept(source)
    assert not CrawlSettings.objects.filter(source=source).exists()

    # Submitted is not approved either.
    data = form_data(client, draft)
    submitted = client.post(reverse("assessments:edit", args=[draft.pk]), data | {"submit": "1"})
    assert submitted.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.SUBMITTED
    assert public_sightings(source, since=start) == dict.fromkeys(PUBLIC_PLACES, False)
    assert not swept(source)

    # The author and the curators still read the cited address in the draft.
    assert CHOSEN_URL in client.get(reverse("assessments:edit", args=[draft.pk])).content.decode()
    client.force_login(curator)
    comparison = client.get(reverse("assessments:moderate", args=[draft.pk]))
    assert CHOSEN_URL in comparison.content.decode()

    assessment_approve(assessment=draft, curator=curator, revision=draft.revision)
    source.refresh_from_db()
    assert source.listed
    assert source.history.first().history_user == curator
    assert public_sightings(source, since=start) == dict.fromkeys(PUBLIC_PLACES, True)
    assert swept(source)


def test_an_address_cited_in_an_api_draft_is_public_only_after_an_api_approval(
    reviewer_api, curator_api, anon, reviewer, draft
):
    amend_one_criterion(draft)  # cites EVIDENCE_URL, as the web form would
    draft.refresh_from_db()
    source = Source.objects.get(url=EVIDENCE_URL)
    assert not source.listed

    # The API cites sources by slug: an unknown one is refused and creates nothing.
    before = Source.objects.count()
    body = {
        "provider": draft.provider.slug,
        "assessed_on": "2026-11-01",
        "ratings": [
            {
                "criterion": CHANGED_CRITERION,
                "value": "supported",
                "evidence": [{"source": "no-such-source", "read_on": "2026-11-01"}],
            }
        ],
    }
    assert reviewer_api.post("/api/v1/assessments", body, format="json").status_code == 400
    assert Source.objects.count() == before

    # Saving and submitting the draft through the API publishes nothing.
    saved = reviewer_api.patch(
        f"/api/v1/assessments/{draft.pk}",
        {"revision": draft.revision, "conclusion": "Data stays in the EU."},
        format="json",
    )
    assert saved.status_code == 200, saved.content
    cited = {ev["source"]["url"] for rating in saved.json()["ratings"] for ev in rating["evidence"]}
    assert EVIDENCE_URL in cited  # the author reads the evidence as cited
    submitted = reviewer_api.post(
        f"/api/v1/assessments/{draft.pk}/submit",
        {"revision": saved.json()["revision"]},
        format="json",
    )
    assert submitted.status_code == 200, submitted.content
    assert anon.get(f"/api/v1/sources/{source.slug}").status_code == 404
    source.refresh_from_db()
    assert not source.listed
    assert not swept(source)

    approved = curator_api.post(
        f"/api/v1/assessments/{draft.pk}/approve",
        {"revision": submitted.json()["revision"]},
        format="json",
    )
    assert approved.status_code == 200, approved.content
    assert anon.get(f"/api/v1/sources/{source.slug}").json()["url"] == EVIDENCE_URL
    assert swept(source)


def test_a_rejected_draft_leaves_its_address_unlisted(reviewer, curator, draft):
    amend_one_criterion(draft)
    draft.refresh_from_db()
    submitted = assessment_submit(assessment=draft, author=reviewer, revision=draft.revision)
    assessment_reject(
        assessment=submitted, curator=curator, revision=submitted.revision, reason="Not so."
    )
    source = Source.objects.get(url=EVIDENCE_URL)
    assert not source.listed
    assert not swept(source)


def test_an_unlisted_source_with_crawl_settings_is_still_not_swept(draft):
    amend_one_criterion(draft)
    source = Source.objects.get(url=EVIDENCE_URL)
    CrawlSettings.objects.create(source=source)
    assert not swept(source)


def test_an_address_proposed_in_a_correction_is_public_only_once_approved(
    client, reviewer, curator, mistral
):
    start = timezone.now()
    claim = (
        Claim.objects.filter(provider=mistral)
        .exclude(status=Claim.Status.RETIRED)
        .order_by("pk")
        .first()
    )
    client.force_login(reviewer)
    response = client.post(
        reverse("assessments:correct", args=[claim.pk]),
        {"source_url": CHOSEN_URL, "reason": "The terms moved to a new address."},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    source = Source.objects.get(url=CHOSEN_URL)
    assert not source.listed
    assert public_sightings(source, since=start) == dict.fromkeys(PUBLIC_PLACES, False)
    assert not swept(source)

    correction = source.corrections.get()
    claim_correction_approve(correction=correction, curator=curator, revision=correction.revision)
    claim.refresh_from_db()
    assert claim.source == source
    source.refresh_from_db()
    assert source.listed
    assert public_sightings(source, since=start) == dict.fromkeys(PUBLIC_PLACES, True)
    assert swept(source)


def test_a_source_the_catalogue_lists_stays_listed_when_a_draft_cites_it(client, reviewer, draft):
    listed = Source.objects.create(
        slug="chosen",
        url=CHOSEN_URL,
        title="Chosen page",
        publisher="Example",
        provider=draft.provider,
        doc_type=Source.DocType.TERMS,
    )
    client.force_login(reviewer)
    assert cite_on_the_web(client, draft).status_code == 302
    assert Source.objects.get(url=CHOSEN_URL).pk == listed.pk
    listed.refresh_from_db()
    assert listed.listed
