"""The moderation thread through the API: `.../notes` of an assessment and of a correction.

Read and commented on by the people the web pages show it to (the author and curators), in
the order it happened; a comment lands in the same thread the web pages show.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Assessment, ClaimCorrection, ModerationNote
from assessments.services.assessments import assessment_request_changes, assessment_submit
from assessments.services.corrections import claim_correction_request_changes
from assessments.services.moderation import thread_comment
from tests.factories import api_client_for, complete_draft

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_back(assessments, reviewer, curator) -> Assessment:
    """Rita's submission, sent back by Carla with what to change, and Rita's reply."""
    draft = complete_draft(cat=assessments, author=reviewer)
    submitted = assessment_submit(assessment=draft, author=reviewer, revision=1)
    assessment_request_changes(
        assessment=submitted,
        curator=curator,
        revision=submitted.revision,
        comment="Name the data centres.",
    )
    thread_comment(assessment=submitted, user=reviewer, text="Paris and Lyon.")
    return submitted


@pytest.fixture
def correction(small_catalogue, reviewer, curator) -> ClaimCorrection:
    """Rita's correction, sent back by Carla asking which plan."""
    proposed = ClaimCorrection.objects.create(
        claim=small_catalogue.claims[0],
        author=reviewer,
        reason="The terms changed.",
        value_flag="no",
    )
    return claim_correction_request_changes(
        correction=proposed, curator=curator, revision=1, comment="Which plan?"
    )


def steps(response) -> list[tuple[str, str, str]]:
    return [(n["action"], n["author"], n["text"]) for n in response.json()["results"]]


def paths(response) -> list[str]:
    return [f["path"] for f in response.json()["error"]["fields"]]


# --- reading ----------------------------------------------------------------------------------


def test_the_author_and_a_curator_read_the_assessment_thread_in_order(
    reviewer_api, curator_api, sent_back
):
    expected = [
        ("submit", "rita-reviewer", ""),
        ("request_changes", "carla-curator", "Name the data centres."),
        ("comment", "rita-reviewer", "Paris and Lyon."),
    ]
    for client in (reviewer_api, curator_api):
        response = client.get(f"/api/v1/assessments/{sent_back.pk}/notes")
        assert response.status_code == 200, response.content
        assert steps(response) == expected
        assert "@example.org" not in response.content.decode()
    note = response.json()["results"][1]
    assert set(note) == {"id", "action", "text", "author", "created_at"}
    stored = ModerationNote.objects.get(pk=note["id"])
    assert stored.created_at.isoformat().replace("+00:00", "Z") == note["created_at"]


def test_the_author_and_a_curator_read_the_correction_thread(reviewer_api, curator_api, correction):
    for client in (reviewer_api, curator_api):
        response = client.get(f"/api/v1/claim-corrections/{correction.pk}/notes")
        assert response.status_code == 200, response.content
        assert steps(response) == [("request_changes", "carla-curator", "Which plan?")]


def test_a_thread_is_paged_with_a_cursor_oldest_first(reviewer_api, sent_back):
    url = f"/api/v1/assessments/{sent_back.pk}/notes"
    first = reviewer_api.get(url, {"page_size": 2})
    assert [a for a, _, _ in steps(first)] == ["submit", "request_changes"]
    rest = reviewer_api.get(first.json()["next"])
    assert [a for a, _, _ in steps(rest)] == ["comment"]
    assert rest.json()["next"] is None


def test_a_thread_takes_no_list_filters(reviewer_api, sent_back):
    response = reviewer_api.get(f"/api/v1/assessments/{sent_back.pk}/notes", {"status": "draft"})
    assert response.status_code == 400
    assert paths(response) == ["query.status"]


def send(client, method: str, url: str):
    body = {"text": "Hello."} if method == "post" else None
    return getattr(client, method)(url, body, format="json")


def test_outsiders_and_other_reviewers_get_404_and_anonymous_clients_401(
    anon, outsider, other_reviewer_api, sent_back, correction, assessments
):
    outsider_api = api_client_for(outsider)
    for url in (
        f"/api/v1/assessments/{sent_back.pk}/notes",
        # Published, so everyone reads the assessment, but its thread is not public.
        f"/api/v1/assessments/{assessments.published.pk}/notes",
    ):
        for method in ("get", "post"):
            assert send(anon, method, url).status_code == 401
            for client in (outsider_api, other_reviewer_api):
                response = send(client, method, url)
                assert response.status_code == 404, (url, method, response.content)
                assert response.json()["error"]["code"] == "not_found"
    url = f"/api/v1/claim-corrections/{correction.pk}/notes"
    for method in ("get", "post"):
        assert send(anon, method, url).status_code == 401
        assert send(other_reviewer_api, method, url).status_code == 404
        # Every correction endpoint is for reviewers and curators only: 403, as for the rest.
        assert send(outsider_api, method, url).status_code == 403
    assert not ModerationNote.objects.filter(text="Hello.").exists()


def test_a_draft_thread_is_its_authors_alone_as_on_the_web(
    reviewer_api, curator_api, reviewer, assessments
):
    thread_comment(assessment=assessments.rita_draft, user=reviewer, text="Note to self.")
    url = f"/api/v1/assessments/{assessments.rita_draft.pk}/notes"
    assert steps(reviewer_api.get(url)) == [("comment", "rita-reviewer", "Note to self.")]
    # A curator reads the draft itself, but not its thread until it is submitted.
    assert curator_api.get(f"/api/v1/assessments/{assessments.rita_draft.pk}").status_code == 200
    assert curator_api.get(url).status_code == 404


# --- commenting -------------------------------------------------------------------------------


def test_a_comment_is_stored_and_shown_in_the_api_and_web_threads(
    client, reviewer_api, curator_api, reviewer, curator, sent_back
):
    url = f"/api/v1/assessments/{sent_back.pk}/notes"
    revision = Assessment.objects.get(pk=sent_back.pk).revision
    response = curator_api.post(url, {"text": "Lyon is not in the terms."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["action"], body["author"], body["text"]) == (
        "comment",
        "carla-curator",
        "Lyon is not in the terms.",
    )
    note = ModerationNote.objects.get(pk=body["id"])
    assert (note.assessment_id, note.author, note.action, note.text) == (
        sent_back.pk,
        curator,
        "comment",
        "Lyon is not in the terms.",
    )
    reply = reviewer_api.post(url, {"text": "Removed Lyon."}, format="json")
    assert reply.status_code == 201, reply.content
    assert steps(reviewer_api.get(url))[-2:] == [
        ("comment", "carla-curator", "Lyon is not in the terms."),
        ("comment", "rita-reviewer", "Removed Lyon."),
    ]
    # A comment changes nothing else: no new revision to read.
    sent_back.refresh_from_db()
    assert (sent_back.status, sent_back.revision) == ("changes_requested", revision)

    client.force_login(reviewer)
    page = client.get(reverse("assessments:edit", args=[sent_back.pk]))
    assert [n.text for n in page.context["notes"]][-2:] == [
        "Lyon is not in the terms.",
        "Removed Lyon.",
    ]
    client.force_login(curator)
    page = client.get(reverse("assessments:moderate", args=[sent_back.pk]))
    assert "Removed Lyon." in page.content.decode()


def test_a_correction_comment_is_stored_and_shown_on_both_web_pages(
    client, reviewer_api, curator_api, reviewer, curator, correction
):
    url = f"/api/v1/claim-corrections/{correction.pk}/notes"
    reply = reviewer_api.post(url, {"text": "Only the Enterprise plan."}, format="json")
    assert reply.status_code == 201, reply.content
    thanks = curator_api.post(url, {"text": "Thanks, amend it please."}, format="json")
    assert thanks.status_code == 201, thanks.content
    assert list(
        ModerationNote.objects.filter(correction=correction).values_list(
            "action", "author__username", "text"
        )
    ) == [
        ("request_changes", "carla-curator", "Which plan?"),
        ("comment", "rita-reviewer", "Only the Enterprise plan."),
        ("comment", "carla-curator", "Thanks, amend it please."),
    ]
    client.force_login(reviewer)
    page = client.get(reverse("assessments:correction_edit", args=[correction.pk]))
    assert "Thanks, amend it please." in page.content.decode()
    client.force_login(curator)
    page = client.get(reverse("assessments:correction", args=[correction.pk]))
    assert "Only the Enterprise plan." in page.content.decode()


@pytest.mark.parametrize(
    ("body", "path", "code"),
    [
        ({}, "text", "required"),
        ({"text": ""}, "text", "blank"),
        ({"text": "   "}, "text", "blank"),
        ({"text": "x" * 4001}, "text", "max_length"),
        ({"text": None}, "text", "null"),
        ({"text": "Fine.", "revision": 3}, "revision", "invalid"),
    ],
)
@pytest.mark.parametrize("resource", ["assessments", "claim-corrections"])
def test_a_bad_comment_is_refused_naming_the_field(
    reviewer_api, sent_back, correction, resource, body, path, code
):
    pk = sent_back.pk if resource == "assessments" else correction.pk
    before = ModerationNote.objects.count()
    response = reviewer_api.post(f"/api/v1/{resource}/{pk}/notes", body, format="json")
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [(f["path"], f["code"]) for f in error["fields"]] == [(path, code)]
    assert ModerationNote.objects.count() == before


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_a_thread_is_only_read_and_commented_on(reviewer_api, sent_back, method):
    response = getattr(reviewer_api, method)(
        f"/api/v1/assessments/{sent_back.pk}/notes", {"text": "x"}, format="json"
    )
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
