"""The genai-prices import: providers, models, prices with history, context windows quoted.

Every test but the first replaces the dataset at its one seam (``dataset_read``) with a
small copy built from the package's own types; the first reads the installed release.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from genai_prices.types import (
    ClauseEquals,
    ConditionalPrice,
    ModelInfo,
    ModelPrice,
    StartDateConstraint,
)
from genai_prices.types import Provider as DatasetProvider

from catalog import prices_import as module
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import catalogue_load
from catalog.models import AIModel, Claim, Price, Provider, Source, Verification
from catalog.prices_import import Dataset, PricesImportError, prices_import
from crawlers.matching import locate
from crawlers.models import CrawlSettings, Version

DAY_ONE = dt.date(2026, 11, 20)
DAY_TWO = dt.date(2026, 12, 4)


def listing(model_id: str, *, name: str | None = None, window: int | None = None, prices=None):
    return ModelInfo(
        id=model_id,
        match=ClauseEquals(equals=model_id),
        name=name,
        context_window=window,
        prices=prices
        if prices is not None
        else ModelPrice(input_mtok=Decimal("3"), output_mtok=Decimal("15")),
    )


def dataset(version: str, *, anthropic_prices=None, openrouter_models=None) -> Dataset:
    anthropic = DatasetProvider(
        id="anthropic",
        name="Anthropic",
        api_pattern="",
        pricing_urls=["https://www.anthropic.com/pricing#api"],
        models=[
            listing("claude-test-4", name="Claude Test 4", window=200000, prices=anthropic_prices)
        ],
    )
    openrouter = DatasetProvider(
        id="openrouter",
        name="OpenRouter",
        api_pattern="",
        pricing_urls=["https://openrouter.ai/models"],
        models=openrouter_models
        if openrouter_models is not None
        else [
            listing(
                "anthropic/claude-test-4",
                name="Anthropic: Claude Test 4",
                window=190000,
                prices=ModelPrice(input_mtok=Decimal("3.3"), output_mtok=Decimal("16.5")),
            ),
            listing("somebody/unknown-finetune-7b", name="Somebody: Finetune"),
        ],
    )
    return Dataset(version=version, providers=[anthropic, openrouter])


@pytest.fixture
def serve(monkeypatch):
    """Make the import read ``data`` instead of the installed release."""

    def use(data: Dataset) -> None:
        monkeypatch.setattr(module, "dataset_read", lambda: data)

    return use


def snapshot() -> dict[str, int]:
    return {
        "providers": Provider.objects.count(),
        "models": AIModel.objects.count(),
        "prices": Price.objects.count(),
        "claims": Claim.objects.count(),
        "sources": Source.objects.count(),
        "versions": Version.objects.count(),
        "verifications": Verification.objects.count(),
        "model history": AIModel.history.count(),
        "price history": Price.history.count(),
        "claim history": Claim.history.count(),
    }


def test_the_installed_release_gives_500_models_without_duplicating_the_seed(seeded_catalogue):
    seed_mistral = set(
        AIModel.objects.filter(provider__slug="mistral").values_list("slug", flat=True)
    )

    report = prices_import(read_on=DAY_ONE)

    assert report.changed
    assert AIModel.objects.count() >= 500
    # The seed's Mistral Large (api_ids: mistral-large-latest) took the dataset's listing.
    large = AIModel.objects.get(slug="mistral-large")
    assert large.prices.filter(source__publisher="genai-prices (Pydantic)").exists()
    assert not AIModel.objects.filter(provider__slug="mistral", name="Mistral Large").exclude(
        slug="mistral-large"
    )
    # The catalogue file owns its models' fields: the import wrote none of them.
    assert (
        set(AIModel.objects.filter(slug__in=seed_mistral).values_list("slug", flat=True))
        == seed_mistral
    )
    assert not AIModel.history.filter(
        slug__in=seed_mistral, history_change_reason__startswith="Imported"
    ).exists()
    # Aggregators serve other developers' models; they develop none here.
    assert not AIModel.objects.filter(provider__slug__in=["openrouter", "amazon-bedrock"]).exists()
    assert Price.objects.filter(tier="OpenRouter").count() > 100

    before = snapshot()
    again = prices_import(read_on=DAY_TWO)
    assert not again.changed
    assert snapshot() == before


def test_an_unchanged_dataset_changes_nothing(db, seeded_catalogue, serve):
    serve(dataset("0.2.3"))
    prices_import(read_on=DAY_ONE)
    before = snapshot()

    report = prices_import(read_on=DAY_TWO)

    assert not report.changed
    assert snapshot() == before


def test_a_newer_release_adds_prices_and_keeps_the_old_ones(db, seeded_catalogue, serve):
    serve(dataset("0.2.3"))
    prices_import(read_on=DAY_ONE)
    model = AIModel.objects.get(provider__slug="anthropic", api_ids=["claude-test-4"])
    source = Source.objects.get(slug="genai-prices-anthropic")

    serve(
        dataset(
            "0.2.4",
            anthropic_prices=[
                ConditionalPrice(
                    constraint=None,
                    prices=ModelPrice(input_mtok=Decimal("3"), output_mtok=Decimal("15")),
                ),
                ConditionalPrice(
                    constraint=StartDateConstraint(start_date=dt.date(2026, 12, 1)),
                    prices=ModelPrice(input_mtok=Decimal("2.5"), output_mtok=Decimal("12")),
                ),
            ],
        )
    )
    report = prices_import(read_on=DAY_TWO)

    assert report.changed
    own = model.prices.filter(tier="").order_by("as_of")
    assert [(p.as_of, p.input_per_mtok, p.output_per_mtok) for p in own] == [
        (DAY_ONE, Decimal("3"), Decimal("15")),
        (dt.date(2026, 12, 1), Decimal("2.5"), Decimal("12")),
    ]
    assert all(p.source_id == source.pk for p in own)
    # The new record is a second stored text; the first stays, and the title names the release.
    assert list(source.crawl_versions.order_by("number").values_list("cause", flat=True)) == [
        "dataset_import",
        "dataset_import",
    ]
    source.refresh_from_db()
    assert "genai-prices 0.2.4" in source.title
    assert CrawlSettings.objects.get(source=source).current_version.number == 2
    # A platform's price with an unchanged figure gains no row.
    assert model.prices.filter(tier="OpenRouter").count() == 1

    before = snapshot()
    assert not prices_import(read_on=DAY_TWO + dt.timedelta(days=3)).changed
    assert snapshot() == before


def test_an_aggregator_listing_is_the_developers_model_at_the_platforms_price(
    db, seeded_catalogue, serve
):
    serve(dataset("0.2.3"))

    report = prices_import(read_on=DAY_ONE)

    model = AIModel.objects.get(provider__slug="anthropic", api_ids=["claude-test-4"])
    assert model.name == "Claude Test 4"
    assert not AIModel.objects.filter(provider__slug="openrouter").exists()
    via = model.prices.get(tier="OpenRouter")
    assert (via.input_per_mtok, via.output_per_mtok) == (Decimal("3.3"), Decimal("16.5"))
    assert via.source.slug == "genai-prices-openrouter"
    assert via.source.url == "https://openrouter.ai/models"
    assert model.prices.get(tier="").source.slug == "genai-prices-anthropic"
    # A listing by an organisation the mapping does not know is left out, not guessed.
    assert not AIModel.objects.filter(name__icontains="finetune").exists()
    assert report.skipped["developer not mapped"] == 1


def test_a_context_window_claim_quotes_a_line_of_the_stored_record(db, seeded_catalogue, serve):
    serve(dataset("0.2.3"))

    prices_import(read_on=DAY_ONE)

    model = AIModel.objects.get(provider__slug="anthropic", api_ids=["claude-test-4"])
    assert model.context_window == 200000
    claim = model.claims.get(key__key="context_window")
    assert claim.value_number == 200000
    assert claim.evidence_quote == "model claude-test-4 context_window: 200000"
    assert claim.checked_at == DAY_ONE
    source = claim.source
    assert source.publisher == "genai-prices (Pydantic)"
    assert source.doc_type == "pricing"
    assert source.url == "https://www.anthropic.com/pricing#api"
    assert "genai-prices 0.2.3" in source.title and "2026-11-20" in source.title
    version = CrawlSettings.objects.get(source=source).current_version
    assert version.cause == Version.Cause.DATASET_IMPORT
    assert locate(version.text, claim.evidence_quote) is not None
    # Checked by the source checks' own rules, and pinned where it stands in the stored text.
    verification = claim.verifications.get()
    assert verification.outcome == Verification.Outcome.CONFIRMED
    assert verification.found_in_id == version.pk
    assert version.text[verification.quote_start : verification.quote_end] == claim.evidence_quote
    # The crawler does not re-read the pricing page for a text that is the dataset's.
    assert not CrawlSettings.objects.get(source=source).enabled


def test_a_malformed_record_is_refused_whole(db, seeded_catalogue, serve):
    before = snapshot()
    serve(
        dataset(
            "0.2.4",
            openrouter_models=[
                listing("anthropic/claude-test-4", window=-5),
                listing(
                    "openai/gpt-test",
                    prices=ModelPrice(input_mtok=Decimal("-1"), output_mtok=Decimal("2")),
                ),
            ],
        )
    )

    with pytest.raises(PricesImportError) as refused:
        prices_import(read_on=DAY_ONE)

    message = str(refused.value)
    assert "genai-prices 0.2.4: 2 problem(s), nothing was written" in message
    assert (
        "providers[1] (id=openrouter).models[0] (id=anthropic/claude-test-4): "
        "field 'context_window': expected a positive whole number, got -5"
    ) in message
    assert "models[1] (id=openai/gpt-test): field 'prices.input_mtok'" in message
    assert snapshot() == before


def test_a_provider_missing_from_the_mapping_is_named(db, seeded_catalogue, serve):
    data = dataset("0.2.4")
    data.providers.append(
        DatasetProvider(
            id="newcomer", name="Newcomer", api_pattern="", pricing_urls=["https://x.test/"]
        )
    )
    serve(data)

    with pytest.raises(PricesImportError, match="unknown provider 'newcomer'; map it in PLATFORMS"):
        prices_import(read_on=DAY_ONE)
    assert not Source.objects.filter(publisher="genai-prices (Pydantic)").exists()


def test_every_provider_the_mapping_names_can_be_created():
    from catalog.prices_mapping import DEVELOPERS, NAME_PATTERNS, ORG_PREFIXES, PLATFORMS

    named = {p.slug for p in PLATFORMS.values()} | set(ORG_PREFIXES.values())
    named |= {slug for _pattern, slug in NAME_PATTERNS}
    assert named - set(DEVELOPERS) == set()


@pytest.mark.parametrize(
    ("dataset_id", "model_id", "developer", "ref", "variant"),
    [
        (
            "openrouter",
            "anthropic/claude-3.5-sonnet:beta",
            "anthropic",
            "claude-3.5-sonnet",
            "beta",
        ),
        ("openrouter", "thedrummer/rocinante-12b", None, "rocinante-12b", ""),
        (
            "openrouter",
            "~anthropic/claude-sonnet-latest",
            None,
            "~anthropic/claude-sonnet-latest",
            "",
        ),
        (
            "aws",
            "us.anthropic.claude-3-haiku-20240307-v1:0",
            "anthropic",
            "claude-3-haiku-20240307-v1:0",
            "",
        ),
        ("groq", "llama-3.3-70b-versatile", "meta", "llama-3.3-70b-versatile", ""),
        ("groq", "deepseek-r1-distill-llama-70b", "deepseek", "deepseek-r1-distill-llama-70b", ""),
        ("together", "Gryphe/MythoMax-L2-13b", None, "mythomax-l2-13b", ""),
        ("avian", "dolphin-mixtral-8x22b", None, "dolphin-mixtral-8x22b", ""),
        ("mistral", "zai-glm-5-3", "zhipu-ai", "zai-glm-5-3", ""),
        ("meta", "muse-spark-1.3", "meta", "muse-spark-1.3", ""),
        ("cloudflare", "@cf/meta/llama-3.1-8b-instruct", "meta", "llama-3.1-8b-instruct", ""),
        ("openrouter", "unknown-bare-name", None, "unknown-bare-name", ""),
    ],
)
def test_a_listings_developer_is_read_from_its_identifier_never_taken_to_be_the_platform(
    dataset_id, model_id, developer, ref, variant
):
    from catalog.prices_import import listing_developer
    from catalog.prices_mapping import PLATFORMS

    assert listing_developer(PLATFORMS[dataset_id], model_id) == (developer, ref, variant)


def test_a_context_window_the_catalogue_states_otherwise_is_disputed_both_ways(
    db, seeded_catalogue, serve
):
    data = dataset("0.2.3")
    data.providers.append(
        DatasetProvider(
            id="mistral",
            name="Mistral",
            api_pattern="",
            pricing_urls=["https://mistral.ai/pricing/api"],
            models=[listing("codestral", name="Codestral", window=256000)],
        )
    )
    serve(data)

    prices_import(read_on=DAY_ONE)

    codestral = AIModel.objects.get(slug="codestral")
    claims = {c.source.slug: c for c in codestral.claims.filter(key__key="context_window")}
    assert claims["genai-prices-mistral"].value_number == 256000
    assert {c.status for c in claims.values()} == {"disputed"}
    assert "Another source gives 32000 tokens" in claims["genai-prices-mistral"].note
    # The file's own claim, field and note are the file's: a second load changes nothing.
    assert codestral.context_window == 32000
    assert not catalogue_load(path=SEED_CATALOGUE).changed

    before = snapshot()
    assert not prices_import(read_on=DAY_TWO).changed
    assert snapshot() == before
