"""Every endpoint x {anonymous, reviewer, another reviewer, curator, token client} x method.

The table says what each character gets; anything else is an unexpected allow
(or an unexpected refusal). Anonymous writes are always refused; another
reviewer's draft is a 404 whatever the method.
"""

from __future__ import annotations

import pytest

from assessments.models import Assessment, ClaimCorrection, ModerationNote
from tests.factories import complete_draft

pytestmark = pytest.mark.django_db

# Fixture names of the suite's characters (tests/conftest.py), in the order they call.
CHARACTERS = ("anon", "reviewer_api", "other_reviewer_api", "curator_api", "token_client")

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


def by(
    *, anon: int = 401, reviewer: int, other_reviewer: int, curator: int, token_client: int
) -> dict[str, int]:
    return {
        "anon": anon,
        "reviewer_api": reviewer,
        "other_reviewer_api": other_reviewer,
        "curator_api": curator,
        "token_client": token_client,
    }


# Rita's own record: she and curators see it; others get 404 in every method.
AUTHOR_ONLY = by(reviewer=200, other_reviewer=404, curator=403, token_client=404)
CURATORS_ONLY = by(reviewer=403, other_reviewer=403, curator=200, token_client=403)
AUTHOR_AND_CURATORS = by(reviewer=200, other_reviewer=404, curator=200, token_client=404)


@pytest.fixture
def world(assessments, reviewer):
    from catalog.models import Price

    cat = assessments
    cat.correction = ClaimCorrection.objects.create(
        claim=cat.claims[0], author=reviewer, reason="The terms changed.", value_flag="no"
    )
    cat.sent_back = ClaimCorrection.objects.create(
        claim=cat.claims[1],
        author=reviewer,
        reason="The quote moved.",
        evidence_quote="New words.",
        status=ClaimCorrection.Status.CHANGES_REQUESTED,
    )
    cat.complete = complete_draft(cat=cat, author=reviewer)
    cat.submission = complete_draft(cat=cat, author=reviewer, status="submitted")
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
        sent_back=world.sent_back.pk,
        complete=world.complete.pk,
        submission=world.submission.pk,
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
    rita = {world.rita_draft.pk, world.complete.pk, world.submission.pk}
    expected = {
        "anon": {world.published.pk},
        "reviewer_api": {world.published.pk, *rita},
        "other_reviewer_api": {world.published.pk, world.oscar_draft.pk},
        "curator_api": {world.published.pk, world.oscar_draft.pk, *rita},
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
        by(anon=404, reviewer=200, other_reviewer=404, curator=200, token_client=404),
    )


def test_anyone_with_a_role_creates_drafts_and_nobody_anonymously(request, world):
    body = {"provider": "provider-0", "assessed_on": "2026-01-01", "verdict": "conditional"}
    check(request, world, "post", "/api/v1/assessments", signed_in(201), body)
    drafts = Assessment.objects.filter(status="draft", provider__slug="provider-0")
    assert sorted(d.author.username for d in drafts) == [
        "carla-curator",
        "oscar-reviewer",
        "rita-reviewer",
        "tobias-token",
    ]


def test_only_the_author_updates_a_draft(request, world):
    check(
        request,
        world,
        "patch",
        "/api/v1/assessments/{rita_draft}",
        # Rita's first PATCH bumps the revision, so the curator's later one is refused on
        # permission before the revision is even compared.
        AUTHOR_ONLY,
        {"revision": 1, "conclusion": "Fine."},
    )
    check(
        request,
        world,
        "patch",
        "/api/v1/assessments/{published}",
        by(reviewer=403, other_reviewer=403, curator=409, token_client=403),
        {"revision": 1, "conclusion": "Rewritten."},
    )
    world.published.refresh_from_db()
    assert world.published.conclusion == ""


def test_only_the_author_submits_a_draft(request, world):
    check(
        request,
        world,
        "post",
        "/api/v1/assessments/{complete}/submit",
        AUTHOR_ONLY,
        {"revision": 1},
    )
    world.complete.refresh_from_db()
    assert world.complete.status == "submitted"


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("request-changes", {"comment": "Quote the terms."}, "changes_requested"),
        ("reject", {"reason": "Not about this provider."}, "rejected"),
        ("approve", {}, "published"),
    ],
)
def test_only_curators_decide_on_a_submission(request, world, action, body, status):
    url = "/api/v1/assessments/{submission}/" + action
    check(request, world, "post", url, CURATORS_ONLY, {"revision": 1, **body})
    world.submission.refresh_from_db()
    assert world.submission.status == status


def test_only_curators_revert_a_publication(request, world):
    body = {"revision": world.published.revision, "reason": "Published by mistake."}
    check(request, world, "post", "/api/v1/assessments/{published}/revert", CURATORS_ONLY, body)
    world.published.refresh_from_db()
    assert world.published.status == "superseded"


ACTION_WORDS = {
    "submit": {},
    "request-changes": {"comment": "Quote the terms."},
    "reject": {"reason": "Not about this provider."},
    "approve": {},
    "revert": {"reason": "Published by mistake."},
}


@pytest.mark.parametrize("action", sorted(ACTION_WORDS))
def test_no_action_reaches_another_reviewers_draft(request, world, action):
    """Oscar's draft: Rita and the token client cannot see it (404 for the author's action,
    403 for a curator's, refused before the draft is looked up); Oscar's own submission is
    refused as incomplete; a curator cannot submit it and cannot decide on a draft."""
    if action == "submit":
        expected = by(reviewer=404, other_reviewer=400, curator=403, token_client=404)
    else:
        expected = by(reviewer=403, other_reviewer=403, curator=409, token_client=403)
    body = {"revision": 1, **ACTION_WORDS[action]}
    check(request, world, "post", "/api/v1/assessments/{oscar_draft}/" + action, expected, body)
    world.oscar_draft.refresh_from_db()
    assert (world.oscar_draft.status, world.oscar_draft.revision) == ("draft", 1)


@pytest.mark.parametrize("method", ["put", "delete"])
def test_assessments_cannot_be_replaced_or_deleted(request, world, method):
    check(request, world, method, "/api/v1/assessments/{rita_draft}", signed_in(405))


def test_claim_corrections_are_private_to_their_author_and_curators(request, world):
    expected_ids = {
        "reviewer_api": {world.correction.pk, world.sent_back.pk},
        "other_reviewer_api": set(),
        "curator_api": {world.correction.pk, world.sent_back.pk},
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
        by(reviewer=200, other_reviewer=404, curator=200, token_client=404),
    )


def test_reviewers_propose_corrections(request, world):
    body = {"claim": world.claims[1].pk, "reason": "Quote is outdated.", "evidence_quote": "New"}
    check(request, world, "post", "/api/v1/claim-corrections", signed_in(201), body)
    for method in ("put", "delete"):
        check(request, world, method, "/api/v1/claim-corrections/{correction}", signed_in(405))


@pytest.mark.parametrize(
    ("action", "body", "status"),
    [
        ("request-changes", {"comment": "Which plan?"}, "changes_requested"),
        ("reject", {"reason": "The terms say otherwise."}, "rejected"),
        ("approve", {}, "approved"),
    ],
)
def test_only_curators_decide_on_a_correction(request, world, action, body, status):
    url = "/api/v1/claim-corrections/{correction}/" + action
    check(request, world, "post", url, CURATORS_ONLY, {"revision": 1, **body})
    world.correction.refresh_from_db()
    assert world.correction.status == status


def test_only_the_author_amends_and_resubmits_a_correction_sent_back(request, world):
    url = "/api/v1/claim-corrections/{sent_back}"
    check(request, world, "patch", url, AUTHOR_ONLY, {"revision": 1, "reason": "Moved again."})
    check(request, world, "post", url + "/submit", AUTHOR_ONLY, {"revision": 2})
    world.sent_back.refresh_from_db()
    assert (world.sent_back.status, world.sent_back.reason) == ("pending", "Moved again.")


def test_public_tools_are_open_to_everyone_but_only_for_their_method(request, world):
    check(request, world, "post", "/api/v1/requirements/check", everyone(200), {})
    check(request, world, "get", "/api/v1/requirements/check", everyone(405))
    check(request, world, "get", "/api/v1/changes?since=2000-01-01T00:00:00Z", everyone(200))
    check(request, world, "post", "/api/v1/changes", everyone(405))
    for export in ("/api/v1/exports/catalogue.json", "/api/v1/exports/claims.csv"):
        check(request, world, "get", export, everyone(200))
        check(request, world, "delete", export, everyone(405))


def test_tokens_are_created_only_when_signed_in(request, world):
    # Signed in, not with a token: a token never makes another.
    check(
        request, world, "post", "/api/v1/auth/tokens", {**signed_in(201), "token_client": 403}, {}
    )
    check(request, world, "get", "/api/v1/auth/tokens", signed_in(405))


@pytest.mark.parametrize(
    "url",
    [
        *(f"/api/v1/assessments/{{submission}}/{action}" for action in sorted(ACTION_WORDS)),
        *(
            f"/api/v1/claim-corrections/{{correction}}/{action}"
            for action in ("submit", "request-changes", "reject", "approve")
        ),
    ],
)
def test_moderation_actions_take_only_a_post(request, world, url):
    before = [(a.pk, a.status, a.revision) for a in Assessment.objects.order_by("pk")] + [
        (c.pk, c.status, c.revision) for c in ClaimCorrection.objects.order_by("pk")
    ]
    for method in ("get", "put", "patch", "delete"):
        for character in CHARACTERS:
            response = call(request.getfixturevalue(character), method, fill(url, world))
            # Refused on who you are (401, 403) or on the method (405), never done.
            assert response.status_code in {401, 403, 405}, (character, method, url)
            if character == "anon":
                assert response.status_code in {401, 405}
            assert "error" in response.json()
    after = [(a.pk, a.status, a.revision) for a in Assessment.objects.order_by("pk")] + [
        (c.pk, c.status, c.revision) for c in ClaimCorrection.objects.order_by("pk")
    ]
    assert after == before


def test_a_moderation_thread_is_read_and_commented_on_by_its_author_and_curators(request, world):
    for url in (
        "/api/v1/assessments/{submission}/notes",
        "/api/v1/claim-corrections/{correction}/notes",
    ):
        check(request, world, "get", url, AUTHOR_AND_CURATORS)
        written = by(reviewer=201, other_reviewer=404, curator=201, token_client=404)
        check(request, world, "post", url, written, {"text": "Seen."})
    # A draft's thread is its author's alone, as on the web pages.
    check(
        request,
        world,
        "get",
        "/api/v1/assessments/{rita_draft}/notes",
        by(reviewer=200, other_reviewer=404, curator=404, token_client=404),
    )
    assert ModerationNote.objects.filter(action="comment", text="Seen.").count() == 4
