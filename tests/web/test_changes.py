"""The "What changed" page and its Atom feeds read the history tables."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.db.models import Q

from assessments.models import Assessment, Rating
from catalog.models import Claim
from catalog.selectors.changes import recent_changes

pytestmark = pytest.mark.django_db
ATOM = "{http://www.w3.org/2005/Atom}"


def _change_a_claim(provider) -> Claim:
    claim = Claim.objects.filter(provider=provider, key__key="commercial_use_allowed").first()
    claim.value_flag = Claim.Flag.NO
    claim.condition = "Withdrawn for this test."
    claim.checked_at = dt.date(2026, 5, 1)
    claim.save()
    return claim


def test_a_changed_claim_appears_first_with_what_changed(client, mistral):
    _change_a_claim(mistral)
    response = client.get("/changes/")
    assert response.status_code == 200
    first = response.context["changes"][0]
    assert first.kind == "claim" and first.action == "changed"
    assert first.title == "Mistral AI: Commercial use allowed"
    diffs = {name: (old, new) for name, old, new in first.diffs}
    assert diffs["value flag"] == ("yes", "no")
    assert diffs["checked at"] == ("2026-04-18", "2026-05-01")
    html = response.content.decode()
    assert "<del>yes</del> → <ins>no</ins>" in html


def test_rating_changes_of_published_assessments_are_listed(client, mistral):
    rating = Rating.objects.filter(
        assessment__provider=mistral, assessment__status="published", criterion__slug="dpa"
    ).first()
    rating.value = "partial"
    rating.save()
    first = client.get("/changes/").context["changes"][0]
    assert first.kind == "rating"
    assert "DPA / AVV" in first.title
    assert ("value", "supported", "partial") in first.diffs


def test_drafts_stay_out_of_the_public_changes(client, mistral):
    Assessment.objects.create(provider=mistral, status="draft", assessed_on=dt.date(2026, 6, 1))
    changes = client.get("/changes/").context["changes"]
    assert all(not (c.kind == "assessment" and c.record.status == "draft") for c in changes)


def test_the_changes_page_can_follow_one_provider(client, mistral):
    response = client.get("/changes/", {"provider": "anthropic"})
    assert response.context["changes"]
    assert {c.provider.slug for c in response.context["changes"]} == {"anthropic"}


def test_an_unknown_provider_on_the_changes_page_is_ignored_with_a_note(client, mistral):
    response = client.get("/changes/", {"provider": "nobody"})
    assert response.status_code == 200
    assert "Ignored the provider “nobody”: there is no such provider." in (
        response.content.decode()
    )


def test_the_atom_feed_lists_recent_changes(client, mistral):
    _change_a_claim(mistral)
    response = client.get("/changes/feed/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    entries = root.findall(f"{ATOM}entry")
    assert 0 < len(entries) <= 50
    assert entries[0].find(f"{ATOM}title").text == "Mistral AI: Commercial use allowed (changed)"
    link = entries[0].find(f"{ATOM}link").get("href")
    assert link.startswith("http://testserver/changes/?provider=mistral#change-claim-")
    assert "Value flag: yes → no" in entries[0].find(f"{ATOM}summary").text
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids)


def test_a_providers_feed_carries_only_its_changes(client, mistral):
    response = client.get("/providers/anthropic/changes/feed/")
    root = ET.fromstring(response.content)
    assert root.find(f"{ATOM}title").text == "Atlas: what changed at Anthropic"
    titles = [e.find(f"{ATOM}title").text for e in root.findall(f"{ATOM}entry")]
    assert titles and all(t.startswith(("Anthropic", "Claude")) for t in titles)


def test_a_providers_history_merges_its_own_and_its_models_newest_claim_changes(mistral):
    own = Claim.objects.filter(provider=mistral).order_by("pk")[:3]
    models = Claim.objects.filter(model__provider=mistral).order_by("pk")[:3]
    others = Claim.objects.exclude(provider=mistral).exclude(model__provider=mistral)[:5]
    # Interleaved, so the newest three mix both kinds; then other providers change later.
    for claim in (own[0], models[0], own[1], models[1], own[2], models[2], *others):
        claim.note = "Touched for this test."
        claim.save()

    changes = recent_changes(provider=mistral, limit=3)

    assert [change.record.id for change in changes] == [models[2].pk, own[2].pk, models[1].pk]
    assert all(change.provider == mistral for change in changes)


def _feed(client, url: str):
    response = client.get(url)
    assert response.status_code == 200
    return ET.fromstring(response.content)


def _links(root) -> dict[str, str]:
    return {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}


def test_the_feeds_are_valid_atom_with_iri_ids_and_an_author_on_every_entry(client, mistral):
    for url in ("/changes/feed/", "/providers/mistral/changes/feed/"):
        root = _feed(client, url)
        assert root.find(f"{ATOM}author/{ATOM}name").text == "Atlas"
        entries = root.findall(f"{ATOM}entry")
        assert entries
        ids = [entry.find(f"{ATOM}id").text for entry in entries]
        for entry_id in ids:
            parts = urlsplit(entry_id)
            assert parts.scheme == "http" and parts.netloc == "testserver", entry_id
            assert parts.fragment.startswith("change-")
        assert len(set(ids)) == len(ids)
        for entry in entries:
            assert entry.find(f"{ATOM}author/{ATOM}name").text


def _touch_claims(provider, count: int) -> None:
    """``count`` more changes to ``provider``'s claims and its models' claims."""
    claims = Claim.objects.filter(Q(provider=provider) | Q(model__provider=provider))
    for n, claim in enumerate(claims.order_by("pk")[:count]):
        claim.note = f"Touched {n} for this test."
        claim.save()


def test_the_feed_pages_past_fifty_entries_with_a_next_link(client, mistral):
    _touch_claims(mistral, 60)
    assert len(recent_changes(limit=101)) > 100
    first = _feed(client, "/changes/feed/")
    assert len(first.findall(f"{ATOM}entry")) == 50
    links = _links(first)
    assert links["next"] == "http://testserver/changes/feed/?page=2"
    assert "previous" not in links
    second = _feed(client, "/changes/feed/?page=2")
    assert _links(second)["previous"] == "http://testserver/changes/feed/"
    first_ids = {e.find(f"{ATOM}id").text for e in first.findall(f"{ATOM}entry")}
    second_ids = [e.find(f"{ATOM}id").text for e in second.findall(f"{ATOM}entry")]
    assert len(second_ids) == 50
    assert not first_ids & set(second_ids)
    newest_hundred = recent_changes(limit=100)
    assert [urlsplit(i).fragment for i in second_ids] == [c.uid for c in newest_hundred[50:]]


def test_the_changes_page_pages_past_fifty_entries(client, mistral):
    _touch_claims(mistral, 60)
    first = client.get("/changes/")
    assert len(first.context["changes"]) == 50
    assert '<a rel="next" href="?page=2">Older changes →</a>' in first.content.decode()
    second = client.get("/changes/", {"page": "2"})
    assert [c.uid for c in second.context["changes"]] == [
        c.uid for c in recent_changes(limit=100)[50:]
    ]
    assert '<a rel="prev" href="?page=1">← Newer changes</a>' in second.content.decode()
    one = client.get("/changes/", {"provider": "mistral"}).content.decode()
    assert 'href="?provider=mistral&amp;page=2"' in one


def test_each_change_says_who_made_it(client, mistral, curator):
    claim = Claim.objects.filter(provider=mistral, key__key="commercial_use_allowed").first()
    claim.note = "Checked by hand."
    claim._history_user = curator
    claim.save()
    checked = Claim.objects.filter(provider=mistral).exclude(pk=claim.pk).first()
    checked._change_reason = "Source re-check 7: quote found"
    checked.save()
    changes = recent_changes(limit=3)
    assert [c.who for c in changes[:2]] == ["crawler", curator.get_username()]
    loaded = recent_changes(limit=200)[-1]
    assert loaded.who == "catalogue load"
    html = client.get("/changes/").content.decode()
    assert f"By {curator.get_username()}" in html
    assert "By crawler" in html
    feed = _feed(client, "/changes/feed/")
    authors = [e.find(f"{ATOM}author/{ATOM}name").text for e in feed.findall(f"{ATOM}entry")]
    assert authors[:2] == ["crawler", curator.get_username()]
