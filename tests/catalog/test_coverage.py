"""What the catalogue holds and how much of it rests on texts Atlas keeps."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from catalog.models import AIModel, Claim, ClaimKey, Licence, Provider, Verification
from catalog.selectors.coverage import PROVIDER_EVIDENCE_MIN, catalogue_coverage
from tests.factories import make_source, store_text

pytestmark = pytest.mark.django_db

TEXT = "We never train on your data. You own the outputs. Sixteen is the minimum age."


@pytest.fixture
def key():
    return ClaimKey.objects.create(
        key="output_ownership", label="Customer owns outputs", group="right", value_type="text"
    )


def _claim(provider, source, key, n, quote="You own the outputs."):
    return Claim.objects.create(
        provider=provider,
        key=key,
        value_text="yes",
        scope_plan=f"plan {n}",
        source=source,
        evidence_quote=quote,
        checked_at=dt.date(2025, 1, 1),
    )


def _check(claim, version, outcome, *, days_ago):
    found = outcome == Verification.Outcome.CONFIRMED
    return Verification.objects.create(
        claim=claim,
        checked_at=timezone.now() - dt.timedelta(days=days_ago),
        method=Verification.Method.SOURCE_CHECK,
        outcome=outcome,
        found_in=version if found else None,
        quote_start=0 if found else None,
        quote_end=5 if found else None,
    )


def test_only_claims_whose_latest_check_found_the_quote_in_a_stored_text_count(key):
    acme = Provider.objects.create(slug="acme", name="Acme", kind="model_developer")
    source = make_source("https://acme.example/terms", provider=acme)
    version = store_text(source.pk, TEXT)
    found = [_claim(acme, source, key, n) for n in range(PROVIDER_EVIDENCE_MIN)]
    for claim in found:
        _check(claim, version, Verification.Outcome.CONFIRMED, days_ago=3)
    # Confirmed once, then the quote was gone: its latest check decides.
    lost = _claim(acme, source, key, 100)
    _check(lost, version, Verification.Outcome.CONFIRMED, days_ago=10)
    _check(lost, version, Verification.Outcome.CONTRADICTED, days_ago=1)
    # A quote no check has read yet, and a claim with no quote at all.
    _claim(acme, source, key, 101)
    _claim(acme, source, key, 102, quote="  ")

    coverage = catalogue_coverage()

    assert coverage.claims == PROVIDER_EVIDENCE_MIN + 3
    assert coverage.claims_with_quote == PROVIDER_EVIDENCE_MIN + 2
    assert coverage.claims_found_in_text == PROVIDER_EVIDENCE_MIN
    assert coverage.providers_evidenced == 1
    assert coverage.found_share == pytest.approx(
        PROVIDER_EVIDENCE_MIN / (PROVIDER_EVIDENCE_MIN + 3)
    )


def test_a_provider_with_one_claim_too_few_found_is_not_evidenced(key):
    acme = Provider.objects.create(slug="acme", name="Acme", kind="model_developer")
    source = make_source("https://acme.example/terms", provider=acme)
    version = store_text(source.pk, TEXT)
    for n in range(PROVIDER_EVIDENCE_MIN - 1):
        _check(_claim(acme, source, key, n), version, Verification.Outcome.CONFIRMED, days_ago=2)
    assert catalogue_coverage().providers_evidenced == 0


def test_retired_claims_and_open_models_without_a_licence_are_told_apart(key):
    acme = Provider.objects.create(slug="acme", name="Acme", kind="model_developer")
    source = make_source("https://acme.example/terms", provider=acme)
    retired = _claim(acme, source, key, 1)
    retired.status = Claim.Status.RETIRED
    retired.save()
    licence = Licence.objects.create(
        slug="mit", name="MIT", kind=Licence.Kind.PERMISSIVE, commercial_use="yes",
        self_hosting="yes", fine_tuning="yes", weight_redistribution="yes",
        attribution_required="yes",
    )  # fmt: skip
    AIModel.objects.create(slug="a", name="A", provider=acme, weights="open", licence=licence)
    AIModel.objects.create(slug="b", name="B", provider=acme, weights="open")
    AIModel.objects.create(slug="c", name="C", provider=acme, weights="api_only")

    coverage = catalogue_coverage()

    assert coverage.claims == 0
    assert (coverage.models, coverage.open_weight_models) == (3, 2)
    assert coverage.open_weight_models_without_licence == 1


def test_claims_recorded_as_unknown_are_counted_apart_from_those_stating_a_value(key):
    acme = Provider.objects.create(slug="acme", name="Acme", kind="model_developer")
    source = make_source("https://acme.example/terms", provider=acme)
    flag = ClaimKey.objects.create(
        key="dpa_available", label="DPA", group="data_protection", value_type="flag"
    )
    Claim.objects.create(
        provider=acme, key=flag, value_flag="unknown", source=source,
        checked_at=dt.date(2025, 1, 1), note="The terms and privacy policy are silent.",
    )  # fmt: skip
    version = store_text(source.pk, TEXT)
    _check(_claim(acme, source, key, 1), version, Verification.Outcome.CONFIRMED, days_ago=1)

    coverage = catalogue_coverage()

    assert (coverage.claims, coverage.claims_unknown, coverage.claims_stating) == (2, 1, 1)
    assert coverage.found_share == 1.0
