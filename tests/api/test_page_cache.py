"""Catalogue pages are served from the page cache until a write to a table they read commits.

These tests commit (transactional database): a table's change stamp moves when a transaction
that wrote to it commits, and no page is cached inside a transaction.
"""

from __future__ import annotations

import os

import pytest
import redis
from django.core.cache import caches
from django.db import connection, transaction
from django.utils import timezone

from assessments.models import Assessment, Rating
from catalog.change_stamp import STAMPED_TABLES, change_stamps
from catalog.models import AIModel, Claim, Modality, Price, Verification
from tests.factories import build_catalogue, publish_assessment

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the change stamp's triggers are PostgreSQL's"
    ),
]


@pytest.fixture
def committed(curator):
    cat = build_catalogue()
    cat.published = publish_assessment(provider=cat.providers[0], author=curator, cat=cat)
    return cat


def fresh(client, url: str):
    """The page as rendered now, bypassing the cache."""
    caches["api_pages"].clear()
    return client.get(url)


def test_a_repeated_request_is_answered_byte_for_byte_from_one_query(
    anon, committed, django_assert_num_queries
):
    url = "/api/v1/models?page_size=2"
    with django_assert_num_queries(3):  # the stamps; models with relations; modalities
        first = anon.get(url)
    with django_assert_num_queries(1):  # the stamps
        again = anon.get(url)
    assert again.status_code == 200
    assert again.content == first.content
    for header in ("Content-Type", "ETag", "Last-Modified", "Vary", "Allow"):
        assert again[header] == first[header], header
    with django_assert_num_queries(1):
        assert anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 304


# Queries of a page built with the cache on: the stamps, then those in test_query_counts.
BUILT = {
    "/api/v1/providers": 3,
    "/api/v1/models": 3,
    "/api/v1/licences": 3,  # the stamps; licences; their terms with sources
    "/api/v1/claims": 3,
    "/api/v1/claim-keys": 2,
    "/api/v1/sources": 2,
    "/api/v1/prices": 2,
}


@pytest.mark.parametrize("url", sorted(BUILT))
def test_a_list_page_is_built_with_the_same_queries_whatever_its_size(
    anon, committed, django_assert_num_queries, url
):
    for page_size in (1, 2):
        with django_assert_num_queries(BUILT[url]):
            response = anon.get(url, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        with django_assert_num_queries(1):
            assert anon.get(url, {"page_size": page_size}).content == response.content


def _verify(cat):
    Verification.objects.create(
        claim=cat.claims[2],
        checked_at=timezone.now(),
        method=Verification.Method.INFERENCE_PROBE,
        outcome=Verification.Outcome.CONTRADICTED,
        note="The endpoint refused.",
    )


def _update_without_signals(cat):
    Claim.objects.filter(pk=cat.claims[2].pk).update(note="Changed behind the ORM's back.")


def _add_a_modality(cat):
    cat.models[0].modalities.add(Modality.objects.create(slug="audio", name="Audio"))


def _delete_a_price(cat):
    Price.objects.filter(model=cat.models[0]).delete()


def _supersede(cat):
    Assessment.objects.filter(pk=cat.published.pk).update(status=Assessment.Status.SUPERSEDED)


def _rerate(cat):
    Rating.objects.filter(assessment=cat.published).update(value="not_supported")


def _rename_a_provider(cat):
    provider = cat.providers[0]
    provider.name = "Renamed"
    provider.save()


@pytest.mark.parametrize(
    ("write", "url"),
    [
        (_verify, "/api/v1/models/model-0-0"),
        (_verify, "/api/v1/claims"),
        (_update_without_signals, "/api/v1/claims?provider=provider-0"),
        (_add_a_modality, "/api/v1/models?modality=audio"),
        (_add_a_modality, "/api/v1/models"),
        (_delete_a_price, "/api/v1/models/model-0-0"),
        (_supersede, "/api/v1/providers"),
        (_rerate, "/api/v1/providers?criterion=dpa&rating=supported"),
        (_rename_a_provider, "/api/v1/models/model-0-1"),
    ],
)
def test_a_committed_write_to_anything_a_page_reads_is_served_at_once(anon, committed, write, url):
    before = anon.get(url)
    assert anon.get(url).content == before.content  # now cached

    write(committed)

    after = anon.get(url)
    assert after.status_code == 200
    assert after.content != before.content
    assert after.content == fresh(anon, url).content
    assert anon.get(url, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200


def test_a_rolled_back_write_leaves_the_stamps_and_a_write_moves_its_table_s_at_commit(
    committed,
):
    stamps = change_stamps()
    assert stamps is not None and set(stamps) == STAMPED_TABLES
    with pytest.raises(RuntimeError), transaction.atomic():
        AIModel.objects.filter(pk=committed.models[0].pk).update(name="Never")
        raise RuntimeError
    assert change_stamps() == stamps

    with transaction.atomic():
        AIModel.objects.filter(pk=committed.models[0].pk).update(name="Renamed")
        AIModel.objects.filter(pk=committed.models[1].pk).update(name="Renamed too")
        assert change_stamps() is None  # no page is cached inside a transaction
    after = change_stamps()
    changed = {table for table in stamps if after[table] != stamps[table]}
    assert changed == {"catalog_aimodel"}


def test_a_write_to_a_table_a_page_never_read_leaves_the_page_cached(
    anon, committed, django_assert_num_queries
):
    models, claims = "/api/v1/models", "/api/v1/claims"
    models_before, claims_before = anon.get(models), anon.get(claims)

    _verify(committed)  # what a crawler or probe writes: a verification

    with django_assert_num_queries(1):  # the stamps; the models list read no verification
        assert anon.get(models).content == models_before.content
    assert anon.get(claims).content != claims_before.content
    # A filter that reads claims makes the page depend on them.
    filtered = "/api/v1/models?claim_key=commercial_use_allowed"
    first = anon.get(filtered)
    _update_without_signals(committed)
    with django_assert_num_queries(3):  # the stamps; models (claims under the key); modalities
        assert anon.get(filtered).content == first.content  # the same models, built again


def test_a_page_is_cached_per_host_because_its_links_name_the_host(anon, committed):
    url = "/api/v1/models?page_size=1"
    local = anon.get(url, HTTP_HOST="localhost").json()
    loopback = anon.get(url, HTTP_HOST="127.0.0.1").json()
    assert local["next"].startswith("http://localhost/")
    assert loopback["next"].startswith("http://127.0.0.1/")


def test_access_rules_run_before_the_cache(anon, committed):
    url = "/api/v1/models"
    assert anon.get(url).status_code == 200
    assert anon.get(url, {"unknown": "1"}).status_code == 400
    bad_token = anon.get(url, HTTP_AUTHORIZATION="Token atlas_not-a-token")
    assert bad_token.status_code == 401


def test_pages_can_live_in_redis_shared_by_every_process(
    anon, committed, settings, django_assert_num_queries
):
    redis_url = os.environ.get("ATLAS_TEST_REDIS_URL", "redis://127.0.0.1:6379/11")
    settings.CACHES = {
        **settings.CACHES,
        "api_pages": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "api_pages_test",
        },
    }
    pages = caches["api_pages"]
    pages.clear()
    url = "/api/v1/providers/provider-0"
    first = anon.get(url)
    assert redis.Redis.from_url(redis_url).keys("*api_pages_test*")  # stored in Redis
    with django_assert_num_queries(1):
        assert anon.get(url).content == first.content
    _rename_a_provider(committed)
    assert b"Renamed" in anon.get(url).content
    pages.clear()
