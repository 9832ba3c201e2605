"""Every page's query count is pinned and stays the same when it shows many more rows."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from assessments.models import Assessment
from catalog.models import AIModel, Claim, Verification

pytestmark = pytest.mark.django_db


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(ctx.captured_queries)


# (url, pinned query count). Each count is the whole request, session-free, with the
# catalogue-wide figures not cached yet (the home page: 4 queries for the cache stamp,
# 13 to compute the figures: provider facts 3, claims by badge 1, what checks found 2,
# rating spread 2, what the catalogue holds 5; then its lists and facet counts).
PAGES = [
    ("/", 22),
    ("/?q=Bulk", 26),
    ("/?weights=open&commercial=yes&verdict=recommended&freshness=current", 23),
    # A provider's change history reads the newest versions of its claims and of its
    # models' claims apart (2 queries), then those versions; its models are paged (their
    # ids for the figures, the count, the page, the page's prices), and so are other
    # developers' models it prices (the count; the page and prices only when there are some).
    ("/providers/bulk-1/", 28),
    ("/models/bulk-1-model-1/", 6),
    ("/licences/", 1),
    # The licence, its quoted terms with their sources, its models.
    ("/licences/test-permissive/", 3),
    ("/compare/?providers=bulk-1,bulk-2", 9),
    ("/compare/?models=bulk-1-model-0,bulk-2-model-1", 6),
    # The finder, its check not cached yet: 4 for the cache stamp, 4 to sort every model
    # (keys, grouped claims, licences, models), then the judge on the shown page (models,
    # keys, claims, sources; no prices or modalities, which no requirement here reads), and
    # the quoted terms of the licences that decide.
    ("/finder/?commercial_use=on&hosting=self_hosting", 12),
    # What changed: the history tables, then the providers its filter offers by name.
    ("/changes/", 6),
    ("/changes/?provider=bulk-1", 10),
    ("/changes/feed/", 5),
    ("/providers/bulk-1/changes/feed/", 9),
    ("/claims/{claim}/", 2),
]


@pytest.mark.parametrize(("url", "pinned"), PAGES)
def test_the_page_runs_a_pinned_number_of_queries_whatever_the_number_of_rows(
    client, rows, django_assert_num_queries, url, pinned
):
    rows.add(2)
    claim = Claim.objects.filter(provider__slug="bulk-1").first()
    url = url.format(claim=claim.pk)
    with django_assert_num_queries(pinned):
        client.get(url)

    # Ten times the providers, and more models and claims on the pages' own subjects.
    rows.add(20, models_each=3, claims_each=6)
    provider = rows.add(1, models_each=1, claims_each=1)[0]
    del provider
    assert AIModel.objects.count() > 60
    assert Claim.objects.count() > 150
    assert Assessment.objects.count() == 23
    assert _count(client, url) == pinned


@pytest.mark.parametrize(
    "url", ["/providers/bulk-1/", "/models/bulk-1-model-0/", "/models/bulk-1-model-1/"]
)
def test_a_page_of_claims_runs_the_same_queries_and_shows_five_checks_as_crawlers_add_them(
    client, rows, url
):
    rows.add(1, models_each=2, claims_each=3)
    before = _count(client, url)
    now = timezone.now()
    for claim in Claim.objects.all():
        Verification.objects.bulk_create(
            Verification(
                claim=claim,
                checked_at=now - dt.timedelta(hours=hour),
                method="source_check",
                outcome="confirmed",
            )
            for hour in range(1, 41)
        )

    assert _count(client, url) == before
    html = client.get(url).content.decode()
    histories = re.findall(r'<details class="history">.*?<ol>(.*?)</ol>', html, flags=re.S)
    assert histories and all(history.count("<li>") == 5 for history in histories)
    assert "All 41 checks on the claim's page" in html or "All 40 checks" in html
