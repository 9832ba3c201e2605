from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone
from django.utils.http import parse_http_date

from catalog.models import Claim, Verification

pytestmark = pytest.mark.django_db


def streamed(response) -> str:
    return b"".join(response.streaming_content).decode()


def test_the_catalogue_export_holds_every_record_with_a_generated_at_stamp(anon, assessments):
    response = anon.get("/api/v1/exports/catalogue.json")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="atlas-catalogue-')
    body = json.loads(streamed(response))
    assert body["generated_at"] == response["X-Generated-At"]
    assert [p["slug"] for p in body["providers"]] == ["provider-0", "provider-1"]
    assert len(body["models"]) == 4
    assert len(body["claims"]) == 8
    assert {s["slug"] for s in body["sources"]} == {"provider-0-terms", "provider-1-terms"}
    assert all(c["source"]["url"] and c["checked_at"] for c in body["claims"])
    # Only published assessments leave the building.
    assert [a["id"] for a in body["assessments"]] == [assessments.published.pk]


def test_the_claims_csv_has_a_row_per_claim_with_its_source_and_the_stamp(anon, small_catalogue):
    response = anon.get("/api/v1/exports/claims.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert len(rows) == 8
    first = rows[0]
    assert first["source_url"].startswith("https://provider-")
    assert first["evidence_quote"]
    assert first["freshness"] in {"current", "ageing", "stale"}
    assert {row["export_generated_at"] for row in rows} == {response["X-Generated-At"]}
    about_models = [row for row in rows if row["subject_type"] == "model"]
    assert all(row["model"] and row["provider"] for row in about_models)


EXPORTS = ["/api/v1/exports/catalogue.json", "/api/v1/exports/claims.csv"]


@pytest.mark.parametrize("url", EXPORTS)
def test_an_export_carries_an_etag_and_last_modified(anon, small_catalogue, url):
    response = anon.get(url)
    assert response.status_code == 200
    assert response["ETag"].startswith('W/"')
    newest = max(c.updated_at for c in small_catalogue.claims)
    assert parse_http_date(response["Last-Modified"]) >= int(newest.timestamp())


@pytest.mark.parametrize("url", EXPORTS)
def test_an_unchanged_export_is_a_304_to_if_none_match_and_if_modified_since(
    anon, small_catalogue, url
):
    first = anon.get(url)
    streamed(first)
    again = anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert not again.content
    since = anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"])
    assert since.status_code == 304


@pytest.mark.parametrize("url", EXPORTS)
def test_a_changed_claim_changes_the_export_validators(anon, small_catalogue, url):
    first = anon.get(url)
    streamed(first)
    claim = small_catalogue.claims[0]
    later = timezone.now() + dt.timedelta(seconds=2)
    Claim.objects.filter(pk=claim.pk).update(condition="Only on paid plans.", updated_at=later)
    again = anon.get(
        url, HTTP_IF_NONE_MATCH=first["ETag"], HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]
    )
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert "Only on paid plans." in streamed(again)
    assert anon.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"]).status_code == 200


def test_a_new_verification_changes_the_export_validators(anon, small_catalogue):
    url = EXPORTS[1]
    first = anon.get(url)
    streamed(first)
    Verification.objects.create(
        claim=small_catalogue.claims[0],
        checked_at=timezone.now(),
        method=Verification.Method.SOURCE_CHECK,
        outcome=Verification.Outcome.CONFIRMED,
    )
    Verification.objects.filter(claim=small_catalogue.claims[0]).update(
        created_at=timezone.now() + dt.timedelta(seconds=2)
    )
    assert anon.get(url, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
