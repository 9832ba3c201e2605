"""Each database constraint rejects a bad row even when model validation is bypassed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from assessments.models import Assessment, Criterion, Rating
from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    Price,
    Provider,
    Source,
    Verification,
)

TODAY = dt.date(2026, 11, 1)


@pytest.fixture
def base(db):
    provider = Provider.objects.create(slug="acme", name="Acme AI", kind="model_developer")
    licence = Licence.objects.create(
        slug="lic",
        name="Some licence",
        kind="permissive",
        commercial_use="yes",
        self_hosting="yes",
        fine_tuning="yes",
        weight_redistribution="yes",
        attribution_required="yes",
    )
    model = AIModel.objects.create(provider=provider, slug="acme-1", name="Acme 1")
    source = Source.objects.create(
        slug="acme-terms",
        url="https://acme.example/terms",
        title="Terms",
        publisher="Acme",
        doc_type="terms",
    )
    key = ClaimKey.objects.create(
        key="commercial_use_allowed", label="Commercial use", group="right", value_type="flag"
    )
    claim = Claim.objects.create(
        provider=provider, key=key, value_flag="yes", source=source, checked_at=TODAY
    )
    criterion = Criterion.objects.create(slug="dpa", name="DPA")
    assessment = Assessment.objects.create(
        provider=provider, status="published", verdict="conditional", assessed_on=TODAY
    )
    return {
        "provider": provider,
        "licence": licence,
        "model": model,
        "source": source,
        "key": key,
        "claim": claim,
        "criterion": criterion,
        "assessment": assessment,
    }


def _licence(**overrides):
    values = dict(
        slug="other",
        name="Other",
        kind="permissive",
        commercial_use="yes",
        self_hosting="yes",
        fine_tuning="yes",
        weight_redistribution="yes",
        attribution_required="yes",
    )
    return Licence(**(values | overrides))


def _claim(b, **overrides):
    values = dict(
        provider=b["provider"],
        key=b["key"],
        value_flag="no",
        source=b["source"],
        checked_at=TODAY,
        scope_surface="api",
    )
    return Claim(**(values | overrides))


BAD_ROWS = {
    "provider kind": lambda b: Provider(slug="x", name="X", kind="bakery"),
    "provider status": lambda b: Provider(slug="x", name="X", kind="api_platform", status="asleep"),
    "provider slug unique": lambda b: Provider(slug="acme", name="Dup", kind="api_platform"),
    "licence kind": lambda b: _licence(kind="free-ish"),
    "licence commercial use": lambda b: _licence(commercial_use="maybe"),
    "licence spdx unique": lambda b: (
        _licence(spdx_id="Apache-2.0", slug="l2")
        if Licence.objects.filter(pk=b["licence"].pk).update(spdx_id="Apache-2.0")
        else None
    ),
    "model weights": lambda b: AIModel(provider=b["provider"], slug="m", name="M", weights="some"),
    "model architecture": lambda b: AIModel(
        provider=b["provider"], slug="m", name="M", architecture="spaghetti"
    ),
    "model params positive": lambda b: AIModel(
        provider=b["provider"], slug="m", name="M", total_params_b=Decimal("-1")
    ),
    "model active within total": lambda b: AIModel(
        provider=b["provider"],
        slug="m",
        name="M",
        total_params_b=Decimal("7"),
        active_params_b=Decimal("8"),
    ),
    "model context window positive": lambda b: AIModel(
        provider=b["provider"], slug="m", name="M", context_window=0
    ),
    "model retired before release": lambda b: AIModel(
        provider=b["provider"],
        slug="m",
        name="M",
        release_date=dt.date(2025, 1, 1),
        retirement_date=dt.date(2024, 1, 1),
    ),
    "source doc type": lambda b: Source(
        slug="s2", url="https://x.example", title="T", publisher="P", doc_type="rumour"
    ),
    "source url unique": lambda b: Source(
        slug="s2", url="https://acme.example/terms", title="T", publisher="P", doc_type="terms"
    ),
    "claim key group": lambda b: ClaimKey(key="k", label="K", group="vibes", value_type="flag"),
    "claim key value type": lambda b: ClaimKey(key="k", label="K", group="right", value_type="x"),
    "claim with no subject": lambda b: _claim(b, provider=None),
    "claim with two subjects": lambda b: _claim(b, model=b["model"]),
    "claim with no value": lambda b: _claim(b, value_flag=""),
    "claim with two values": lambda b: _claim(b, value_text="also this"),
    "claim flag": lambda b: _claim(b, value_flag="perhaps"),
    "claim surface": lambda b: _claim(b, scope_surface="telepathy"),
    "claim status": lambda b: _claim(b, status="vibing"),
    "claim duplicate natural key": lambda b: _claim(b, scope_surface="any"),
    "verification method": lambda b: Verification(
        claim=b["claim"],
        checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        method="guess",
        outcome="confirmed",
    ),
    "verification outcome": lambda b: Verification(
        claim=b["claim"],
        checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        method="manual",
        outcome="probably",
    ),
    "verification score range": lambda b: Verification(
        claim=b["claim"],
        checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        method="manual",
        outcome="confirmed",
        match_score=1.5,
    ),
    "price negative input": lambda b: Price(
        model=b["model"], input_per_mtok=Decimal("-0.1"), as_of=TODAY, source=b["source"]
    ),
    "price negative output": lambda b: Price(
        model=b["model"],
        input_per_mtok=1,
        output_per_mtok=Decimal("-2"),
        as_of=TODAY,
        source=b["source"],
    ),
    "price currency": lambda b: Price(
        model=b["model"], input_per_mtok=1, currency="usd", as_of=TODAY, source=b["source"]
    ),
    "faq duplicate question": lambda b: (
        FAQ(provider=b["provider"], question="Q", answer="A")
        if FAQ.objects.create(provider=b["provider"], question="Q", answer="A")
        else None
    ),
    "assessment status": lambda b: Assessment(
        provider=b["provider"], status="pending", assessed_on=TODAY
    ),
    "assessment verdict": lambda b: Assessment(
        provider=b["provider"], verdict="great", assessed_on=TODAY
    ),
    "two published assessments": lambda b: Assessment(
        provider=b["provider"], status="published", assessed_on=TODAY
    ),
    "rating value": lambda b: Rating(
        assessment=b["assessment"], criterion=b["criterion"], value="stellar"
    ),
    "rating twice for one criterion": lambda b: (
        Rating(assessment=b["assessment"], criterion=b["criterion"], value="supported")
        if Rating.objects.create(assessment=b["assessment"], criterion=b["criterion"])
        else None
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_ROWS))
def test_the_database_rejects_a_bad_row(base, case):
    row = BAD_ROWS[case](base)
    with pytest.raises(IntegrityError), transaction.atomic():
        # save_base skips full_clean: this is the database's own check.
        row.save()


def test_a_good_row_passes_every_constraint(base):
    Claim.objects.create(
        model=base["model"],
        key=base["key"],
        value_number=Decimal("32000"),
        value_unit="tokens",
        source=base["source"],
        checked_at=TODAY,
    )
    assert Claim.objects.count() == 2


def test_a_source_cited_by_a_claim_cannot_be_deleted(base):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        base["source"].delete()


def test_a_claim_with_verifications_cannot_be_deleted(base):
    from django.db.models import ProtectedError

    Verification.objects.create(
        claim=base["claim"],
        checked_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        method="manual",
        outcome="confirmed",
    )
    with pytest.raises(ProtectedError):
        base["claim"].delete()
