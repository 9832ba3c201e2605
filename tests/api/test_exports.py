from __future__ import annotations

import csv
import io
import json

import pytest

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
