from __future__ import annotations

import base64
import datetime as dt

import pytest
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from assessments.models import Assessment, ClaimCorrection, Rating
from catalog.models import Verification

pytestmark = pytest.mark.django_db


def draft_body(**overrides) -> dict:
    body = {
        "provider": "provider-1",
        "assessed_on": "2026-03-01",
        "verdict": "conditional",
        "conclusion": "Usable with a DPA.",
        "strengths": ["EU hosting"],
        "ratings": [
            {
                "criterion": "dpa",
                "value": "supported",
                "justification": "A DPA is offered.",
                "evidence": [
                    {
                        "source": "provider-1-terms",
                        "quote": "We sign DPAs.",
                        "read_on": "2026-03-01",
                    }
                ],
            },
            {"criterion": "transfers", "value": "partial"},
        ],
    }
    body.update(overrides)
    return body


def test_a_reviewer_creates_a_draft_with_ratings_and_evidence(reviewer, reviewer_user, catalogue):
    response = reviewer.post("/api/v1/assessments", draft_body(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "draft"
    assert body["author"] == "rita"
    assert body["revision"] == 1
    assert [r["criterion"] for r in body["ratings"]] == ["dpa", "transfers"]
    assert body["ratings"][0]["evidence"][0]["source"]["slug"] == "provider-1-terms"
    saved = Assessment.objects.get(pk=body["id"])
    assert saved.author == reviewer_user
    assert saved.ratings.get(criterion__slug="dpa").evidence.get().quote == "We sign DPAs."


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"provider": "nobody"}, "provider"),
        ({"verdict": "great"}, "verdict"),
        ({"assessed_on": "yesterday"}, "assessed_on"),
        ({"ratings": [{"criterion": "dpa", "value": "maybe"}]}, "ratings.0.value"),
        (
            {
                "ratings": [
                    {"criterion": "dpa", "value": "supported", "evidence": [{"source": "x"}]}
                ]
            },
            "ratings.0.evidence.0.source",
        ),
        (
            {"ratings": [{"criterion": "dpa", "value": "partial"}] * 2},
            "ratings.1.criterion",
        ),
    ],
)
def test_a_bad_draft_is_refused_naming_the_field_and_nothing_is_saved(
    reviewer, catalogue, change, path
):
    response = reviewer.post("/api/v1/assessments", draft_body(**change), format="json")
    assert response.status_code == 400, response.content
    assert path in [f["path"] for f in response.json()["error"]["fields"]]
    assert not Assessment.objects.exists()
    assert not Rating.objects.exists()


def test_an_update_needs_the_current_revision_and_replaces_ratings(reviewer, catalogue):
    created = reviewer.post("/api/v1/assessments", draft_body(), format="json").json()
    url = f"/api/v1/assessments/{created['id']}"
    updated = reviewer.patch(
        url,
        {
            "revision": 1,
            "conclusion": "Better.",
            "ratings": [{"criterion": "dpa", "value": "partial"}],
        },
        format="json",
    )
    assert updated.status_code == 200, updated.content
    assert updated.json()["revision"] == 2
    assert [(r["criterion"], r["value"]) for r in updated.json()["ratings"]] == [("dpa", "partial")]

    stale = reviewer.patch(url, {"revision": 1, "conclusion": "Lost update"}, format="json")
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    assert Assessment.objects.get(pk=created["id"]).conclusion == "Better."


def test_an_update_without_a_revision_is_refused(reviewer, catalogue):
    created = reviewer.post("/api/v1/assessments", draft_body(), format="json").json()
    response = reviewer.patch(
        f"/api/v1/assessments/{created['id']}", {"conclusion": "x"}, format="json"
    )
    assert response.status_code == 400
    assert [f["path"] for f in response.json()["error"]["fields"]] == ["revision"]


def test_approval_publishes_and_supersedes_the_previous_published_assessment(
    reviewer, curator, assessments
):
    previous = assessments.published
    created = reviewer.post("/api/v1/assessments", draft_body(provider="provider-0"), format="json")
    new_id = created.json()["id"]
    response = curator.post(f"/api/v1/assessments/{new_id}/approve", format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "published"
    assert response.json()["supersedes"] == previous.pk
    previous.refresh_from_db()
    assert previous.status == Assessment.Status.SUPERSEDED
    assert Assessment.objects.filter(provider=previous.provider, status="published").count() == 1

    again = curator.post(f"/api/v1/assessments/{new_id}/approve", format="json")
    assert again.status_code == 409
    # A published assessment is no longer the author's to edit.
    edit = reviewer.patch(f"/api/v1/assessments/{new_id}", {"revision": 2}, format="json")
    assert edit.status_code == 409


def test_an_approved_correction_changes_the_claim_and_leaves_a_trail(
    reviewer, curator, curator_user, catalogue
):
    claim = catalogue.claims[0]
    proposed = reviewer.post(
        "/api/v1/claim-corrections",
        {
            "claim": claim.pk,
            "value_flag": "no",
            "condition": "Only on the Enterprise plan.",
            "reason": "The terms changed in March.",
        },
        format="json",
    )
    assert proposed.status_code == 201, proposed.content
    claim.refresh_from_db()
    assert claim.value_flag == "yes", "a proposal alone changes nothing"

    approved = curator.post(f"/api/v1/claim-corrections/{proposed.json()['id']}/approve")
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"
    assert approved.json()["decided_by"] == "carla"
    claim.refresh_from_db()
    assert (claim.value_flag, claim.condition) == ("no", "Only on the Enterprise plan.")
    assert claim.checked_at == timezone.localdate()
    assert Verification.objects.filter(claim=claim, actor=curator_user).count() == 1
    assert claim.history.count() == 2


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"reason": "nothing proposed"}, "value_flag"),
        ({"reason": "", "value_flag": "no"}, "reason"),
        ({"reason": "two values", "value_flag": "no", "value_text": "x"}, "value_flag"),
        ({"reason": "wrong type", "value_text": "a text for a flag key"}, "value_flag"),
        ({"reason": "bad source", "source": "no-such-source"}, "source"),
    ],
)
def test_a_bad_correction_is_refused_naming_the_field(reviewer, catalogue, body, path):
    response = reviewer.post(
        "/api/v1/claim-corrections", {"claim": catalogue.claims[0].pk, **body}, format="json"
    )
    assert response.status_code == 400, response.content
    assert path in [f["path"] for f in response.json()["error"]["fields"]]
    assert not ClaimCorrection.objects.exists()


def test_a_token_is_made_by_signing_in_stored_hashed_and_works_until_revoked(reviewer_user):
    basic = base64.b64encode(b"rita:correct horse battery").decode()
    client = APIClient()
    created = client.post(
        "/api/v1/auth/tokens",
        {"expires_in_days": 7},
        format="json",
        HTTP_AUTHORIZATION=f"Basic {basic}",
    )
    assert created.status_code == 201, created.content
    token = created.json()["token"]
    stored = AuthToken.objects.get(user=reviewer_user)
    assert token not in (stored.digest, stored.token_key)
    assert stored.expiry - timezone.now() > dt.timedelta(days=6)

    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    body = {"provider": "provider-0", "assessed_on": "2026-01-01"}
    from tests.api.conftest import build_catalogue

    build_catalogue(providers=1, models_per_provider=1)
    assert api.post("/api/v1/assessments", body, format="json").status_code == 201
    assert api.delete("/api/v1/auth/tokens/current").status_code == 204
    refused = api.post("/api/v1/assessments", body, format="json")
    assert refused.status_code == 401
    assert refused.json()["error"]["code"] in {"authentication_failed", "not_authenticated"}


def test_a_wrong_password_gets_no_token(db, reviewer_user):
    basic = base64.b64encode(b"rita:wrong").decode()
    response = APIClient().post(
        "/api/v1/auth/tokens", {}, format="json", HTTP_AUTHORIZATION=f"Basic {basic}"
    )
    assert response.status_code == 401
    assert not AuthToken.objects.exists()


def test_an_expired_token_is_refused(reviewer_user, catalogue):
    instance, token = AuthToken.objects.create(reviewer_user, expiry=dt.timedelta(days=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.post("/api/v1/assessments", {"provider": "provider-0"}, format="json")
    assert response.status_code == 401


def test_throttling_counts_each_token_and_each_anonymous_client_apart(
    settings, reviewer_user, curator_user, catalogue
):
    from rest_framework.settings import api_settings

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "client": "4/minute"},
    }
    assert api_settings.DEFAULT_THROTTLE_RATES["anon"] == "3/minute"
    anon = APIClient()
    statuses = [anon.get("/api/v1/licences").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = anon.get("/api/v1/licences")
    assert limited.json()["error"]["code"] == "throttled"
    assert int(limited["Retry-After"]) > 0

    first, second = APIClient(), APIClient()
    for client, user in ((first, reviewer_user), (second, reviewer_user)):
        _, token = AuthToken.objects.create(user, expiry=dt.timedelta(days=1))
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [first.get("/api/v1/licences").status_code for _ in range(5)] == [200] * 4 + [429]
    # Another token of the same user has its own bucket.
    assert second.get("/api/v1/licences").status_code == 200
