"""A claim without a quote is unverifiable, never current; a claim's one badge says its status
first and its age last; the home page and the API count what the checks of claims found."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone

from catalog.models import Claim, Verification

pytestmark = pytest.mark.django_db


def _row(html: str, claim: Claim) -> str:
    """The claims table's row of ``claim``."""
    match = re.search(rf'<tr id="claim-{claim.pk}">(.*?)</tr>', html, flags=re.S)
    assert match, f"no row for claim {claim.pk}"
    return match.group(1)


def _checked_today(claim: Claim) -> Claim:
    # Checked today: by its date alone it would be badged current.
    claim.checked_at = timezone.localdate()
    claim.save()
    return claim


def _unquoted(**lookups) -> Claim:
    claim = Claim.objects.filter(evidence_quote="", status=Claim.Status.CURRENT, **lookups).first()
    assert claim is not None, lookups
    return _checked_today(claim)


def test_a_seeded_claim_without_a_quote_is_unverifiable_on_provider_model_and_claim_pages(
    client, mistral
):
    # Most of the seed's claims are unquoted.
    assert Claim.objects.filter(evidence_quote="").count() > Claim.objects.count() // 2
    provider_claim = _unquoted(provider__slug="mistral")
    model_claim = _unquoted(model__isnull=False)
    quoted = _checked_today(
        Claim.objects.filter(provider__slug="mistral", status=Claim.Status.CURRENT)
        .exclude(evidence_quote="")
        .first()
    )

    provider_html = client.get("/providers/mistral/").content.decode()
    row = _row(provider_html, provider_claim)
    assert '<span class="badge status-unverifiable"' in row and "Unverifiable" in row
    assert "Current" not in row
    # A quoted claim in force keeps the age of its check.
    row = _row(provider_html, quoted)
    assert "Current" in row and "Unverifiable" not in row

    model_html = client.get(f"/models/{model_claim.model.slug}/").content.decode()
    row = _row(model_html, model_claim)
    assert "Unverifiable" in row and "Current" not in row

    claim_html = client.get(f"/claims/{provider_claim.pk}/").content.decode()
    assert "Unverifiable" in claim_html
    assert "No evidence quote: no check can confirm or contradict this claim" in claim_html
    assert "Current" not in claim_html


def test_the_api_says_whether_a_claim_is_verifiable(anon, mistral):
    unquoted = _unquoted()
    quoted = Claim.objects.exclude(evidence_quote="").first()
    assert anon.get(f"/api/v1/claims/{unquoted.pk}").json()["verifiable"] is False
    assert anon.get(f"/api/v1/claims/{quoted.pk}").json()["verifiable"] is True
    listed = anon.get("/api/v1/claims", {"page_size": 200}).json()["results"]
    assert {c["id"]: c["verifiable"] for c in listed} == {
        c.pk: bool(c.evidence_quote) for c in Claim.objects.all()
    }


def test_a_needs_review_claim_never_shows_a_current_badge(client, mistral):
    claim = _checked_today(
        Claim.objects.filter(provider__slug="mistral").exclude(evidence_quote="").first()
    )
    claim.status = Claim.Status.NEEDS_REVIEW
    claim.save()

    row = _row(client.get("/providers/mistral/").content.decode(), claim)
    assert '<span class="badge status-needs_review">Needs review</span>' in row
    assert "Current" not in row

    claim_html = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "Needs review" in claim_html and "Current" not in claim_html

    # Search results badge each claim the same way.
    search = client.get("/", {"q": claim.evidence_quote[:30]}).content.decode()
    found = re.search(rf'href="/claims/{claim.pk}/".*?</tr>', search, flags=re.S)
    assert found and "Needs review" in found.group(0) and "Current" not in found.group(0)


def _read(claim: Claim, *, days_ago: int, outcome: str, method: str = "source_check") -> None:
    Verification.objects.create(
        claim=claim,
        checked_at=timezone.now() - dt.timedelta(days=days_ago),
        method=method,
        outcome=outcome,
    )


def _expected_counts() -> dict[str, int]:
    """The five figures, counted here claim by claim from their definitions."""
    window_start = timezone.localdate() - dt.timedelta(days=settings.ATLAS_FRESHNESS_DAYS)
    counts = dict.fromkeys(
        ("verifiable", "confirmed_within_window", "changed_wording", "needs_review"), 0
    )
    counts["unverifiable"] = 0
    for claim in Claim.objects.exclude(status=Claim.Status.RETIRED):
        checks = sorted(claim.verifications.all(), key=lambda v: (v.checked_at, v.pk))
        reads = [v for v in checks if v.method in ("source_check", "manual")]
        source_checks = [v for v in checks if v.method == "source_check"]
        if claim.evidence_quote:
            counts["verifiable"] += 1
            if (
                reads
                and reads[-1].outcome == "confirmed"
                and timezone.localtime(reads[-1].checked_at).date() >= window_start
            ):
                counts["confirmed_within_window"] += 1
        else:
            counts["unverifiable"] += 1
        if source_checks and source_checks[-1].outcome == "changed_wording":
            counts["changed_wording"] += 1
        if claim.status == Claim.Status.NEEDS_REVIEW:
            counts["needs_review"] += 1
    return counts


@pytest.fixture
def checked(mistral):
    """The seed with checks of every kind the figures tell apart."""
    quoted = list(Claim.objects.exclude(evidence_quote="").order_by("pk"))
    unquoted = list(Claim.objects.filter(evidence_quote="").order_by("pk"))
    _read(quoted[0], days_ago=1, outcome="confirmed")
    _read(quoted[1], days_ago=2, outcome="confirmed", method="manual")
    # Confirmed, but long ago.
    _read(quoted[2], days_ago=settings.ATLAS_FRESHNESS_DAYS + 30, outcome="confirmed")
    # Confirmed, then contradicted: the latest read counts.
    _read(quoted[3], days_ago=5, outcome="confirmed")
    _read(quoted[3], days_ago=1, outcome="contradicted")
    quoted[3].status = Claim.Status.NEEDS_REVIEW
    quoted[3].save()
    # A probe's or the judge's reading is not a read of the quote.
    _read(quoted[4], days_ago=1, outcome="confirmed", method="inference_probe")
    # Nothing to confirm: no quote.
    _read(unquoted[0], days_ago=1, outcome="confirmed", method="manual")
    unquoted[1].status = Claim.Status.NEEDS_REVIEW
    unquoted[1].save()
    unquoted[2].status = Claim.Status.RETIRED
    unquoted[2].save()
    _read(quoted[5], days_ago=1, outcome="changed_wording")
    # A changed wording found, then the quote confirmed: no longer counted.
    _read(quoted[6], days_ago=3, outcome="changed_wording")
    _read(quoted[6], days_ago=1, outcome="confirmed")
    return _expected_counts()


def test_the_home_page_and_the_api_give_the_five_counts(client, anon, checked):
    expected = checked
    assert expected["confirmed_within_window"] == 3
    assert expected["needs_review"] == 2
    assert expected["changed_wording"] == 1
    html = client.get("/").content.decode()
    shown = {
        name: int(re.search(rf'<dd id="stat-{name.replace("_", "-")}">(\d+)</dd>', html)[1])
        for name in ("verifiable", "changed_wording", "needs_review", "unverifiable")
    }
    shown["confirmed_within_window"] = int(
        re.search(r'<dd id="stat-confirmed">(\d+)</dd>', html)[1]
    )
    assert shown == expected

    body = anon.get("/api/v1/stats").json()
    assert body == {**expected, "freshness_days": settings.ATLAS_FRESHNESS_DAYS}


def test_the_freshness_chart_counts_unquoted_claims_apart_never_as_current(client, checked):
    summary = client.get("/").context["freshness"]
    in_force = Claim.objects.filter(status=Claim.Status.CURRENT)
    assert summary.unverifiable == in_force.filter(evidence_quote="").count()
    assert summary.current + summary.ageing + summary.stale == (
        in_force.exclude(evidence_quote="").count()
    )


def test_the_stats_endpoint_runs_a_pinned_number_of_queries(
    anon, checked, django_assert_num_queries
):
    # Not cached yet: 4 for the cache stamp (without the change-stamp triggers), then the
    # catalogue figures: provider facts (3), claims by badge (1) and what checks found (2: the
    # latest reading, the latest source check), the rating spread (2). Cached: the stamp only.
    with django_assert_num_queries(12):
        cold = anon.get("/api/v1/stats").json()
    with django_assert_num_queries(4):
        assert anon.get("/api/v1/stats").json() == cold


def test_the_stats_endpoint_rejects_unknown_parameters(anon, mistral):
    response = anon.get("/api/v1/stats", {"provider": "mistral"})
    assert response.status_code == 400


def test_curators_get_the_unverifiable_claims_of_each_provider(client, curator, mistral):
    mistral_unquoted = Claim.objects.filter(provider__slug="mistral", evidence_quote="")
    quoted = Claim.objects.filter(provider__slug="mistral").exclude(evidence_quote="").first()
    # The curators' source pages (triage, this list) are for those who may edit claims.
    curator.user_permissions.add(
        Permission.objects.get(content_type__app_label="catalog", codename="change_claim")
    )
    client.force_login(curator)
    response = client.get("/sources/unverifiable/")
    assert response.status_code == 200
    html = response.content.decode()
    section = re.search(
        r'<section aria-labelledby="provider-mistral">(.*?)</section>', html, flags=re.S
    )
    assert section, "no section for Mistral AI"
    for claim in mistral_unquoted:
        assert f'href="/claims/{claim.pk}/"' in section.group(1)
    assert f'href="/claims/{quoted.pk}/"' not in html


def test_the_unverifiable_list_is_refused_to_an_outsider(client, outsider, mistral):
    assert client.get("/sources/unverifiable/").status_code == 302
    client.force_login(outsider)
    assert client.get("/sources/unverifiable/").status_code == 403
