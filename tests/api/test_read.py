from __future__ import annotations

import pytest

from catalog.models import Claim

pytestmark = pytest.mark.django_db

LISTS = [
    "/api/v1/providers",
    "/api/v1/models",
    "/api/v1/licences",
    "/api/v1/claims",
    "/api/v1/claim-keys",
    "/api/v1/sources",
    "/api/v1/prices",
    "/api/v1/criteria",
    "/api/v1/assessments",
]


def slugs(response) -> list[str]:
    return [item.get("slug", item.get("id")) for item in response.json()["results"]]


@pytest.mark.parametrize("url", LISTS)
def test_every_list_is_a_cursor_page_anyone_can_read(anon, assessments, url):
    response = anon.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"next", "previous", "has_more", "results"}
    assert body["results"], f"{url} listed nothing"


def test_a_provider_is_read_by_slug_with_its_models_claims_and_published_assessment(
    anon, assessments
):
    response = anon.get("/api/v1/providers/provider-0")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Provider 0"
    assert [m["slug"] for m in body["models"]] == ["model-0-0", "model-0-1"]
    assert body["published_assessment"]["id"] == assessments.published.pk
    claim = body["claims"][0]
    assert claim["source"]["url"] == "https://provider-0.example/terms"
    assert claim["evidence_quote"]
    assert claim["checked_at"]
    assert claim["freshness"] in {"current", "ageing", "stale"}


def test_a_model_detail_carries_claims_with_verification_history_and_prices(anon, small_catalogue):
    body = anon.get("/api/v1/models/model-0-0").json()
    assert body["licence"]["slug"] == "apache-2-0"
    assert body["claims"][0]["verifications"][0]["outcome"] == "confirmed"
    assert body["prices"][0]["source"]["slug"] == "provider-0-terms"
    assert body["modalities"] == ["text"]


def test_an_unknown_slug_is_a_404_in_the_error_shape(anon, small_catalogue):
    response = anon.get("/api/v1/models/no-such-model")
    assert response.status_code == 404
    assert (
        response.json()
        == {
            "error": {
                "code": "not_found",
                "message": "No AIModel matches the given query.",
                "fields": [],
            }
        }
        or response.json()["error"]["code"] == "not_found"
    )


def test_an_unknown_api_path_is_a_json_404(anon, db):
    response = anon.get("/api/v1/nothing/here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("open_weights=true", ["model-0-0", "model-1-0"]),
        ("open_weights=false", ["model-0-1", "model-1-1"]),
        ("provider=provider-1", ["model-1-0", "model-1-1"]),
        ("provider=provider-0,provider-1&weights=api_only", ["model-0-1", "model-1-1"]),
        ("licence=acme-terms", ["model-0-1", "model-1-1"]),
        ("licence_kind=permissive", ["model-0-0", "model-1-0"]),
        ("provider_kind=api_platform", ["model-1-0", "model-1-1"]),
        ("modality=image", ["model-0-1", "model-1-1"]),
        (
            "claim_key=commercial_use_allowed&claim_value=yes",
            [f"model-{p}-{m}" for p in (0, 1) for m in (0, 1)],
        ),
        ("claim_key=commercial_use_allowed&claim_value=no", []),
        ("search=Model 1.", ["model-1-0", "model-1-1"]),
    ],
)
def test_models_filter_on_what_a_buyer_selects(anon, small_catalogue, query, expected):
    response = anon.get(f"/api/v1/models?{query}")
    assert response.status_code == 200, response.content
    assert slugs(response) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kind=api_platform", ["provider-1"]),
        ("country=fr", ["provider-0"]),
        ("verdict=recommended", ["provider-0"]),
        ("criterion=dpa&rating=supported", ["provider-0"]),
        ("criterion=dpa&rating=not_supported", []),
        ("claim_key=eu_data_residency&claim_value=yes", ["provider-0"]),
    ],
)
def test_providers_filter_on_kind_verdict_and_criterion_rating(anon, assessments, query, expected):
    response = anon.get(f"/api/v1/providers?{query}")
    assert response.status_code == 200, response.content
    assert slugs(response) == expected


def test_claims_filter_on_key_value_and_freshness(anon, small_catalogue):
    stale = anon.get("/api/v1/claims?freshness=stale").json()["results"]
    assert [(c["provider"], c["key"]) for c in stale] == [("provider-1", "eu_data_residency")]
    eu_yes = anon.get("/api/v1/claims?key=eu_data_residency&value=yes").json()["results"]
    assert [c["provider"] for c in eu_yes] == ["provider-0"]
    about_p1 = anon.get("/api/v1/claims?provider=provider-1").json()["results"]
    assert len(about_p1) == 4  # two about the provider, one about each of its models


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/v1/models?weights=closed", "query.weights"),
        ("/api/v1/models?open_weights=maybe", "query.open_weights"),
        ("/api/v1/models?updated_since=yesterday", "query.updated_since"),
        ("/api/v1/models?page_size=0", "query.page_size"),
        ("/api/v1/models?page_size=10000", "query.page_size"),
        ("/api/v1/models?cursor=garbage", "query.cursor"),
        ("/api/v1/models?ordering=price", "query.ordering"),
        ("/api/v1/models?colour=blue", "query.colour"),
        ("/api/v1/providers/provider-0?page_size=3", "query.page_size"),
    ],
)
def test_a_bad_query_parameter_is_a_400_naming_it(anon, small_catalogue, url, path):
    response = anon.get(url)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert [f["path"] for f in error["fields"]] == [path]
    assert error["fields"][0]["message"]


def test_cursor_pages_walk_the_whole_list_once_even_when_records_change_meanwhile(anon, db):
    from tests.factories import build_catalogue

    build_catalogue(providers=3, models_per_provider=3)
    seen: list[str] = []
    url = "/api/v1/models?page_size=4&ordering=name"
    while url:
        body = anon.get(url).json()
        seen += [m["slug"] for m in body["results"]]
        if len(seen) == 4:
            # A record already seen changes while the client pages on: no repeats, no gaps.
            Claim.objects.filter(model__slug=seen[0]).update(note="changed")
        url = body["next"]
    assert sorted(seen) == sorted(f"model-{p}-{m}" for p in range(3) for m in range(3))
    assert len(seen) == len(set(seen))


def test_ordering_reverses_with_a_minus(anon, small_catalogue):
    names = [m["name"] for m in anon.get("/api/v1/models?ordering=-name").json()["results"]]
    assert names == sorted(names, reverse=True)


def test_updated_since_returns_only_records_changed_at_or_after_it(anon, small_catalogue):
    from django.utils import timezone

    mark = timezone.now()
    model = small_catalogue.models[1]
    model.family = "renamed"
    model.save()
    response = anon.get("/api/v1/models", {"updated_since": mark.isoformat()})
    assert slugs(response) == [model.slug]


def test_requirements_check_is_not_a_list_but_answers_in_the_error_shape(anon, db):
    response = anon.post("/api/v1/requirements/check", {"max_input_price": "-1"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"][0]["path"] == "max_input_price"


def test_a_non_json_body_is_a_415_in_the_error_shape(reviewer_api, db):
    response = reviewer_api.post("/api/v1/assessments", "a=b", content_type="text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("query", "path"),
    [
        ({"family": "a\x00b"}, "query.family"),
        ({"updated_since": "0001-01-01T00:00:00+21:11"}, "query.updated_since"),
    ],
)
def test_values_no_database_can_store_or_compare_are_a_400(anon, small_catalogue, query, path):
    response = anon.get("/api/v1/models", query)
    assert response.status_code == 400, response.content
    assert [f["path"] for f in response.json()["error"]["fields"]] == [path]


def test_a_body_with_a_nul_character_is_a_400_naming_the_field(reviewer_api, small_catalogue):
    body = {"provider": "provider-0", "assessed_on": "2026-01-01", "strengths": ["ok", "a\x00"]}
    response = reviewer_api.post("/api/v1/assessments", body, format="json")
    assert response.status_code == 400, response.content
    assert [f["path"] for f in response.json()["error"]["fields"]] == ["strengths.1"]


def test_a_far_offset_is_read_as_the_same_moment_in_utc(anon, small_catalogue):
    response = anon.get("/api/v1/models", {"updated_since": "2000-01-01T00:00:00+21:11"})
    assert response.status_code == 200
    assert len(response.json()["results"]) == 4
