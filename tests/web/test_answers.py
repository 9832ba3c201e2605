"""Answers mean what the data says: the finder, compare and "last checked", on the seeds."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from catalog.models import AIModel, Claim, ClaimKey, Provider, Source
from catalog.requirements.check import requirements_results
from catalog.requirements.inputs import Requirements
from catalog.requirements.rules import Outcome, Status

pytestmark = pytest.mark.django_db

# Mistral's models served only through its API: what "no training on our inputs" asks about.
MISTRAL_API_MODELS = {"mistral-embed", "mistral-large", "mistral-medium", "mistral-small"}


def _text(response) -> str:
    html = re.sub(r"<[^>]+>", " ", response.content.decode())
    return re.sub(r"\s+", " ", html)


def _training_finding(result):
    return next(f for f in result.findings if f.requirement == "no_training_on_inputs")


def test_the_finder_lists_mistrals_api_models_as_meeting_no_training_on_inputs(client, mistral):
    assert (
        set(
            AIModel.objects.filter(provider=mistral, weights="api_only").values_list(
                "slug", flat=True
            )
        )
        >= MISTRAL_API_MODELS
    )
    response = client.get("/finder/", {"no_training_on_inputs": "on"})
    assert response.status_code == 200
    results = response.context["results"]
    conditional = {r.model.slug: r for r in results["conditional"]}
    assert set(conditional) >= MISTRAL_API_MODELS
    assert not MISTRAL_API_MODELS & {r.model.slug for r in results["fails"]}
    # Two sources say "no" for the API; the DPA says only partly: that is the condition shown.
    finding = _training_finding(conditional["mistral-large"])
    assert finding.status == Status.CONDITIONAL
    assert finding.reason == "Inputs used for training: no, but another source says only partly."
    assert finding.claim.value_flag == Claim.Flag.PARTIAL
    assert finding.claim.source.slug == "mistral-dpa"
    assert finding.condition.startswith("The DPA still lists cases where training is allowed")
    assert "Inputs used for training: no, but another source says only partly." in _text(response)


def test_the_api_check_lists_mistrals_api_models_as_meeting_no_training_on_inputs(client, mistral):
    response = client.post(
        "/api/v1/requirements/check",
        json.dumps({"no_training_on_inputs": True, "outcomes": ["conditional"], "page_size": 100}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    results = {r["model"]["slug"]: r for r in response.json()["results"]}
    assert set(results) >= MISTRAL_API_MODELS
    finding = results["mistral-small"]["findings"][0]
    assert finding["requirement"] == "no_training_on_inputs"
    assert finding["status"] == "conditional"
    assert finding["claim"]["key"] == "training_use_of_input"
    assert finding["claim"]["value"] == "Partial"


def _provider_with_training_claims(*flags_and_statuses: tuple[str, str]) -> AIModel:
    provider = Provider.objects.create(
        slug="test-provider", name="Test Provider", kind="model_developer"
    )
    key = ClaimKey.objects.get(key="training_use_of_input")
    for number, (flag, status) in enumerate(flags_and_statuses):
        source = Source.objects.create(
            provider=provider,
            slug=f"test-terms-{number}",
            url=f"https://test.example/terms-{number}",
            title=f"Terms {number}",
            publisher="Test Provider",
            doc_type="terms",
        )
        Claim.objects.create(
            provider=provider,
            key=key,
            value_flag=flag,
            source=source,
            scope_surface=Claim.Surface.API,
            status=status,
            checked_at=dt.date(2026, 4, 18),
        )
    return AIModel.objects.create(
        provider=provider, slug="test-model", name="Test Model", weights="api_only"
    )


@pytest.mark.parametrize(
    ("claims", "status", "cited"),
    [
        # Sources disagree: unknown, citing the claim that stops it, never the one that says no.
        ([("no", "current"), ("yes", "current")], Status.UNKNOWN, "yes"),
        # A disputed "no" is not a no.
        ([("no", "disputed"), ("no", "current")], Status.UNKNOWN, "no"),
        # Only partly so, alone: met under conditions, the partial claim shown.
        ([("partial", "current")], Status.CONDITIONAL, "partial"),
        # "no" is what meets "no training on our inputs".
        ([("no", "current")], Status.MET, "no"),
        ([("yes", "current")], Status.UNMET, "yes"),
    ],
)
def test_training_claims_decide_no_training_on_inputs_by_what_they_say(
    mistral, claims, status, cited
):
    model = _provider_with_training_claims(*claims)
    (result,) = requirements_results(
        requirements=Requirements(no_training_on_inputs=True), model_ids=[model.pk]
    )
    finding = _training_finding(result)
    assert (finding.status, finding.claim.value_flag) == (status, cited)
    if status == Status.UNKNOWN:
        assert result.outcome == Outcome.FAILS


def test_disagreeing_sources_are_named_with_what_each_says(mistral):
    model = _provider_with_training_claims(("no", "current"), ("yes", "current"))
    (result,) = requirements_results(
        requirements=Requirements(no_training_on_inputs=True), model_ids=[model.pk]
    )
    reason = _training_finding(result).reason
    assert reason == "Sources disagree on “Inputs used for training” (no / yes)."


def _rows(response) -> dict:
    return {row.label: row for _group, rows in response.context["groups"] for row in rows}


def test_compare_shows_mistrals_disputed_data_hosting_with_both_values_and_evidence(
    client, mistral
):
    response = client.get("/compare/", {"providers": "mistral,anthropic"})
    assert response.status_code == 200
    rows = _rows(response)
    hosting = rows["Where data is hosted"]
    mistral, anthropic = hosting.cells
    disputed = [(v.text, v.status_label) for v in mistral.values if v.status_label == "Disputed"]
    assert disputed == [
        ("EU infrastructure (Paris / Frankfurt)", "Disputed"),
        (
            "Not stated for the standard API; Mistral Compute in EU Tier 3+ data centres, "
            "incl. Sweden",
            "Disputed",
        ),
    ]
    assert mistral.tone == "unknown"
    assert "US-based" in [v.text for v in anthropic.values]
    html = response.content.decode()
    for value in mistral.values:
        assert f'href="/claims/{value.claim.pk}/"' in html
    assert html.count('<span class="badge status-disputed">Disputed</span>') >= 4
    assert "EU infrastructure (Paris / Frankfurt)" in _text(response)


def test_compare_keeps_the_eu_residency_row_when_its_claims_are_disputed(client, mistral):
    rows = _rows(client.get("/compare/", {"providers": "mistral,anthropic"}))
    residency = rows["EU data residency"]
    mistral, anthropic = residency.cells
    assert [(v.claim.value_flag, v.status_label) for v in mistral.values] == [
        ("yes", "Disputed"),
        ("partial", "Disputed"),
    ]
    assert [v.claim.value_flag for v in anthropic.values] == ["unknown"]
    assert residency.differs


def test_the_provider_page_says_its_newest_check_with_the_oldest_in_force_beside_it(
    client, mistral
):
    in_force = Claim.objects.filter(provider=mistral).exclude(status=Claim.Status.RETIRED)
    newest = max(in_force.values_list("checked_at", flat=True))
    oldest = min(in_force.filter(status="current").values_list("checked_at", flat=True))
    assert (newest, oldest) == (dt.date(2026, 4, 18), dt.date(2024, 8, 7))
    response = client.get("/providers/mistral/")
    page = response.context["page"]
    assert (page.checked.newest, page.checked.oldest) == (newest, oldest)
    assert "Last checked 2026-04-18; oldest check in force 2024-08-07" in _text(response)
