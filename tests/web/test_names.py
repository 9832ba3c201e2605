"""People read labels, never the catalogue's internal names (keys, slugs, addresses to type)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from catalog.models import Claim

pytestmark = pytest.mark.django_db

INTERNAL = re.compile(r"\b(commercial_use_allowed|training_use_of_input|output_ownership)\b")


def _text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


def test_the_finder_names_claim_keys_by_their_labels(client, mistral):
    response = client.get(
        reverse("catalog:finder"), {"commercial_use": "on", "no_training_on_inputs": "on"}
    )
    text = _text(response)
    assert "Commercial use allowed: yes" in text
    assert "Inputs used for training: no" in text
    assert not INTERNAL.search(text), INTERNAL.search(text)


def test_a_missing_claim_is_named_by_its_keys_label(client, mistral):
    large = mistral.models.get(slug="mistral-large")
    Claim.objects.filter(model=large, key__key="commercial_use_allowed").delete()
    Claim.objects.filter(provider=mistral, key__key="commercial_use_allowed").delete()
    response = client.get(reverse("catalog:finder"), {"commercial_use": "on"})
    text = _text(response)
    assert "No claim recorded for “Commercial use allowed”." in text
    assert not INTERNAL.search(text)


def test_a_claim_is_named_by_its_label_on_the_correction_page(client, mistral, reviewer):
    claim = Claim.objects.get(provider=mistral, key__key="output_ownership")
    assert str(claim) == "Mistral AI · Customer owns outputs: Yes"
    client.force_login(reviewer)
    text = _text(client.get(reverse("assessments:correct", args=[claim.pk])))
    assert "Customer owns outputs: Yes" in text
    assert not INTERNAL.search(text)


def test_the_dashboard_says_how_to_propose_a_correction_without_an_address_to_type(
    client, reviewer
):
    client.force_login(reviewer)
    text = _text(client.get(reverse("assessments:dashboard")))
    assert "/review/claims/" not in text
    assert "Propose a correction to this claim" in text


def test_what_changed_offers_providers_by_name(client, mistral):
    html = client.get(reverse("catalog:changes")).content.decode()
    assert '<select id="provider" name="provider">' in html
    assert '<option value="mistral">Mistral AI</option>' in html
    assert "slug" not in _text(client.get(reverse("catalog:changes")))
    chosen = client.get(reverse("catalog:changes"), {"provider": "mistral"}).content.decode()
    assert '<option value="mistral" selected>Mistral AI</option>' in chosen


def test_claim_groups_are_headed_by_their_plural_labels(client, mistral):
    html = client.get(reverse("catalog:provider", args=["mistral"])).content.decode()
    headings = re.findall(r"<h3>([^<]+)</h3>", html)
    assert "Rights" in headings
    assert "Capabilities" in headings
    assert "Data protection" in headings
    for wrong in ("Capabilitys", "Data protections", "Commercials", "Rights</h3>s"):
        assert wrong not in html
