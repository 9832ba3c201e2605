"""Every endpoint x {anonymous, reviewer, another reviewer, curator, token client} x method.

The table says what each character gets; anything else is an unexpected allow
(or an unexpected refusal). Anonymous writes are always refused; another
reviewer's draft is a 404 whatever the method.
"""

from __future__ import annotations

import pytest

from assessments.models import Assessment, ClaimCorrection

pytestmark = pytest.mark.django_db

CHARACTERS = ("anon", "reviewer", "other_reviewer", "curator", "token_client")

CATALOGUE = [
    ("/api/v1/providers", "/api/v1/providers/provider-0"),
    ("/api/v1/models", "/api/v1/models/model-0-0"),
    ("/api/v1/licences", "/api/v1/licences/apache-2-0"),
    ("/api/v1/claims", "/api/v1/claims/{claim}"),
    ("/api/v1/claim-keys", "/api/v1/claim-keys/eu_data_residency"),
    ("/api/v1/sources", "/api/v1/sources/provider-0-terms"),
    ("/api/v1/prices", "/api/v1/prices/{price}"),
    ("/api/v1/criteria", "/api/v1/criteria/dpa"),
]


def everyone(status: int) -> dict[str, int]:
    return dict.fromkeys(CHARACTERS, status)


def signed_in(status: int, *, anon: int = 401) -> dict[str, int]:
    return {**everyone(status), "anon": anon}


@pytest.fixture
def world(assessments, reviewer_user):
    from catalog.models import Price

    cat = assessments
    cat.correction = ClaimCorrection.objects.create(
        claim=cat.claims[0], author=reviewer_user, reason="The terms changed.", value_flag="no"
    )
    cat.price = Price.objects.first()
    return cat


def fill(url: str, world) -> str:
    return url.format(
        claim=world.claims[0].pk,
        price=world.price.pk,
        published=world.published.pk,
        rita_draft=world.rita_draft.pk,
        oscar_draft=world.oscar_draft.pk,
        correction=world.correction.pk,
    )


def call(client, method: str, url: str, body: dict | None = None):
    return getattr(client, method)(url, body or {}, format="json")


def check(request, world, method: str, url: str, expected: dict[str, int], body=None):
    url = fill(url, world)
    for character in CHARACTERS:
        client = request.getfixturevalue(character)
        response = call(client, method, url, body)
        assert response.status_code == expected[character], (
            f"{character} {method.upper()} {url}: {response.status_code} {response.content[:300]}"
        )
        if response.status_code >= 400:
            assert "error" in response.json(), (character, method, url)


@pytest.mark.parametrize(("list_url", "detail_url"), CATALOGUE)
def test_the_catalogue_is_read_by_everyone_and_written_by_no_one(
    request, world, list_url, detail_url
):
    check(request, world, "get", list_url, everyone(200))
    check(request, world, "get", detail_url, everyone(200))
    check(request, world, "post", list_url, signed_in(405))
    for method in ("put", "patch", "delete"):
        check(request, world, method, detail_url, signed_in(405))


def test_assessment_lists_show_published_ones_plus_your_own_and_everything_to_a_curator(
    request, world
):
    expected = {
        "anon": {world.published.pk},
        "reviewer": {world.published.pk, world.rita_draft.pk},
        "other_reviewer": {world.published.pk, world.oscar_draft.pk},
        "curator": {world.published.pk, world.rita_draft.pk, world.oscar_draft.pk},
        "token_client": {world.published.pk},
    }
    for character, ids in expected.items():
        body = request.getfixturevalue(character).get("/api/v1/assessments").json()
        assert {item["id"] for item in body["results"]} == ids, character


def test_reading_a_draft_is_for_its_author_and_curators_only(request, world):
    check(request, world, "get", "/api/v1/assessments/{published}", everyone(200))
    check(
        request,
        world,
        "get",
        "/api/v1/assessments/{rita_draft}",
        {"anon": 404, "reviewer": 200, "other_reviewer": 404, "curator": 200, "token_client": 404},
    )


def test_anyone_with_a_role_creates_drafts_and_nobody_anonymously(request, world):
    body = {"provider": "provider-0", "assessed_on": "2026-01-01", "verdict": "conditional"}
    check(request, world, "post", "/api/v1/assessments", signed_in(201), body)
    drafts = Assessment.objects.filter(status="draft", provider__slug="provider-0")
    assert sorted(d.author.username for d in drafts) == ["carla", "oscar", "rita", "tobias"]


def test_only_the_author_updates_a_draft(request, world):
    check(
        request,
        world,
        "patch",
        "/api/v1/assessments/{rita_draft}",
        # Rita's first PATCH bumps the revision, so the curator's later one is refused on
        # permission before the revision is even compared.
        {"anon": 401, "reviewer": 200, "other_reviewer": 404, "curator": 403, "token_client": 404},
        {"revision": 1, "conclusion": "Fine."},
    )
    check(
        request,
        world,
        "patch",
        "/api/v1/assessments/{published}",
        {"anon": 401, "reviewer": 403, "other_reviewer": 403, "curator": 409, "token_client": 403},
        {"revision": 1, "conclusion": "Rewritten."},
    )
    world.published.refresh_from_db()
    assert world.published.conclusion == ""


def test_only_curators_approve(request, world):
    check(
        request,
        world,
        "post",
        "/api/v1/assessments/{oscar_draft}/approve",
        {"anon": 401, "reviewer": 403, "other_reviewer": 403, "curator": 200, "token_client": 403},
    )


@pytest.mark.parametrize("method", ["put", "delete"])
def test_assessments_cannot_be_replaced_or_deleted(request, world, method):
    check(request, world, method, "/api/v1/assessments/{rita_draft}", signed_in(405))


def test_claim_corrections_are_private_to_their_author_and_curators(request, world):
    expected_ids = {
        "reviewer": {world.correction.pk},
        "other_reviewer": set(),
        "curator": {world.correction.pk},
        "token_client": set(),
    }
    for character, ids in expected_ids.items():
        body = request.getfixturevalue(character).get("/api/v1/claim-corrections").json()
        assert {item["id"] for item in body["results"]} == ids, character
    check(request, world, "get", "/api/v1/claim-corrections", signed_in(200))
    check(
        request,
        world,
        "get",
        "/api/v1/claim-corrections/{correction}",
        {"anon": 401, "reviewer": 200, "other_reviewer": 404, "curator": 200, "token_client": 404},
    )


def test_reviewers_propose_corrections_and_curators_approve_them(request, world):
    body = {"claim": world.claims[1].pk, "reason": "Quote is outdated.", "evidence_quote": "New"}
    check(request, world, "post", "/api/v1/claim-corrections", signed_in(201), body)
    check(
        request,
        world,
        "post",
        "/api/v1/claim-corrections/{correction}/approve",
        {"anon": 401, "reviewer": 403, "other_reviewer": 403, "curator": 200, "token_client": 403},
    )
    for method in ("put", "patch", "delete"):
        check(request, world, method, "/api/v1/claim-corrections/{correction}", signed_in(405))


def test_public_tools_are_open_to_everyone_but_only_for_their_method(request, world):
    check(request, world, "post", "/api/v1/requirements/check", everyone(200), {})
    check(request, world, "get", "/api/v1/requirements/check", everyone(405))
    check(request, world, "get", "/api/v1/changes?since=2000-01-01T00:00:00Z", everyone(200))
    check(request, world, "post", "/api/v1/changes", everyone(405))
    for export in ("/api/v1/exports/catalogue.json", "/api/v1/exports/claims.csv"):
        check(request, world, "get", export, everyone(200))
        check(request, world, "delete", export, everyone(405))


def test_tokens_are_created_only_when_signed_in(request, world):
    check(request, world, "post", "/api/v1/auth/tokens", signed_in(201), {})
    check(request, world, "get", "/api/v1/auth/tokens", signed_in(405))
