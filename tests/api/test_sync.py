"""A client mirrors the catalogue through the API and catches up incrementally."""

from __future__ import annotations

import time

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import AIModel, Claim, Provider, Verification

pytestmark = pytest.mark.django_db

RESOURCES = {
    "providers": "slug",
    "models": "slug",
    "licences": "slug",
    "sources": "slug",
    "claims": "id",
    "prices": "id",
}


def mirror(client: APIClient, *, since: str | None = None) -> dict[str, dict]:
    """Page through every list (optionally only what changed since); key records by lookup."""
    copy: dict[str, dict] = {}
    for resource, lookup in RESOURCES.items():
        params = {"page_size": 3}
        if since:
            params["updated_since"] = since
        url, first = f"/api/v1/{resource}", True
        while url:
            response = client.get(url, params if first else None)
            assert response.status_code == 200, response.content
            first = False
            for item in response.json()["results"]:
                copy[f"{resource}/{item[lookup]}"] = item
            url = response.json()["next"]
    return copy


def test_a_mirror_resyncs_exactly_the_three_changed_records(anon, small_catalogue):
    full = mirror(anon)
    assert len(full) == 2 + 4 + 2 + 2 + 8 + 4

    # ETags of untouched resources, taken before the changes.
    untouched = ["/api/v1/models/model-0-1", "/api/v1/licences", "/api/v1/sources"]
    etags = {url: anon.get(url)["ETag"] for url in untouched}
    time.sleep(0.01)
    since = timezone.now().isoformat()
    time.sleep(0.01)

    provider = Provider.objects.get(slug="provider-1")
    provider.summary = "Now with an EU region."
    provider.save()
    model = AIModel.objects.get(slug="model-0-0")
    model.context_window = 128000
    model.save()
    claim = Claim.objects.get(pk=small_catalogue.claims[1].pk)
    claim.status = Claim.Status.RETIRED
    claim.save()

    delta = mirror(anon, since=since)
    assert sorted(delta) == sorted(
        ["providers/provider-1", "models/model-0-0", f"claims/{claim.pk}"]
    )
    assert delta["models/model-0-0"]["context_window"] == 128000

    changes = anon.get("/api/v1/changes", {"since": since}).json()
    assert [(c["resource"], c["id"], c["change"]) for c in changes["changes"]] == [
        ("provider", "provider-1", "updated"),
        ("model", "model-0-0", "updated"),
        ("claim", str(claim.pk), "retired"),
    ]
    assert changes["truncated"] is False
    for change in changes["changes"]:
        assert anon.get(change["url"]).status_code == 200

    for url, etag in etags.items():
        assert anon.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304, url
    before = full["models/model-0-0"]["updated_at"]
    assert delta["models/model-0-0"]["updated_at"] != before


def test_a_list_and_a_detail_answer_304_while_unchanged_and_200_after_a_change(
    anon, small_catalogue
):
    for url in ("/api/v1/models?provider=provider-0", "/api/v1/providers/provider-0"):
        first = anon.get(url)
        assert first["ETag"] and first["Last-Modified"]
        again = anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304
        assert again.content == b""
        assert anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304

    time.sleep(1)  # Last-Modified has a resolution of one second
    # A nested record changes: the provider's page embeds its claims.
    claim = Claim.objects.filter(provider__slug="provider-0").first()
    claim.note = "Re-read today."
    claim.save()
    url = "/api/v1/providers/provider-0"
    assert anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_the_changes_feed_reports_creations_and_pages_with_next_since(anon, small_catalogue):
    since = timezone.now().isoformat()
    Provider.objects.create(slug="newcomer", name="Newcomer", kind="api_platform")
    body = anon.get("/api/v1/changes", {"since": since}).json()
    assert [(c["resource"], c["id"], c["change"]) for c in body["changes"]] == [
        ("provider", "newcomer", "created")
    ]

    for n in range(3):
        Provider.objects.create(slug=f"bulk-{n}", name=f"Bulk {n}", kind="api_platform")
    page = anon.get("/api/v1/changes", {"since": since, "limit": 2}).json()
    assert page["truncated"] is True
    assert len(page["changes"]) == 2
    rest = anon.get("/api/v1/changes", {"since": page["next_since"]}).json()
    seen = {c["id"] for c in page["changes"]} | {c["id"] for c in rest["changes"]}
    assert seen == {"newcomer", "bulk-0", "bulk-1", "bulk-2"}


def test_drafts_never_appear_in_the_changes_feed(anon, assessments):
    body = anon.get("/api/v1/changes", {"since": "2000-01-01T00:00:00Z", "limit": 5000}).json()
    assessment_ids = {c["id"] for c in body["changes"] if c["resource"] == "assessment"}
    assert assessment_ids == {str(assessments.published.pk)}


@pytest.mark.parametrize(
    "query", [{}, {"since": "last week"}, {"since": "2026-01-01T00:00:00Z", "limit": 0}]
)
def test_the_changes_feed_needs_a_valid_since(anon, db, query):
    response = anon.get("/api/v1/changes", query)
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"].startswith("query.")


def _verify(claim: Claim) -> Verification:
    """What a source crawler or the inference tester writes: a Verification row, and nothing on
    the claim's own row."""
    return Verification.objects.create(
        claim=claim,
        checked_at=timezone.now(),
        method=Verification.Method.INFERENCE_PROBE,
        outcome=Verification.Outcome.CONFIRMED,
        note="Answered as documented.",
    )


def test_a_verification_after_a_sync_appears_in_the_next_incremental_sync(anon, small_catalogue):
    mirror(anon)
    since = timezone.now().isoformat()
    time.sleep(0.01)
    claim = small_catalogue.claims[2]
    before = Claim.objects.get(pk=claim.pk).updated_at
    verification = _verify(claim)
    assert Claim.objects.get(pk=claim.pk).updated_at == before  # the claim row is untouched

    delta = mirror(anon, since=since)
    assert sorted(delta) == [f"claims/{claim.pk}"]
    assert delta[f"claims/{claim.pk}"]["verifications"][0]["note"] == "Answered as documented."

    changes = anon.get("/api/v1/changes", {"since": since}).json()
    assert [(c["resource"], c["id"], c["change"]) for c in changes["changes"]] == [
        ("claim", str(claim.pk), "updated")
    ]
    assert changes["changes"][0]["changed_at"] == verification.created_at.isoformat().replace(
        "+00:00", "Z"
    )

    # The sync after that one has nothing left to fetch.
    later = changes["until"]
    assert mirror(anon, since=later) == {}
    assert anon.get("/api/v1/changes", {"since": later}).json()["changes"] == []


def test_the_changes_feed_pages_claims_by_their_latest_edit_or_verification(anon, small_catalogue):
    since = timezone.now()
    first, second, third = (
        small_catalogue.claims[0],
        small_catalogue.claims[1],
        small_catalogue.claims[2],
    )
    first.note = "Edited first."
    first.save()
    time.sleep(0.01)
    second.note = "Edited second."
    second.save()
    time.sleep(0.01)
    _verify(third)
    time.sleep(0.01)
    _verify(first)  # now the latest of the three

    page = anon.get("/api/v1/changes", {"since": since.isoformat(), "limit": 2}).json()
    assert page["truncated"] is True
    assert [c["id"] for c in page["changes"]] == [str(second.pk), str(third.pk)]
    rest = anon.get("/api/v1/changes", {"since": page["next_since"]}).json()
    assert [c["id"] for c in rest["changes"]] == [str(third.pk), str(first.pk)]
    assert rest["truncated"] is False


def test_updated_since_lists_each_claim_edited_or_verified_since_exactly_once(
    anon, small_catalogue
):
    since = timezone.now()
    edited, verified, both = (
        small_catalogue.claims[0],
        small_catalogue.claims[1],
        small_catalogue.claims[2],
    )
    edited.note = "Re-read today."
    edited.save()
    _verify(verified)
    both.note = "Re-read and probed today."
    both.save()
    _verify(both)
    _verify(both)

    ids, url, params = [], "/api/v1/claims", {"updated_since": since.isoformat(), "page_size": 1}
    while url:
        response = anon.get(url, params)
        assert response.status_code == 200, response.content
        ids += [claim["id"] for claim in response.json()["results"]]
        url, params = response.json()["next"], None
    # Once each (the twice-verified one too), in the list's order (by id), one per page; the
    # untouched claims not at all.
    assert ids == sorted([edited.pk, verified.pk, both.pk])
    assert Claim.objects.exclude(pk__in=ids).exists()
