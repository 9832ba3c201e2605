"""The hand-written representations of the hot paths say exactly what DRF's declared fields
would, byte for byte, on varied records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from catalog.apis import (
    AIModelDetailSerializer,
    AIModelSerializer,
    ClaimSerializer,
    ClaimViewSet,
    models_queryset,
)
from catalog.models import AIModel, Claim, ClaimKey, Modality, Source, Verification
from tests.factories import build_catalogue

pytestmark = pytest.mark.django_db


@pytest.fixture
def varied():
    cat = build_catalogue()
    odd = AIModel.objects.create(
        provider=cat.providers[1],
        slug="odd-one",
        name="Ödd «one»",
        family="",
        weights=AIModel.Weights.OPEN,
        licence=None,
        total_params_b=Decimal("123456.7"),
        active_params_b=Decimal("0.05"),
        context_window=None,
        api_ids=["odd-one-2026", "odd/one:latest", "日本語"],
        release_date=dt.date(2024, 2, 29),
        deprecation_date=dt.date(2026, 1, 1),
        retirement_date=dt.date(2027, 12, 31),
        successor=cat.models[0],
        description='Line one.\nLine two with "quotes" and a tab\t.',
    )
    odd.modalities.add(Modality.objects.get(slug="image"), Modality.objects.get(slug="text"))
    window = ClaimKey.objects.create(
        key="odd_window", label="Odd window", group="capability", value_type="number"
    )
    note = ClaimKey.objects.create(
        key="odd_hosting", label="Odd hosting", group="capability", value_type="text"
    )
    offline = Source.objects.create(
        slug="offline-letter", url="", title="A letter", publisher="Odd", doc_type="documentation"
    )
    numeric = Claim.objects.create(
        model=odd,
        key=window,
        value_number=Decimal("128000.5"),
        value_unit="tokens",
        condition="On the «Scale» plan.",
        scope_plan="Scale",
        scope_surface=Claim.Surface.API,
        scope_region="EU",
        source=offline,
        evidence_quote="Up to 128k tokens.",
        checked_at=dt.date(2025, 1, 31),
        status=Claim.Status.DISPUTED,
        note="Two sources disagree.",
    )
    Claim.objects.create(
        provider=cat.providers[0],
        key=note,
        value_text="Hosted in Frankfurt 🇩🇪",
        source=offline,
        evidence_quote="Our servers are in Frankfurt.",
        checked_at=dt.date(2020, 1, 1),
    )
    for score in (None, 0.0, 0.875):
        Verification.objects.create(
            claim=numeric,
            checked_at=dt.datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=dt.UTC),
            method=Verification.Method.SOURCE_CHECK,
            outcome=Verification.Outcome.INCONCLUSIVE,
            note="Quote moved." if score else "",
            match_score=score,
        )
    return cat


def generic(serializer_class, instance) -> dict:
    """What the declared fields give, through DRF's own per-field path."""
    return serializers.ModelSerializer.to_representation(serializer_class(), instance)


@pytest.mark.parametrize("serializer_class", [AIModelSerializer, AIModelDetailSerializer])
def test_a_model_is_written_as_its_declared_fields_would_write_it(varied, serializer_class):
    detail = serializer_class is AIModelDetailSerializer
    instances = list(models_queryset(detail=detail).order_by("slug"))
    assert len(instances) == 5
    for instance in instances:
        fast = serializer_class(instance).data
        assert list(fast) == serializer_class.Meta.fields
        assert JSONRenderer().render(fast) == JSONRenderer().render(
            generic(serializer_class, instance)
        ), instance.slug


def test_a_claim_is_written_as_its_declared_fields_would_write_it(varied):
    instances = list(ClaimViewSet.queryset.order_by("id"))
    assert len(instances) == 10
    for instance in instances:
        fast = ClaimSerializer(instance).data
        assert list(fast) == ClaimSerializer.Meta.fields
        assert JSONRenderer().render(fast) == JSONRenderer().render(
            generic(ClaimSerializer, instance)
        ), instance.pk
