"""A published assessment shows in "What changed" as what it changed, criterion by criterion."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from assessments.models import Criterion
from assessments.services.assessments import assessment_approve
from catalog.selectors.changes import recent_changes
from tests.factories import CHANGED_CRITERION, published_of

ATOM = "{http://www.w3.org/2005/Atom}"
JUSTIFICATION = "The EU residency page now binds all API data to EU data centres."


def publish(submission, curator):
    return assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision, comment="Checked."
    )


def test_only_the_criteria_a_publication_changed_are_listed_as_changes_from_the_old_one(
    mistral, submission, curator
):
    old = published_of(mistral)
    publication = publish(submission, curator)
    criterion = Criterion.objects.get(slug=CHANGED_CRITERION)

    changes = recent_changes(provider=mistral)
    ratings = [c for c in changes if c.kind == "rating" and c.record.assessment_id == submission.pk]
    assert len(ratings) == 1, [c.title for c in ratings]
    change = ratings[0]
    assert change.action == "changed"
    assert change.title == f"Mistral AI: GDPR criterion “{criterion.name}”"
    assert change.when == publication.assessment.published_at
    old_rating = old.ratings.get(criterion=criterion)
    assert change.diffs == [
        (criterion.name, "partial", "supported"),
        ("justification", old_rating.justification, JUSTIFICATION),
    ]
    # Listed with the publication, at the top, not when the draft was started.
    assert {c.kind for c in changes[:3]} == {"assessment", "rating"}


def test_the_page_the_feeds_and_the_provider_history_show_partial_to_supported(
    client, mistral, submission, curator
):
    publish(submission, curator)
    name = Criterion.objects.get(slug=CHANGED_CRITERION).name

    page = client.get("/changes/").content.decode()
    assert f"{name}: <del>partial</del> → <ins>supported</ins>" in page
    history = client.get(f"/providers/{mistral.slug}/").content.decode()
    section = history[history.index('id="history"') :]
    assert f"{name}: <del>partial</del> → <ins>supported</ins>" in section

    for url in ("/changes/feed/", f"/providers/{mistral.slug}/changes/feed/"):
        root = ET.fromstring(client.get(url).content)
        entries = root.findall(f"{ATOM}entry")
        summaries = [e.find(f"{ATOM}summary").text or "" for e in entries]
        assert any(f"{name}: partial → supported" in s for s in summaries), url
        titles = [e.find(f"{ATOM}title").text for e in entries]
        assert f"Mistral AI: GDPR criterion “{name}” (changed)" in titles


def test_a_first_assessment_lists_its_ratings_as_added_at_publication(mistral, submission, curator):
    old = published_of(mistral)
    # Without a published assessment to supersede there is nothing to compare with.
    old.status = "superseded"
    old.save(update_fields=["status"])
    publication = assessment_approve(
        assessment=submission, curator=curator, revision=submission.revision
    )
    ratings = [
        c
        for c in recent_changes(provider=mistral)
        if c.kind == "rating" and c.record.assessment_id == submission.pk
    ]
    assert ratings
    assert {c.action for c in ratings} == {"added"}
    assert {c.when for c in ratings} == {publication.assessment.published_at}
