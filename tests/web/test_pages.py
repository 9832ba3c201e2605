"""The officer's pages on the seeded catalogue: what each shows, and how bad input is met."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from assessments.models import Rating, RatingEvidence
from catalog.models import AIModel, Claim, Licence, Verification

pytestmark = pytest.mark.django_db


# The seed's open-weight Mistral models, all under Apache 2.0.
SEED_APACHE_MODELS = {
    "mistral-7b", "mixtral-8x7b", "mixtral-8x22b", "mistral-nemo-12b", "ministral-3-14b",
    "ministral-3-8b", "ministral-3-3b",
}  # fmt: skip


def _text(response) -> str:
    """The page's visible text, tags stripped and whitespace collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", html, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def test_the_home_page_lists_providers_and_models_with_facet_counts(client, mistral):
    response = client.get("/")
    assert response.status_code == 200
    text = _text(response)
    assert "Mistral AI" in text and "Anthropic" in text
    assert "Mistral 7B" in text
    # Facet counts: the seed's Apache-2.0 models.
    facets = {f.facet.param: f for f in response.context["model_facets"]}
    licence_counts = {c.value: c.count for c in facets["licence"].counts}
    assert licence_counts["permissive"] == len(SEED_APACHE_MODELS)
    assert licence_counts["research_only"] == 0
    verdicts = {f.facet.param: f for f in response.context["provider_facets"]}["verdict"]
    assert {c.value: c.count for c in verdicts.counts}["conditional"] == 1


def test_searching_mistral_finds_the_provider_its_models_licences_and_claims(client, mistral):
    response = client.get("/", {"q": "Mistral"})
    text = _text(response)
    assert "Results for “Mistral”" in text
    providers = [p.slug for p in response.context["providers"]]
    assert "mistral" in providers
    assert "anthropic" not in providers
    models = [m.slug for m in response.context["models"]]
    assert "mistral-7b" in models and "claude-3-5" not in models
    assert "Mistral AI Research License" in text
    assert response.context["claims"], "claims mentioning Mistral are listed"


def test_the_filters_live_in_the_url_so_a_result_list_can_be_shared(client, mistral):
    response = client.get("/", {"licence": "permissive", "commercial": "yes"})
    models = {m.slug for m in response.context["models"]}
    assert models == SEED_APACHE_MODELS
    # Every provider shown has at least one such model.
    assert [p.slug for p in response.context["providers"]] == ["mistral"]
    # A selected value's link removes it and keeps the other filter.
    licence_facet = {f.facet.param: f for f in response.context["model_facets"]}["licence"]
    selected = next(c for c in licence_facet.counts if c.value == "permissive")
    assert selected.selected
    assert "commercial=yes" in selected.url and "licence=permissive" not in selected.url


def test_facets_on_providers_filter_both_lists(client, mistral):
    response = client.get("/", {"verdict": "conditional"})
    assert [p.slug for p in response.context["providers"]] == ["mistral"]
    assert {m.provider.slug for m in response.context["models"]} == {"mistral"}


def test_the_freshness_facet_sorts_providers_by_their_oldest_claim(client, rows):
    rows.add(1, claims_each=1)  # one claim checked today: current
    rows.add(1, claims_each=8)  # oldest checked 210 days ago: stale
    current = client.get("/", {"freshness": "current"}).context["providers"]
    stale = client.get("/", {"freshness": "stale"}).context["providers"]
    # Only the built providers: the seeded ones may be loaded for this module too.
    assert [p.slug for p in current if p.slug.startswith("bulk-")] == ["bulk-1"]
    assert [p.slug for p in stale if p.slug.startswith("bulk-")] == ["bulk-2"]


def test_bad_filter_values_are_ignored_with_a_visible_note(client, mistral):
    response = client.get(
        "/", {"licence": ["permissive", "free-beer"], "colour": "red", "page": "zero"}
    )
    assert response.status_code == 200
    text = _text(response)
    assert "Ignored “free-beer” for licence kind" in text
    assert "Ignored the unknown filter “colour”" in text
    assert "Ignored the page number “zero”" in text
    # The good value still applies.
    assert {m.licence.slug for m in response.context["models"]} == {"apache-2-0"}


def test_a_page_number_past_the_end_shows_the_last_page_with_a_note(client, mistral):
    response = client.get("/", {"mpage": "99"})
    assert response.status_code == 200
    assert "There is no page 99 of models" in _text(response)


def test_the_provider_page_shows_basics_claims_gdpr_card_models_sources_and_history(
    client, mistral
):
    response = client.get("/providers/mistral/")
    assert response.status_code == 200
    text = _text(response)
    for expected in (
        "API / developer platform",
        "15 rue des Halles",
        "https://mistral.ai",
        "Rights and constraints",
        "Commercial use allowed",
        "Mistral AI Terms of Service",
        "Not re-checked since recorded",
        "Overall verdict: ◐ Conditional",
        "Server locations",
        "Strengths",
        "Weaknesses",
        "Primary sources",
        "Data processing agreement",
        "Related comparisons",
        "Mistral AI, OpenAI and Anthropic",
        "Change history",
    ):
        assert expected in text, expected
    # Every criterion, each with an icon and a word, not colour alone.
    criteria = response.context["page"].rating_rows
    assert len(criteria) == 8
    assert "✓ Supported" in text and "◐ Partial" in text
    # Freshness badges: the seed's checks are dated, so each claim carries one.
    assert text.count("Stale") + text.count("Current") + text.count("Ageing") >= 20
    # Models table with licence badge.
    assert "Permissive open source" in text and "Apache License 2.0" in text


def test_the_provider_page_links_each_claim_to_its_source(client, mistral):
    html = client.get("/providers/mistral/").content.decode()
    assert 'href="https://mistral.ai/terms/#terms-of-use"' in html
    # A source without a public address is named, not linked to nowhere.
    assert 'href=""' not in html
    assert "(no public address)" in html


def test_a_claims_verification_history_is_one_click_away(client, rows):
    rows.add(1, claims_each=1)
    html = client.get("/providers/bulk-1/").content.decode()
    assert "<summary>Verification history (1)</summary>" in html
    assert "<strong>Confirmed</strong> by manual review" in html


def _seven_daily_checks(claim: Claim) -> None:
    """Seven confirmed checks of ``claim``, one a day, the newest 23 days ago."""
    start = timezone.now() - dt.timedelta(days=30)
    for day in range(1, 8):
        Verification.objects.create(
            claim=claim,
            checked_at=start + dt.timedelta(days=day),
            method="source_check",
            outcome="confirmed",
            note=f"re-read on day {day}",
        )


def _assert_newest_five_of_seven_checks(html: str, claim: Claim) -> None:
    """The page shows the newest five of ``_seven_daily_checks``, newest first, and links to
    the claim's own page for the rest."""
    assert "<summary>Verification history (7)</summary>" in html
    shown = [f"re-read on day {day}" for day in (7, 6, 5, 4, 3)]
    assert all(note in html for note in shown)
    assert [html.index(note) for note in shown] == sorted(html.index(note) for note in shown)
    assert "re-read on day 2" not in html and "re-read on day 1" not in html
    assert f'<a href="/claims/{claim.pk}/">All 7 checks on the claim\'s page</a>' in html


def test_a_long_verification_history_shows_the_newest_checks_and_links_to_the_rest(client, rows):
    rows.add(1, claims_each=1)
    claim = Claim.objects.get(provider__slug="bulk-1")
    claim.verifications.all().delete()
    _seven_daily_checks(claim)
    html = client.get("/providers/bulk-1/").content.decode()
    _assert_newest_five_of_seven_checks(html, claim)
    claim_page = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "re-read on day 2" in claim_page and "re-read on day 1" in claim_page


def test_the_claims_table_escapes_what_it_prints_and_badges_a_disputed_claim(client, rows):
    rows.add(1, claims_each=1)
    claim = Claim.objects.get(provider__slug="bulk-1")
    claim.condition = "<b>Only</b> on Scale & up"
    claim.evidence_quote = "<script>alert(1)</script> we say so"
    claim.status = Claim.Status.DISPUTED
    claim.save()
    claim.source.title = "Terms <i>of</i> use"
    claim.source.save()

    html = client.get("/providers/bulk-1/").content.decode()

    assert "&lt;b&gt;Only&lt;/b&gt; on Scale &amp; up" in html
    assert "“&lt;script&gt;alert(1)&lt;/script&gt; we say so”" in html
    assert "Terms &lt;i&gt;of&lt;/i&gt; use" in html
    assert "<script>alert" not in html and "<b>Only" not in html
    assert '<span class="badge status-disputed">Disputed</span>' in html
    assert '<span class="scope"> · plan plan-0</span>' in html


def test_a_provider_without_a_published_assessment_says_so(client, mistral):
    text = _text(client.get("/providers/openai/"))
    assert "No GDPR assessment of OpenAI has been published yet" in text


def test_the_model_page_explains_the_licence_in_plain_words_and_its_vocabulary(client, mistral):
    text = _text(client.get("/models/mistral-7b/"))
    assert "In plain words: you may use it commercially" in text
    assert "commercial-use" in text and "include-copyright" in text
    assert "Context window" in text and "32000 tokens" in text


def test_the_model_page_shows_prices_with_their_dates(client, mistral):
    text = _text(client.get("/models/mistral-small/"))
    assert "0.1 USD" in text and "2026-04-18" in text
    assert "Mistral AI pricing" in text


def test_the_model_page_shows_each_claim_with_its_source_and_newest_checks_only(client, rows):
    rows.add(1, models_each=1)
    claim = Claim.objects.get(model__slug="bulk-1-model-0")
    claim.condition = "<b>Only</b> on Scale & up"
    claim.evidence_quote = "<script>alert(1)</script> we say so"
    claim.status = Claim.Status.DISPUTED
    claim.save()
    _seven_daily_checks(claim)

    html = client.get("/models/bulk-1-model-0/").content.decode()

    assert f'<tr id="claim-{claim.pk}">' in html
    assert '<a href="https://example.test/1/terms" rel="noopener">Terms 1</a>' in html
    assert "&lt;b&gt;Only&lt;/b&gt; on Scale &amp; up" in html
    assert "“&lt;script&gt;alert(1)&lt;/script&gt; we say so”" in html
    assert "<script>alert" not in html
    assert '<span class="badge status-disputed">Disputed</span>' in html
    _assert_newest_five_of_seven_checks(html, claim)


def test_the_model_page_leaves_out_retired_claims(client, rows):
    rows.add(1, models_each=1)
    Claim.objects.filter(model__slug="bulk-1-model-0").update(status=Claim.Status.RETIRED)
    text = _text(client.get("/models/bulk-1-model-0/"))
    assert "No other claims recorded" in text


def test_the_licence_catalogue_sets_research_only_licences_apart(client, mistral):
    response = client.get("/licences/")
    text = _text(response)
    kinds = [kind for kind, _label, _licences in response.context["groups"]]
    assert kinds[-1] == "research_only"
    assert "Research / non-production only — not for production" in text
    assert "must not be used in a product" in text


def test_a_research_only_licence_page_warns_before_anything_else(client, mistral):
    text = _text(client.get("/licences/mistral-research-licence/"))
    assert text.index("Research only — not usable in production") < text.index("What it permits")


def test_a_licence_page_lists_its_models(client, mistral):
    response = client.get("/licences/apache-2-0/")
    assert {m.slug for m in response.context["models"]} == SEED_APACHE_MODELS


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/providers/no-such-provider/", "No provider is catalogued as “no-such-provider”."),
        ("/models/no-such-model/", "No model is catalogued as “no-such-model”."),
        ("/licences/no-such-licence/", "No licence is catalogued as “no-such-licence”."),
        ("/claims/999999/", "No claim has the number 999999."),
        ("/compare/?providers=mistral,nobody", "No provider is catalogued as “nobody”."),
        ("/providers/nobody/changes/feed/", "No provider is catalogued as “nobody”."),
        ("/no/such/page/", "There is no page at /no/such/page/"),
    ],
)
def test_unknown_addresses_get_a_proper_404_page(client, mistral, url, message):
    response = client.get(url)
    assert response.status_code == 404
    text = _text(response)
    assert message in text
    assert "searching the catalogue" in text  # the site's own page, with a way on


def test_the_compare_page_puts_mistral_and_anthropic_side_by_side(client, mistral):
    response = client.get("/compare/", {"providers": "mistral,anthropic"})
    assert response.status_code == 200
    rows = [row for _group, group_rows in response.context["groups"] for row in group_rows]
    labels = [row.label for row in rows]
    for expected in (
        "Origin (headquarters)",
        "Open-weight models",
        "How the models are reached",
        "Where data is hosted",
        "Inputs used for training",
        "Commercial use allowed",
        "Price",
        "GDPR verdict",
        "DPA / AVV",
    ):
        assert expected in labels, expected
    origin = rows[labels.index("Origin (headquarters)")]
    assert [c.text for c in origin.cells] == ["FR", "US"]
    assert origin.differs
    html = response.content.decode()
    assert "≠</span> differs" in html
    assert "/providers/mistral/#gdpr-dpa" in html  # GDPR cells link to the rating
    assert "/claims/" in html  # claim cells link to their evidence


def test_the_compare_page_compares_models_too(client, mistral):
    response = client.get("/compare/", {"models": ["mistral-7b", "mistral-small"]})
    rows = {row.label: row for _g, rs in response.context["groups"] for row in rs}
    assert [c.text for c in rows["Weights"].cells] == ["Open weights", "API only"]
    assert rows["Self-hosting (licence)"].differs


def test_the_compare_page_explains_too_few_or_too_many_choices(client, mistral):
    one = _text(client.get("/compare/", {"providers": "mistral"}))
    assert "Choose at least 2 providers to compare." in one
    five = client.get("/compare/", {"providers": "mistral,anthropic,openai,openrouter,litellm"})
    assert five.status_code == 200
    assert "At most 4 can be compared; showing the first 4 of 5." in _text(five)
    assert len(five.context["subjects"]) == 4


def test_the_finder_sorts_models_and_gives_the_reason_for_each_exclusion(client, mistral):
    research = Licence.objects.get(slug="mistral-research-licence")
    AIModel.objects.create(
        provider=mistral,
        slug="test-only-research-model",
        name="Test-only Research Model",
        weights="open",
        licence=research,
    )
    response = client.get("/finder/", {"commercial_use": "on", "hosting": "self_hosting"})
    assert response.status_code == 200
    results = response.context["results"]
    qualifies = {r.model.slug for r in results["qualifies"]}
    assert qualifies == SEED_APACHE_MODELS
    failed = {r.model.slug: r for r in results["fails"]}
    research_result = failed["test-only-research-model"]
    assert any(
        f.requirement == "commercial_use" and f.status == "unmet" for f in research_result.failing
    )
    text = _text(response)
    assert "Mistral AI Research License (research / non-production only) does not permit" in text
    assert "API only: the weights are not published." in text


def test_the_finder_reports_a_bad_budget_instead_of_failing(client, mistral):
    response = client.get("/finder/", {"commercial_use": "on", "max_input_price": "cheap"})
    assert response.status_code == 200
    assert "Budget per million input tokens (USD): Enter a number." in _text(response)
    assert response.context["results"] is None


def test_the_finder_without_requirements_asks_for_one(client, mistral):
    response = client.get("/finder/", {"max_input_price": ""})
    assert "Tick at least one requirement" in _text(response)


def test_the_finder_names_an_unknown_modality(client, mistral):
    response = client.get("/finder/", {"modalities": "smell"})
    assert response.status_code == 200
    assert "Select a valid choice. smell is not one of the available choices." in _text(response)


def test_the_finder_counts_every_model_but_lists_one_page_of_each_outcome(client, mistral):
    from bench.generate_catalogue import generate_catalogue
    from catalog.views import FINDER_PAGE_SIZE

    generate_catalogue(providers=3, models_per_provider=20, claims_per_model=2, out=str)
    query = {"commercial_use": "on", "hosting": "self_hosting"}
    first = client.get("/finder/", query)
    results = first.context["results"]
    total = results["fails_total"]
    assert total > FINDER_PAGE_SIZE
    assert len(results["fails"]) == FINDER_PAGE_SIZE
    assert (
        results["qualifies_total"] + results["conditional_total"] + total == AIModel.objects.count()
    )
    shown = f"Showing 1\N{EN DASH}{FINDER_PAGE_SIZE} of {total} models that do not qualify"
    assert shown in _text(first)
    assert results["fails_nav"].next_url.endswith("fpage=2")

    second = client.get(results["fails_nav"].next_url)
    shown_second = second.context["results"]["fails"]
    assert {r.model.pk for r in shown_second}.isdisjoint({r.model.pk for r in results["fails"]})
    assert all(r.outcome == "fails" and r.failing for r in shown_second)
    # Paging one outcome leaves the others on their first page.
    assert [r.model.slug for r in second.context["results"]["qualifies"]] == [
        r.model.slug for r in results["qualifies"]
    ]


def test_the_finder_explains_a_page_number_it_cannot_show(client, mistral):
    query = {"commercial_use": "on", "hosting": "self_hosting"}
    beyond = client.get("/finder/", {**query, "qpage": "40"})
    assert "There is no page 40 of the models that qualify; showing page 1 instead." in _text(
        beyond
    )
    assert beyond.context["results"]["qualifies"]
    bad = client.get("/finder/", {**query, "fpage": "two"})
    assert "Ignored the page number “two”" in _text(bad)
    assert bad.context["results"]["fails_nav"].number == 1


def _verdicts_svg(response) -> str:
    html = response.content.decode()
    match = re.search(
        r'<svg[^>]*aria-labelledby="verdicts-title verdicts-desc".*?</svg>', html, re.S
    )
    assert match, "no verdicts chart on the page"
    return match.group(0)


def test_the_home_page_draws_the_gdpr_verdicts_across_providers_as_an_svg(client, mistral, rows):
    from assessments.models import Assessment
    from catalog.models import Provider

    rows.add(3)  # three more providers, each with a published "recommended" assessment
    svg = _verdicts_svg(client.get("/"))
    published = Assessment.objects.filter(status="published")
    expected = {
        "Recommended": published.filter(verdict="recommended").count(),
        "Conditional": published.filter(verdict="conditional").count(),
        "Not recommended": published.filter(verdict="not_recommended").count(),
        "Not yet rated": Provider.objects.exclude(assessments__in=published).count(),
    }
    assert expected["Recommended"] >= 3 and expected["Conditional"] == 1
    total = Provider.objects.count()
    assert '<title id="verdicts-title">GDPR verdicts across providers</title>' in svg
    desc = re.search(r'<desc id="verdicts-desc">(.*?)</desc>', svg, re.S).group(1)
    assert desc == "; ".join(f"{label}: {n} of {total}" for label, n in expected.items()) + "."
    # Each bar is named in words beside it and its count written out, not left to colour.
    for label, count in expected.items():
        assert label in re.sub(r"<title>.*?</title>", "", svg, flags=re.S)
        assert f">{count} ({round(count / total * 100)}%)</text>" in svg
    assert "http" not in svg.replace("http://www.w3.org/2000/svg", "")


def test_the_provider_pages_models_sources_and_gdpr_tables_escape_what_they_print(client, rows):
    provider = rows.add(1, models_each=1)[0]
    model = provider.models.get()
    model.name = "Model <b>one</b>"
    model.save()
    source = provider.sources.get()
    source.publisher = "Bulk & <i>Co</i>"
    source.save()
    rating = Rating.objects.filter(assessment__provider=provider).first()
    rating.justification = "<script>x</script> documented"
    rating.save()
    RatingEvidence.objects.filter(rating=rating).update(quote="We <em>never</em> train")

    html = client.get(f"/providers/{provider.slug}/").content.decode()

    assert f'<a href="/models/{model.slug}/">Model &lt;b&gt;one&lt;/b&gt;</a>' in html
    assert "<td>Bulk &amp; &lt;i&gt;Co&lt;/i&gt;</td>" in html
    assert "&lt;script&gt;x&lt;/script&gt; documented" in html
    assert "“We &lt;em&gt;never&lt;/em&gt; train”" in html
    assert "<script>x" not in html and "<b>one" not in html and "<em>never" not in html


def test_a_provider_with_more_models_than_a_page_shows_them_a_page_at_a_time(client, rows):
    from catalog.views import PAGE_SIZE

    provider = rows.add(1, models_each=PAGE_SIZE + 3, claims_each=1)[0]
    url = f"/providers/{provider.slug}/"

    response = client.get(url)
    assert response.status_code == 200
    shown = response.context["models"]
    assert len(shown.object_list) == PAGE_SIZE
    assert all(model.latest_price is not None for model in shown.object_list)
    text = _text(response)
    assert f"Models ({PAGE_SIZE + 3})" in text
    assert "Page 1 of 2" in text

    second = client.get(url, {"mpage": "2"})
    assert len(second.context["models"].object_list) == 3
    assert "Page 2 of 2" in _text(second)
    past = client.get(url, {"mpage": "9"})
    assert "There is no page 9 of models; showing page 2 instead." in _text(past)


def test_a_price_announced_for_a_later_day_is_not_shown_as_the_models_price(client, rows):
    from decimal import Decimal

    from catalog.models import Price

    provider = rows.add(1, models_each=1, claims_each=1)[0]
    model = provider.models.get()
    announced = timezone.localdate() + dt.timedelta(days=30)
    Price.objects.create(
        model=model,
        input_per_mtok=Decimal("99"),
        output_per_mtok=Decimal("99"),
        as_of=announced,
        source=model.prices.get().source,
    )

    response = client.get(f"/providers/{provider.slug}/")

    price = response.context["models"].object_list[0].latest_price
    assert price["input_per_mtok"] == Decimal("1.5")
    assert price["as_of"] == timezone.localdate()
    # The model page still lists it, with its date.
    assert announced.isoformat() in _text(client.get(f"/models/{model.slug}/"))


def test_a_platforms_page_lists_the_other_developers_models_it_prices(client, rows):
    from decimal import Decimal

    from catalog.models import Price, Source

    platform, developer = rows.add(2, models_each=1, claims_each=1)
    model = developer.models.get()
    Price.objects.create(
        model=model,
        input_per_mtok=Decimal("2.25"),
        output_per_mtok=Decimal("9"),
        tier="Bulk Platform",
        as_of=timezone.localdate(),
        source=Source.objects.get(provider=platform),
    )

    response = client.get(f"/providers/{platform.slug}/")

    served = response.context["served"]
    assert [m.slug for m in served.object_list] == [model.slug]
    assert served.object_list[0].latest_price["input_per_mtok"] == Decimal("2.25")
    text = _text(response)
    assert "Other developers' models priced here (1)" in text
    assert "Bulk Platform" in text
    # The developer's page lists the model as its own, not as one priced elsewhere.
    mine = client.get(f"/providers/{developer.slug}/")
    assert mine.context["served"].paginator.count == 0
    assert model.slug in [m.slug for m in mine.context["models"].object_list]
