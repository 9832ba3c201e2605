from __future__ import annotations

import pytest

from catalog.models import AIModel
from catalog.requirements.check import models_for_requirements
from catalog.requirements.inputs import Requirements

pytestmark = pytest.mark.django_db

URL = "/api/v1/requirements/check"


def test_it_returns_each_model_with_its_outcome_and_the_deciding_claim_and_source(
    anon, small_catalogue
):
    response = anon.post(URL, {"eu_residency": True, "commercial_use": True}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["requirements"] == ["commercial_use", "eu_residency"]
    outcomes = {r["model"]["slug"]: r["outcome"] for r in body["results"]}
    assert outcomes == {
        "model-0-0": "qualifies",
        "model-0-1": "qualifies",
        "model-1-0": "fails",
        "model-1-1": "fails",
    }
    assert body["counts"] == {"qualifies": 2, "conditional": 0, "fails": 2}
    eu = next(f for f in body["results"][0]["findings"] if f["requirement"] == "eu_residency")
    assert eu["status"] == "met"
    assert eu["claim"]["key"] == "eu_data_residency"
    assert eu["source"]["url"] == "https://provider-0.example/terms"
    assert eu["checked_at"]


def test_it_gives_the_same_answer_as_the_selector_the_web_finder_uses(anon, small_catalogue):
    requirements = {"self_hosting": True, "no_training_on_inputs": True, "max_input_price": "0.6"}
    body = anon.post(URL, requirements, format="json").json()
    expected = models_for_requirements(requirements=Requirements.from_mapping(requirements))
    assert [(r["model"]["slug"], r["outcome"]) for r in body["results"]] == [
        (r.model.slug, r.outcome) for r in expected
    ]
    licence_finding = next(
        f for f in body["results"][0]["findings"] if f["requirement"] == "self_hosting"
    )
    assert licence_finding["licence"]["slug"] == "apache-2-0"
    assert licence_finding["source_url"] == "https://www.apache.org/licenses/LICENSE-2.0"


def test_it_can_return_only_some_outcomes(anon, small_catalogue):
    body = anon.post(URL, {"self_hosting": True, "outcomes": ["fails"]}, format="json").json()
    assert {r["outcome"] for r in body["results"]} == {"fails"}
    assert body["counts"]["qualifies"] == 2


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"modalities": ["smell"]}, "modalities"),
        ({"commercial_use": "perhaps"}, "commercial_use"),
        ({"max_output_price": "cheap"}, "max_output_price"),
        ({"outcomes": ["maybe"]}, "outcomes.0"),
        ({"budget": 3}, "budget"),
    ],
)
def test_bad_requirements_are_refused_naming_the_field(anon, small_catalogue, body, path):
    response = anon.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert path in [f["path"] for f in response.json()["error"]["fields"]]


def test_a_large_catalogue_comes_a_page_at_a_time_with_the_counts_of_all(anon, small_catalogue):
    from bench.generate_catalogue import generate_catalogue

    generate_catalogue(providers=3, models_per_provider=10, claims_per_model=2, out=str)
    total = AIModel.objects.count()
    first = anon.post(URL, {"self_hosting": True, "page_size": 20}, format="json").json()
    assert (first["total"], first["page"], first["page_size"]) == (total, 1, 20)
    assert first["pages"] == -(-total // 20)
    assert len(first["results"]) == 20
    assert sum(first["counts"].values()) == total
    last = anon.post(
        URL, {"self_hosting": True, "page_size": 20, "page": first["pages"]}, format="json"
    ).json()
    assert len(last["results"]) == total - 20 * (first["pages"] - 1)
    assert last["results"][-1]["outcome"] == "fails"
    everything = models_for_requirements(requirements=Requirements(self_hosting=True))
    assert [r["model"]["slug"] for r in first["results"]] == [r.model.slug for r in everything[:20]]


def test_only_some_outcomes_are_paged_and_counted_in_the_total(anon, small_catalogue):
    body = anon.post(URL, {"self_hosting": True, "outcomes": ["qualifies"]}, format="json").json()
    assert body["total"] == body["counts"]["qualifies"] == len(body["results"])


@pytest.mark.parametrize(
    ("body", "path"),
    [
        ({"self_hosting": True, "page": 0}, "page"),
        ({"self_hosting": True, "page": 99}, "page"),
        ({"self_hosting": True, "page_size": 100000}, "page_size"),
    ],
)
def test_a_page_that_cannot_be_given_is_refused_naming_the_field(anon, small_catalogue, body, path):
    response = anon.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert path in [f["path"] for f in response.json()["error"]["fields"]]
