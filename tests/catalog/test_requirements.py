"""The requirements selector behind the web finder and the API's requirements check."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog.forms import FinderForm
from catalog.models import AIModel, Licence, Price, Provider
from catalog.requirements.api import RequirementsCheckSerializer
from catalog.requirements.check import (
    models_for_requirements,
    requirements_check,
    requirements_check_cached,
    requirements_results,
)
from catalog.requirements.inputs import INPUTS, Requirements, RequirementsError
from catalog.requirements.rules import RULES, Outcome, Status


def _by_slug(results):
    return {r.model.slug: r for r in results}


@pytest.fixture
def research_model(seeded_catalogue):
    return AIModel.objects.create(
        provider=Provider.objects.get(slug="mistral"),
        slug="research-only-test-model",
        name="Research-only test model",
        weights=AIModel.Weights.OPEN,
        licence=Licence.objects.get(slug="mistral-research-licence"),
    )


def test_self_hosting_and_commercial_use_keep_apache_models_and_drop_research_ones(
    research_model,
):
    results = _by_slug(
        models_for_requirements(requirements=Requirements(self_hosting=True, commercial_use=True))
    )
    for slug in ("mistral-7b", "mixtral-8x7b", "mixtral-8x22b"):
        assert results[slug].outcome == Outcome.QUALIFIES, results[slug].findings
    research = results["research-only-test-model"]
    assert research.outcome == Outcome.FAILS
    failing = {f.requirement: f for f in research.failing}
    assert failing["commercial_use"].status == Status.UNMET
    assert "Mistral AI Research License" in failing["commercial_use"].reason
    assert failing["commercial_use"].licence.kind == Licence.Kind.RESEARCH_ONLY
    assert failing["commercial_use"].source_url.startswith("https://")


def test_api_only_models_fail_self_hosting_with_the_reason(seeded_catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(self_hosting=True)))
    large = results["mistral-large"]
    assert large.outcome == Outcome.FAILS
    assert large.failing[0].reason == "API only: the weights are not published."


def test_unknown_never_counts_as_yes(seeded_catalogue):
    # Test data only: every open-weight model the catalogue ships has a licence.
    AIModel.objects.create(
        provider=Provider.objects.get(slug="mistral"),
        slug="test-only-unlicensed",
        name="Test-only unlicensed weights",
        weights=AIModel.Weights.OPEN,
    )
    results = _by_slug(models_for_requirements(requirements=Requirements(commercial_use=True)))
    unlicensed = results["test-only-unlicensed"]
    assert unlicensed.outcome == Outcome.FAILS
    assert unlicensed.findings[0].status == Status.UNKNOWN


def test_a_disputed_claim_decides_nothing(seeded_catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(eu_residency=True)))
    finding = results["mistral-large"].findings[0]
    assert finding.status == Status.UNKNOWN
    assert "disputed" in finding.reason
    assert finding.claim is not None and finding.source is not None


def test_a_claim_with_a_condition_qualifies_only_under_that_condition(seeded_catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(commercial_use=True)))
    large = results["mistral-large"]
    # Large is API-only: the provider's API-scoped commercial-use claim decides.
    assert large.outcome == Outcome.CONDITIONAL
    assert large.conditions[0].condition
    assert large.conditions[0].checked_at is not None


def test_self_hosting_or_eu_is_met_by_either(seeded_catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(self_hosting_or_eu=True)))
    assert results["mistral-7b"].outcome == Outcome.QUALIFIES
    assert results["mistral-large"].outcome == Outcome.FAILS


def test_the_budget_compares_the_latest_price(seeded_catalogue):
    requirements = Requirements(max_input_price=Decimal("1"))
    results = _by_slug(models_for_requirements(requirements=requirements))
    assert results["mistral-small"].outcome == Outcome.QUALIFIES
    assert results["mistral-large"].outcome == Outcome.FAILS
    assert "2 USD" in results["mistral-large"].findings[0].reason
    assert results["codestral"].findings[0].status == Status.UNKNOWN


def test_modalities_must_all_be_handled(seeded_catalogue):
    results = _by_slug(
        models_for_requirements(requirements=Requirements(modalities=frozenset({"image"})))
    )
    assert results["mistral-large-3"].outcome == Outcome.QUALIFIES
    assert results["mistral-7b"].outcome == Outcome.FAILS
    # Mistral Large's image input is disputed between two sources: unknown, not yes.
    assert results["mistral-large"].findings[0].status == Status.UNKNOWN


def test_results_are_ordered_best_first(seeded_catalogue):
    results = models_for_requirements(requirements=Requirements(self_hosting=True))
    order = [r.outcome for r in results]
    assert order == sorted(order, key=[Outcome.QUALIFIES, Outcome.CONDITIONAL, Outcome.FAILS].index)


def test_the_query_count_does_not_grow_with_the_number_of_models(
    seeded_catalogue, django_assert_max_num_queries
):
    requirements = Requirements(
        commercial_use=True, self_hosting=True, max_input_price=Decimal("3")
    )
    with django_assert_max_num_queries(7):
        few = models_for_requirements(requirements=requirements, models=AIModel.objects.all()[:3])
    with django_assert_max_num_queries(7):
        every = models_for_requirements(requirements=requirements)
    assert len(few) == 3 and len(every) > 20


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"commercial_use": "sometimes"}, "commercial_use"),
        ({"max_input_price": "cheap"}, "max_input_price"),
        ({"max_output_price": -1}, "max_output_price"),
        ({"modalities": ["text", "smell"]}, "modalities"),
        ({"budget": 3}, "budget"),
    ],
)
def test_bad_requirements_name_the_field(seeded_catalogue, data, field):
    with pytest.raises(RequirementsError) as caught:
        Requirements.from_mapping(data)
    assert caught.value.field == field


def test_requirements_read_form_and_json_values(seeded_catalogue):
    parsed = Requirements.from_mapping(
        {
            "commercial_use": "on",
            "self_hosting": True,
            "max_input_price": "0.5",
            "modalities": "text,code",
        }
    )
    assert parsed.commercial_use and parsed.self_hosting
    assert parsed.max_input_price == Decimal("0.5")
    assert parsed.modalities == frozenset({"text", "code"})


REQUIREMENT_SETS = [
    Requirements(commercial_use=True),
    Requirements(self_hosting=True, commercial_use=True),
    Requirements(eu_residency=True),
    Requirements(self_hosting_or_eu=True, no_training_on_inputs=True),
    Requirements(no_training_on_inputs=True),
    Requirements(self_hosting=True, no_training_on_inputs=True),
    Requirements(fine_tuning=True, redistribution=True),
    Requirements(max_input_price=Decimal("5"), max_output_price=Decimal("20")),
    Requirements(self_hosting=True, max_input_price=Decimal("1")),
    Requirements(modalities=frozenset({"image"})),
    Requirements(modalities=frozenset({"image", "audio"}), commercial_use=True),
    Requirements(
        commercial_use=True,
        self_hosting_or_eu=True,
        no_training_on_inputs=True,
        fine_tuning=True,
        redistribution=True,
        max_input_price=Decimal("10"),
        modalities=frozenset({"audio", "code"}),
    ),
]


@pytest.fixture
def varied_catalogue(seeded_catalogue):
    """The seeds plus a generated catalogue stirred so every rule of the judge is exercised:
    disputed, awaiting-review and retired claims, regions, models with unknown weights or
    no licence, models with no claims of their own, prices with no output figure."""
    import random

    from bench.generate_catalogue import generate_catalogue
    from catalog.models import Claim, Price

    generate_catalogue(
        providers=4, models_per_provider=8, claims_per_model=6, claims_per_provider=60, out=str
    )
    rng = random.Random(7)
    for claim in Claim.objects.filter(source__slug__startswith="gen-"):
        roll = rng.random()
        if roll < 0.08:
            claim.status = Claim.Status.DISPUTED
        elif roll < 0.14:
            claim.status = Claim.Status.NEEDS_REVIEW
        elif roll < 0.2:
            claim.status = Claim.Status.RETIRED
        elif roll < 0.26:
            claim.scope_region = "EU"
        else:
            continue
        claim.save()
    generated = list(AIModel.objects.filter(slug__startswith="gen-").order_by("pk"))
    for model in generated[::5]:
        model.claims.all().delete()
    for model in generated[1::7]:
        model.weights = AIModel.Weights.UNKNOWN
        model.save()
    for model in generated[2::9]:
        model.licence = None
        model.save()
    Price.objects.filter(model__in=generated[3::4]).update(output_per_mtok=None)
    return generated


@pytest.mark.parametrize("requirements", REQUIREMENT_SETS, ids=lambda r: "+".join(r.requested()))
def test_the_catalogue_wide_check_agrees_with_the_judge_on_every_model(
    varied_catalogue, requirements
):
    judged = models_for_requirements(requirements=requirements)
    check = requirements_check(requirements=requirements)
    expected = {outcome: [] for outcome in Outcome.values}
    for result in judged:
        expected[result.outcome].append(result.model.pk)
    assert check.ids == expected
    assert sum(check.counts.values()) == AIModel.objects.count()


def test_the_catalogue_wide_check_takes_a_constant_number_of_queries(
    varied_catalogue, django_assert_max_num_queries
):
    requirements = REQUIREMENT_SETS[-1]
    with django_assert_max_num_queries(6):
        few = requirements_check(requirements=requirements, models=AIModel.objects.all()[:3])
    with django_assert_max_num_queries(6):
        every = requirements_check(requirements=requirements)
    assert sum(few.counts.values()) == 3
    assert sum(every.counts.values()) == AIModel.objects.count() > 50


def test_results_for_a_page_come_in_the_order_asked_with_their_findings(seeded_catalogue):
    requirements = Requirements(self_hosting=True, commercial_use=True)
    check = requirements_check(requirements=requirements)
    shown = check.ids[Outcome.FAILS][:3]
    results = requirements_results(requirements=requirements, model_ids=shown)
    assert [r.model.pk for r in results] == shown
    assert all(r.outcome == Outcome.FAILS and r.failing for r in results)


def test_a_cached_check_is_reused_until_a_model_licence_price_or_claim_is_saved(
    seeded_catalogue, django_assert_max_num_queries
):
    from django.core.cache import cache

    from catalog.models import Claim

    cache.clear()
    requirements = Requirements(eu_residency=True)
    first = requirements_check_cached(requirements=requirements)
    with django_assert_max_num_queries(4):  # the stamp only
        assert requirements_check_cached(requirements=requirements) == first
    # Another question is another entry.
    other = requirements_check_cached(
        requirements=Requirements(eu_residency=True, fine_tuning=True)
    )
    assert other != first

    model = AIModel.objects.get(slug="mistral-large")
    assert model.pk in first.ids[Outcome.FAILS]  # the EU-residency claim is disputed
    from django.db.models import Q

    eu_claims = Claim.objects.filter(
        Q(model=model) | Q(provider=model.provider_id), key__key="eu_data_residency"
    )
    for claim in eu_claims:
        claim.status = Claim.Status.CURRENT
        claim.value_flag = Claim.Flag.YES
        claim.condition = claim.scope_plan = claim.scope_region = ""
        claim.save()
    after = requirements_check_cached(requirements=requirements)
    assert after == requirements_check(requirements=requirements)
    assert model.pk not in after.ids[Outcome.FAILS]


def test_models_alike_but_for_their_claims_are_sorted_apart(seeded_catalogue):
    # The check judges each combination of facts once; a model's own claim is one of them.
    import datetime as dt

    from catalog.models import Claim, ClaimKey, Source

    provider = Provider.objects.get(slug="mistral")
    alike = [
        AIModel.objects.create(
            provider=provider, slug=f"alike-{n}", name=f"Alike {n}", weights="api_only"
        )
        for n in range(2)
    ]
    Claim.objects.create(
        model=alike[1],
        key=ClaimKey.objects.get(key="commercial_use_allowed"),
        source=Source.objects.first(),
        value_flag=Claim.Flag.NO,
        evidence_quote="Not for commercial use.",
        checked_at=dt.date(2026, 4, 18),
    )
    requirements = Requirements(commercial_use=True)
    check = requirements_check(requirements=requirements)
    judged = _by_slug(models_for_requirements(requirements=requirements))
    assert judged["alike-1"].outcome == Outcome.FAILS
    assert judged["alike-0"].outcome != Outcome.FAILS
    for model in alike:
        assert model.pk in check.ids[judged[model.slug].outcome]


def test_every_declared_requirement_is_a_field_of_the_finder_and_the_api_and_nothing_else():
    # The form and the serializer build their fields from INPUTS: a copy cannot drift.
    names = [item.name for item in INPUTS]
    assert [f.name for f in dataclasses.fields(Requirements)] == names
    assert list(RULES) == names

    api_fields = list(RequirementsCheckSerializer().fields)
    assert api_fields == [*names, "outcomes", "page", "page_size"]

    form = FinderForm()
    asked = [item.choice_of or item.name for item in INPUTS]
    assert list(form.fields) == list(dict.fromkeys(asked))
    for item in INPUTS:
        if item.choice_of:
            assert (item.name, item.question) in form.fields[item.choice_of].choices
        else:
            assert form.fields[item.name].label == item.question
    radio_options = {
        value for name in set(asked) - set(names) for value, _ in form.fields[name].choices
    }
    assert radio_options - {""} == {item.name for item in INPUTS if item.choice_of}


def test_the_finder_form_passes_every_declared_requirement_to_the_selector(seeded_catalogue):
    form = FinderForm(
        {
            "hosting": "eu_residency",
            "fine_tuning": "on",
            "max_input_price": "2",
            "modalities": ["text"],
        }
    )
    assert form.is_valid(), form.errors
    mapping = form.requirements_mapping()
    assert list(mapping) == [item.name for item in INPUTS]
    assert Requirements.from_mapping(mapping) == Requirements(
        eu_residency=True,
        fine_tuning=True,
        max_input_price=Decimal(2),
        modalities=frozenset({"text"}),
    )


def test_the_budget_ignores_a_price_announced_for_a_later_day(seeded_catalogue):
    large = AIModel.objects.get(slug="mistral-large")
    Price.objects.create(
        model=large,
        input_per_mtok=Decimal("0.5"),
        output_per_mtok=Decimal("1"),
        as_of=timezone.localdate() + dt.timedelta(days=30),
        source=large.prices.get().source,
    )

    requirements = Requirements(max_input_price=Decimal("1"))
    results = _by_slug(models_for_requirements(requirements=requirements))

    assert results["mistral-large"].outcome == Outcome.FAILS
    assert "2 USD" in results["mistral-large"].findings[0].reason
