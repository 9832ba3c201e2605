"""The requirements selector behind the web finder and the API's requirements check."""

from __future__ import annotations

from decimal import Decimal

import pytest

from catalog.models import AIModel, Licence, Provider
from catalog.requirements import (
    Outcome,
    Requirements,
    RequirementsError,
    Status,
    models_for_requirements,
)


def _by_slug(results):
    return {r.model.slug: r for r in results}


@pytest.fixture
def research_model(catalogue):
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


def test_api_only_models_fail_self_hosting_with_the_reason(catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(self_hosting=True)))
    large = results["mistral-large"]
    assert large.outcome == Outcome.FAILS
    assert large.failing[0].reason == "API only: the weights are not published."


def test_unknown_never_counts_as_yes(catalogue):
    # Ministral 3 has open weights but the seeds record no licence for it.
    results = _by_slug(models_for_requirements(requirements=Requirements(commercial_use=True)))
    ministral = results["ministral-3-8b"]
    assert ministral.outcome == Outcome.FAILS
    assert ministral.findings[0].status == Status.UNKNOWN


def test_a_disputed_claim_decides_nothing(catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(eu_residency=True)))
    finding = results["mistral-large"].findings[0]
    assert finding.status == Status.UNKNOWN
    assert "disputed" in finding.reason
    assert finding.claim is not None and finding.source is not None


def test_a_claim_with_a_condition_qualifies_only_under_that_condition(catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(commercial_use=True)))
    large = results["mistral-large"]
    # Large is API-only: the provider's API-scoped commercial-use claim decides.
    assert large.outcome == Outcome.CONDITIONAL
    assert large.conditions[0].condition
    assert large.conditions[0].checked_at is not None


def test_self_hosting_or_eu_is_met_by_either(catalogue):
    results = _by_slug(models_for_requirements(requirements=Requirements(self_hosting_or_eu=True)))
    assert results["mistral-7b"].outcome == Outcome.QUALIFIES
    assert results["mistral-large"].outcome == Outcome.FAILS


def test_the_budget_compares_the_latest_price(catalogue):
    requirements = Requirements(max_input_price=Decimal("1"))
    results = _by_slug(models_for_requirements(requirements=requirements))
    assert results["mistral-small"].outcome == Outcome.QUALIFIES
    assert results["mistral-large"].outcome == Outcome.FAILS
    assert "2 USD" in results["mistral-large"].findings[0].reason
    assert results["codestral"].findings[0].status == Status.UNKNOWN


def test_modalities_must_all_be_handled(catalogue):
    results = _by_slug(
        models_for_requirements(requirements=Requirements(modalities=frozenset({"image"})))
    )
    assert results["mistral-large-3"].outcome == Outcome.QUALIFIES
    assert results["mistral-7b"].outcome == Outcome.FAILS
    # Mistral Large's image input is disputed between two sources: unknown, not yes.
    assert results["mistral-large"].findings[0].status == Status.UNKNOWN


def test_results_are_ordered_best_first(catalogue):
    results = models_for_requirements(requirements=Requirements(self_hosting=True))
    order = [r.outcome for r in results]
    assert order == sorted(order, key=[Outcome.QUALIFIES, Outcome.CONDITIONAL, Outcome.FAILS].index)


def test_the_query_count_does_not_grow_with_the_number_of_models(
    catalogue, django_assert_max_num_queries
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
def test_bad_requirements_name_the_field(catalogue, data, field):
    with pytest.raises(RequirementsError) as caught:
        Requirements.from_mapping(data)
    assert caught.value.field == field


def test_requirements_read_form_and_json_values(catalogue):
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
