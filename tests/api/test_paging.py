"""One paging style for every list: cursor pages of ``{next, previous, has_more, results}``,
with ``count`` on ``?count=true``. Every paged operation of the schema is walked."""

from __future__ import annotations

import pytest
from drf_spectacular.generators import SchemaGenerator

from assessments.models import ClaimCorrection
from assessments.services.moderation import thread_comment


def paged_operations() -> list[str]:
    """The path of every GET operation the schema documents with a cursor."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return [
        path
        for path, operations in schema["paths"].items()
        if any(p["name"] == "cursor" for p in operations.get("get", {}).get("parameters", []))
    ]


@pytest.fixture
def lists(assessments, reviewer, curator) -> dict[str, str]:
    """Each paged path with its ids filled in, for lists of at least two items."""
    cat = assessments
    correction = ClaimCorrection.objects.create(
        claim=cat.claims[0], author=reviewer, reason="The terms changed.", value_flag="no"
    )
    thread_comment(correction=correction, user=curator, text="Which plan?")
    thread_comment(correction=correction, user=reviewer, text="The free one.")
    thread_comment(assessment=cat.rita_draft, user=reviewer, text="First note.")
    ClaimCorrection.objects.create(
        claim=cat.claims[1], author=reviewer, reason="It moved.", value_flag="yes"
    )
    return {
        path: path.replace(
            "{id}", str(correction.pk if "claim-corrections" in path else cat.rita_draft.pk)
        )
        for path in paged_operations()
    }


def test_the_walk_finds_every_list(db):
    paths = paged_operations()
    assert "/api/v1/models" in paths
    assert "/api/v1/assessments/{id}/notes" in paths
    assert len(paths) >= 12


def test_every_list_pages_the_same_way_and_counts_on_request(lists, reviewer_api):
    for path, url in lists.items():
        everything = []
        page = reviewer_api.get(url, {"page_size": 1, "count": "true"})
        assert page.status_code == 200, (path, page.content)
        count = page.json()["count"]
        while True:
            body = page.json()
            assert set(body) == {"next", "previous", "has_more", "results", "count"}, path
            assert body["has_more"] is (body["next"] is not None), path
            assert body["count"] == count, path
            everything += body["results"]
            if not body["has_more"]:
                break
            page = reviewer_api.get(body["next"])
        assert count == len(everything) >= 1, path

        plain = reviewer_api.get(url).json()
        assert set(plain) == {"next", "previous", "has_more", "results"}, path
        assert plain["has_more"] is False and len(plain["results"]) == count, path


def test_a_count_that_is_not_true_or_false_is_a_400_naming_it(anon, small_catalogue):
    response = anon.get("/api/v1/models", {"count": "yes"})
    assert response.status_code == 400
    assert [f["path"] for f in response.json()["error"]["fields"]] == ["query.count"]


def test_a_count_is_one_query_more(anon, small_catalogue, django_assert_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as plain:
        anon.get("/api/v1/prices")
    with django_assert_num_queries(len(plain.captured_queries) + 1):
        assert anon.get("/api/v1/prices", {"count": "true"}).json()["count"] == 4


def test_the_requirements_check_says_has_more_and_count_as_the_lists_do(anon, small_catalogue):
    url = "/api/v1/requirements/check"
    first = anon.post(url, {"page_size": 3}, format="json").json()
    last = anon.post(url, {"page_size": 3, "page": 2}, format="json").json()
    assert (first["has_more"], last["has_more"]) == (True, False)
    assert first["count"] == last["count"] == first["total"] == 4


def test_the_changes_feed_says_has_more_as_the_lists_do(anon, small_catalogue):
    url = "/api/v1/changes"
    some = anon.get(url, {"since": "2000-01-01T00:00:00Z", "limit": 1}).json()
    every = anon.get(url, {"since": "2000-01-01T00:00:00Z"}).json()
    assert (some["has_more"], some["truncated"]) == (True, True)
    assert (every["has_more"], every["truncated"]) == (False, False)
