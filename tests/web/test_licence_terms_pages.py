"""A licence's terms in its own words: on the licence page, in the API, and in the finder's
reason for leaving a research-licensed model out."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.models import AIModel, Licence, LicenceTerm, Provider, Source

pytestmark = pytest.mark.django_db

RESEARCH_QUOTE = "Non-Commercial Uses does not include any production use of the Software Products."
THRESHOLD_QUOTE = "greater than 700 million monthly active users in the preceding calendar month"


@pytest.fixture
def licensed():
    provider = Provider.objects.create(slug="labs", name="Example Labs", kind="model_developer")
    source = Source.objects.create(
        slug="labs-research-licence-text",
        url="https://example.org/research-licence.txt",
        title="Example Research Licence text",
        publisher="Example Labs",
        doc_type="licence_text",
    )
    terms = {"self_hosting": "conditional", "fine_tuning": "conditional"}
    research = Licence.objects.create(
        slug="example-research",
        name="Example Research Licence",
        kind="research_only",
        commercial_use="no",
        weight_redistribution="conditional",
        attribution_required="yes",
        **terms,
    )
    LicenceTerm.objects.create(
        licence=research,
        key="research_only",
        value="yes",
        quote=RESEARCH_QUOTE,
        note="Research and non-commercial use only.",
        source=source,
        read_on=dt.date(2023, 11, 28),
    )
    community = Licence.objects.create(
        slug="example-community",
        name="Example Community Licence",
        kind="open_weights_restricted",
        commercial_use="conditional",
        weight_redistribution="conditional",
        attribution_required="yes",
        self_hosting="yes",
        fine_tuning="yes",
        user_threshold=700_000_000,
    )
    LicenceTerm.objects.create(
        licence=community,
        key="user_threshold",
        value="yes",
        number=700_000_000,
        quote=THRESHOLD_QUOTE,
        source=source,
        read_on=dt.date(2024, 7, 23),
    )
    for slug, licence in (("research-model", research), ("community-model", community)):
        AIModel.objects.create(
            provider=provider, slug=slug, name=slug.title(), weights="open", licence=licence
        )
    return research


def test_the_licence_page_shows_each_term_with_its_quote_and_source(client, licensed):
    body = client.get("/licences/example-research/").content.decode()
    assert "Research / non-production only" in body
    assert f"“{RESEARCH_QUOTE}”" in body
    assert "Example Research Licence text" in body
    assert "version of 2023-11-28" in body
    assert 'id="term-research_only"' in body


def test_the_licence_page_states_a_threshold_with_its_figure(client, licensed):
    body = client.get("/licences/example-community/").content.decode()
    assert "(700,000,000)" in body
    assert THRESHOLD_QUOTE in body


def test_a_licence_page_without_quoted_terms_says_so(client, licensed):
    Licence.objects.create(
        slug="unquoted", name="Unquoted Licence", kind="permissive", commercial_use="yes",
        self_hosting="yes", fine_tuning="yes", weight_redistribution="yes",
        attribution_required="yes",
    )  # fmt: skip
    body = client.get("/licences/unquoted/").content.decode()
    assert "No term of this licence is quoted yet" in body


def test_the_finder_excludes_a_research_licensed_model_in_its_licences_words(client, licensed):
    body = client.get("/finder/", {"commercial_use": "on"}).content.decode()
    fails = body[body.index('class="outcome fails') :]
    assert "Research-Model" in fails
    assert "does not permit commercial use. The licence says: “" + RESEARCH_QUOTE in fails
    assert "quoted from" in fails and "https://example.org/research-licence.txt" in fails
    assert "/licences/example-research/#term-research_only" in fails


def test_the_finder_quotes_the_threshold_behind_a_conditional_commercial_use(client, licensed):
    body = client.get("/finder/", {"commercial_use": "on"}).content.decode()
    conditional = body[
        body.index('class="outcome conditional') : body.index('class="outcome fails')
    ]
    assert "Community-Model" in conditional
    assert THRESHOLD_QUOTE in conditional


def test_the_api_serves_the_terms_and_the_quote_behind_a_finding(anon, licensed):
    licence = anon.get("/api/v1/licences/example-research").json()
    [term] = licence["terms"]
    assert term["key"] == "research_only" and term["value"] == "yes"
    assert term["quote"] == RESEARCH_QUOTE
    assert term["source"]["url"] == "https://example.org/research-licence.txt"
    assert term["read_on"] == "2023-11-28"
    body = anon.post("/api/v1/requirements/check", {"commercial_use": True}, format="json").json()
    result = next(r for r in body["results"] if r["model"]["slug"] == "research-model")
    assert result["outcome"] == "fails"
    [finding] = result["findings"]
    assert finding["quote"] == RESEARCH_QUOTE
    assert RESEARCH_QUOTE in finding["reason"]
    assert finding["source"]["slug"] == "labs-research-licence-text"
