"""Reviewer and curator pages: drafts, validation that keeps input, queue, comparison, decisions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from assessments.models import Assessment, Rating
from assessments.services.assessments import (
    assessment_approve,
    assessment_reject,
    assessment_start,
    assessment_submit,
)
from tests.factories import CHANGED_CRITERION, EVIDENCE_URL, published_of


@pytest.fixture
def draft(mistral, reviewer) -> Assessment:
    return assessment_start(author=reviewer, provider=mistral)


def form_data(client, assessment: Assessment) -> dict:
    """What the browser would send back untouched: the form's current values."""
    response = client.get(reverse("assessments:edit", args=[assessment.pk]))
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value is None:
            value = ""
        data[name] = value.isoformat() if hasattr(value, "isoformat") else value
    for row in form.rows():
        data[row.count_name] = len(row.evidence)
    return data


def test_a_reviewer_cannot_see_or_edit_another_reviewers_draft(client, draft, other_reviewer):
    client.force_login(other_reviewer)
    url = reverse("assessments:edit", args=[draft.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"revision": draft.revision, "verdict": "unrated"}).status_code == 404
    assert client.post(
        reverse("assessments:comment", args=[draft.pk]), {"text": "x"}
    ).status_code == (404)
    draft.refresh_from_db()
    assert draft.revision == 1


def test_a_curator_comments_on_their_own_draft_from_its_editing_page(client, curator, mistral):
    draft = assessment_start(author=curator, provider=mistral)
    client.force_login(curator)
    response = client.post(
        reverse("assessments:comment", args=[draft.pk]), {"text": "Check the DPA again."}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("assessments:edit", args=[draft.pk])
    assert list(draft.notes.values_list("action", "text")) == [("comment", "Check the DPA again.")]


def test_a_curator_does_not_comment_on_another_reviewers_draft(client, curator, draft):
    client.force_login(curator)
    response = client.post(reverse("assessments:comment", args=[draft.pk]), {"text": "Hi."})
    assert response.status_code == 404
    assert not draft.notes.exists()


def test_reviewer_pages_need_a_reviewer(client, outsider, draft):
    assert client.get(reverse("assessments:dashboard")).status_code == 302
    client.force_login(outsider)
    assert client.get(reverse("assessments:dashboard")).status_code == 403
    assert client.get(reverse("assessments:queue")).status_code == 403


def test_a_curator_queue_is_for_curators(client, reviewer):
    client.force_login(reviewer)
    assert client.get(reverse("assessments:queue")).status_code == 403


def test_saving_a_draft_keeps_the_change(client, reviewer, draft):
    client.force_login(reviewer)
    data = form_data(client, draft)
    data[f"{CHANGED_CRITERION}-value"] = "supported"
    slot = data[f"{CHANGED_CRITERION}-evcount"] - 1
    data[f"{CHANGED_CRITERION}-ev{slot}-url"] = EVIDENCE_URL
    data[f"{CHANGED_CRITERION}-ev{slot}-quote"] = "Customer data stays in the EU."
    data[f"{CHANGED_CRITERION}-ev{slot}-read_on"] = "2026-11-01"
    versions = Rating.history.count()
    response = client.post(reverse("assessments:edit", args=[draft.pk]), data | {"save": "1"})
    assert response.status_code == 302
    # Only the changed rating gets a new version; the other seven are left alone.
    assert Rating.history.count() == versions + 1
    rating = draft.ratings.get(criterion__slug=CHANGED_CRITERION)
    assert rating.value == "supported"
    assert rating.evidence.filter(source__url=EVIDENCE_URL, read_on="2026-11-01").count() == 1
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.DRAFT


def test_a_malformed_draft_saves_nothing_names_each_field_and_keeps_what_was_typed(
    client, reviewer, draft
):
    client.force_login(reviewer)
    data = form_data(client, draft)
    slot = data[f"{CHANGED_CRITERION}-evcount"] - 1
    data["conclusion"] = "My new conclusion, typed with care."
    data[f"{CHANGED_CRITERION}-value"] = "supported"
    data[f"{CHANGED_CRITERION}-ev{slot}-url"] = "not a web address"
    data[f"{CHANGED_CRITERION}-ev{slot}-quote"] = "The words I copied."
    data[f"{CHANGED_CRITERION}-ev{slot}-read_on"] = "31/02/2026"
    data["assessed_on"] = ""
    response = client.post(reverse("assessments:edit", args=[draft.pk]), data | {"save": "1"})
    assert response.status_code == 400
    form = response.context["form"]
    assert set(form.errors) == {
        f"{CHANGED_CRITERION}-ev{slot}-url",
        f"{CHANGED_CRITERION}-ev{slot}-read_on",
        "assessed_on",
    }
    body = response.content.decode()
    assert "My new conclusion, typed with care." in body
    assert "The words I copied." in body
    assert "not a web address" in body
    assert "31/02/2026" in body
    draft.refresh_from_db()
    assert draft.revision == 1
    assert draft.conclusion != "My new conclusion, typed with care."


def test_submitting_an_incomplete_draft_names_every_missing_field_and_loses_nothing(
    client, reviewer, draft
):
    client.force_login(reviewer)
    data = form_data(client, draft)
    data["conclusion"] = ""
    data["verdict"] = "unrated"
    data["dpa-value"] = ""
    data["dpa-justification"] = ""
    for i in range(data["dpa-evcount"]):
        data[f"dpa-ev{i}-url"] = data[f"dpa-ev{i}-quote"] = data[f"dpa-ev{i}-read_on"] = ""
    data["hybrid-justification"] = ""
    data["server_locations"] = "Kept: typed before the error."
    response = client.post(reverse("assessments:edit", args=[draft.pk]), data | {"submit": "1"})
    assert response.status_code == 400
    form = response.context["form"]
    assert {"verdict", "conclusion", "dpa-value", "hybrid-justification"} <= set(form.errors)
    body = response.content.decode()
    assert "Saved as a draft, not submitted" in body
    assert "Kept: typed before the error." in body
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.DRAFT
    assert draft.server_locations == "Kept: typed before the error."
    # The page carries the new revision, so sending it again after fixing works.
    assert form["revision"].value() == str(draft.revision)


def test_submit_then_curator_sees_the_difference_and_approves(
    client, reviewer, curator, draft, mistral
):
    client.force_login(reviewer)
    data = form_data(client, draft)
    data[f"{CHANGED_CRITERION}-value"] = "supported"
    slot = data[f"{CHANGED_CRITERION}-evcount"] - 1
    data[f"{CHANGED_CRITERION}-ev{slot}-url"] = EVIDENCE_URL
    data[f"{CHANGED_CRITERION}-ev{slot}-quote"] = "Customer data stays in the EU."
    data[f"{CHANGED_CRITERION}-ev{slot}-read_on"] = "2026-11-01"
    response = client.post(reverse("assessments:edit", args=[draft.pk]), data | {"submit": "1"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.SUBMITTED

    client.force_login(curator)
    queue = client.get(reverse("assessments:queue"), {"provider": "mistral"})
    assert [a.pk for a in queue.context["submissions"]] == [draft.pk]
    assert (
        list(client.get(reverse("assessments:queue"), {"author": "nobody"}).context["submissions"])
        == []
    )
    page = client.get(reverse("assessments:moderate", args=[draft.pk]))
    changed = [row.label for row in page.context["comparison"].criteria if row.changed]
    assert changed == ["EU SaaS / managed with EU residency"]
    assert 'id="criterion-eu-saas" class="changed"' in page.content.decode()
    response = client.post(
        reverse("assessments:moderate", args=[draft.pk]),
        {"action": "approve", "revision": draft.revision, "text": "Verified."},
    )
    assert response.status_code == 302
    assert published_of(mistral).pk == draft.pk
    record = Assessment.history.filter(id=draft.pk).latest("history_date")
    assert record.history_user == curator
    assert record.history_change_reason == "Verified."


def test_a_stale_form_is_told_someone_else_decided(client, curator, second_curator, submission):
    client.force_login(curator)
    read = submission.revision
    assessment_reject(
        assessment=submission, curator=second_curator, revision=read, reason="Duplicate."
    )
    response = client.post(
        reverse("assessments:moderate", args=[submission.pk]),
        {"action": "approve", "revision": read, "text": ""},
    )
    assert response.status_code == 409
    assert "changed this assessment meanwhile" in response.content.decode()


def test_the_web_refuses_self_approval(client, curator, mistral):
    draft = assessment_start(author=curator, provider=mistral)
    draft = assessment_submit(assessment=draft, author=curator, revision=1)
    client.force_login(curator)
    response = client.post(
        reverse("assessments:moderate", args=[draft.pk]),
        {"action": "approve", "revision": draft.revision, "text": ""},
    )
    assert response.status_code == 403
    assert "another curator must approve it" in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == Assessment.Status.SUBMITTED


def test_request_changes_needs_a_comment(client, curator, submission):
    client.force_login(curator)
    response = client.post(
        reverse("assessments:moderate", args=[submission.pk]),
        {"action": "request_changes", "revision": submission.revision, "text": ""},
    )
    assert response.status_code == 400
    assert "text" in response.context["form"].errors
    submission.refresh_from_db()
    assert submission.status == Assessment.Status.SUBMITTED


def test_revert_from_the_web_restores_the_previous_assessment(
    client, curator, second_curator, submission, mistral
):
    old = published_of(mistral)
    published = assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision
    ).assessment
    client.force_login(second_curator)
    response = client.post(
        reverse("assessments:revert", args=[published.pk]),
        {"revision": published.revision, "reason": "Published by mistake."},
    )
    assert response.status_code == 302
    assert published_of(mistral).pk == old.pk


@pytest.mark.django_db
# A signed-in curator asking for the login page is sent on to their reviews.
@pytest.mark.parametrize(
    ("path", "queue_links"), [("/", 0), ("/review/", 1), ("/accounts/login/", 1)]
)
def test_the_navigation_offers_each_account_link_once(client, curator, path, queue_links):
    def nav() -> str:
        html = client.get(path, follow=True).content.decode()
        return html.split('<nav aria-label="Main">', 1)[1].split("</nav>", 1)[0]

    links = nav()
    assert links.count(">Sign in</a>") == 1
    assert links.count(">Become a reviewer</a>") == 1

    client.force_login(curator)
    links = nav()
    assert ">Sign in</a>" not in links
    assert links.count(">My reviews</a>") == 1
    # The roles are read (one query) only inside the reviewers' area.
    assert links.count(">Moderation queue</a>") == queue_links
    assert links.count(f">Sign out {curator.get_username()}</button>") == 1
