"""Forms a screen reader can follow: each field's error and help are tied to it by
``aria-describedby`` naming ids that exist, and each group of radio buttons is a fieldset with
a legend, described by its own error and help."""

from __future__ import annotations

import pytest
from bs4 import BeautifulSoup
from django.urls import reverse

from assessments.models import Assessment
from assessments.services.assessments import assessment_start, assessment_submit
from tests.factories import amend_one_criterion


def _described(soup: BeautifulSoup, element) -> list[str]:
    """The texts ``element``'s ``aria-describedby`` names; fails on an id that is not there."""
    texts = []
    for ref in (element.get("aria-describedby") or "").split():
        target = soup.find(id=ref)
        assert target is not None, f"{element.name} {element.get('name')} names #{ref}"
        texts.append(target.get_text(" ", strip=True))
    return texts


def _no_dangling_references(soup: BeautifulSoup) -> None:
    for element in soup.select("[aria-describedby]"):
        _described(soup, element)


def _radio_groups_are_fieldsets(soup: BeautifulSoup) -> dict[str, object]:
    """Each radio group's fieldset, by the radios' name; fails on a group outside one."""
    groups = {}
    for radio in soup.select("input[type=radio]"):
        fieldset = radio.find_parent("fieldset")
        assert fieldset is not None, f"radio {radio['name']} is not in a fieldset"
        legend = fieldset.find("legend", recursive=False)
        assert legend is not None and legend.get_text(strip=True), f"{radio['name']}: no legend"
        assert not fieldset.find_parent("fieldset", class_="field"), radio["name"]
        groups[radio["name"]] = fieldset
    return groups


@pytest.fixture
def draft(mistral, reviewer) -> Assessment:
    return assessment_start(author=reviewer, provider=mistral)


def test_a_draft_fields_error_and_help_are_named_by_the_field(client, reviewer, draft):
    client.force_login(reviewer)
    url = reverse("assessments:edit", args=[draft.pk])
    page = client.get(url)
    form = page.context["form"]
    data = {name: form[name].value() or "" for name in form.fields}
    data.update({row.count_name: len(row.evidence) for row in form.rows()})
    data.update({"assessed_on": "not a date", "save": "1"})

    response = client.post(url, data)

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "lxml")
    _no_dangling_references(soup)
    field = soup.find(id="id_assessed_on")
    assert field["aria-invalid"] == "true"
    texts = _described(soup, field)
    assert "The day you read the sources." in texts
    assert any("Enter a valid date." in text for text in texts), texts
    # A field with only help is described by it too.
    assert _described(soup, soup.find(id="id_strengths")) == ["One per line."]


def test_a_review_s_rating_is_a_fieldset_with_a_legend_described_by_its_error(client, mistral):
    url = reverse("assessments:reviews", args=["mistral"])
    response = client.post(url, {"title": "Fine", "body": "Works.", "author_name": "Ann"})

    assert response.status_code == 400
    soup = BeautifulSoup(response.content, "lxml")
    _no_dangling_references(soup)
    rating = _radio_groups_are_fieldsets(soup)["rating"]
    assert rating.legend.get_text(strip=True) == "Rating"
    assert any("This field is required." in t for t in _described(soup, rating))
    email = soup.find(id="id_email")
    texts = _described(soup, email)
    assert "We send a confirmation link there; it is never shown." in texts
    assert any("This field is required." in t for t in texts), texts


def test_a_curator_s_decision_is_a_fieldset_with_a_legend_described_by_its_error(
    client, mistral, other_reviewer, curator
):
    submitted = assessment_start(author=other_reviewer, provider=mistral)
    amend_one_criterion(submitted)
    assessment_submit(assessment=submitted, author=other_reviewer, revision=submitted.revision)
    client.force_login(curator)
    url = reverse("assessments:moderate", args=[submitted.pk])

    response = client.post(url, {"revision": submitted.revision, "text": ""})

    soup = BeautifulSoup(response.content, "lxml")
    _no_dangling_references(soup)
    action = _radio_groups_are_fieldsets(soup)["action"]
    assert action.legend.get_text(strip=True) == "Action"
    assert any("This field is required." in t for t in _described(soup, action))
    text = soup.find(id="id_text")
    assert any(t.startswith("Required to comment") for t in _described(soup, text))


def test_sign_up_errors_and_help_are_named_by_their_fields(client, db):
    response = client.post(
        reverse("accounts:signup"),
        {"username": "ann", "email": "not-an-address", "password1": "x", "password2": "y"},
    )

    soup = BeautifulSoup(response.content, "lxml")
    _no_dangling_references(soup)
    email = soup.find(id="id_email")
    assert email["aria-invalid"] == "true"
    assert any("valid email address" in t for t in _described(soup, email))
