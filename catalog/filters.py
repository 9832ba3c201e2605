"""Query filters for the catalogue API: every field a buyer selects on.

Bad values are 400s naming the parameter (the filter backend validates the
form), never silently ignored.
"""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_FLOOR, Decimal

import django_filters as df
from django import forms
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django_filters.fields import IsoDateTimeField
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from assessments.models import Assessment, AssessmentVerdict, Rating, RatingValue
from catalog import freshness
from catalog.models import (
    AIModel,
    AIModelArchitecture,
    AIModelWeights,
    Claim,
    ClaimFlag,
    ClaimKey,
    ClaimKeyGroup,
    ClaimStatus,
    ClaimSurface,
    Licence,
    LicenceKind,
    Price,
    Provider,
    ProviderKind,
    ProviderStatus,
    Source,
    SourceDocType,
    Ternary,
    Verification,
)

# The price columns' precision and range, as stored.
_PRICE_FIELD = Price._meta.get_field("input_per_mtok")
PRICE_PLACES = Decimal(1).scaleb(-_PRICE_FIELD.decimal_places)
PRICE_LIMIT = Decimal(10) ** (_PRICE_FIELD.max_digits - _PRICE_FIELD.decimal_places) - PRICE_PLACES


class StrictBooleanField(forms.Field):
    """`true` or `false` (also 1/0); anything else is an error rather than "no filter"."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        lowered = str(value).strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.", code="invalid")


class BooleanFilter(df.BooleanFilter):
    """`true` or `false`. A filter method taking it is typed ``value: bool`` (django-filter
    never calls it without a value): the schema reads the type from that hint."""

    field_class = StrictBooleanField


class SlugFilter(df.CharFilter):
    """One record named by its slug (or key); a slug that names nothing matches nothing, as a
    schema of free text promises (the filter methods look the record up by it)."""


@extend_schema_field(OpenApiTypes.INT)  # a whole number, whatever the model field's type
class IntegerFilter(df.NumberFilter):
    field_class = forms.IntegerField


class SlugsFilter(df.BaseInFilter, df.CharFilter):
    """A comma-separated list of slugs."""


EARLIEST = dt.datetime(2, 1, 1, tzinfo=dt.UTC)


class UTCDateTimeField(IsoDateTimeField):
    """An ISO 8601 date-time, converted to UTC (databases limit offsets and years)."""

    def to_python(self, value):
        value = super().to_python(value)
        if value is None:
            return None
        if timezone.is_naive(value):
            value = timezone.make_aware(value, dt.UTC)
        try:
            value = value.astimezone(dt.UTC)
        except OverflowError:
            raise forms.ValidationError("Date-time out of range.", code="invalid") from None
        # No record is older than year 2; an earlier bound (which some database time zone
        # conversions cannot take) selects the same rows as that one.
        return max(value, EARLIEST)


class UTCDateTimeFilter(df.IsoDateTimeFilter):
    field_class = UTCDateTimeField


def updated_since_filter() -> df.IsoDateTimeFilter:
    return UTCDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        label="Only records updated at or after this ISO 8601 date-time.",
    )


class FreshnessFilter(df.ChoiceFilter):
    def __init__(self, *, field_name: str, **kwargs):
        super().__init__(
            choices=[(level, level) for level in freshness.LEVELS],
            field_name=field_name,
            method=self.filter_level,
            **kwargs,
        )

    def filter_level(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(freshness.filter_q(self.field_name, value)) if value else queryset


def _published_ratings(**lookups) -> Exists:
    return Exists(
        Rating.objects.filter(
            assessment__provider=OuterRef("pk"),
            assessment__status=Assessment.Status.PUBLISHED,
            **lookups,
        )
    )


class ProviderFilter(df.FilterSet):
    kind = df.ChoiceFilter(choices=ProviderKind.choices)
    status = df.ChoiceFilter(choices=ProviderStatus.choices)
    country = df.CharFilter(
        field_name="headquarters_country",
        lookup_expr="iexact",
        label="ISO 3166-1 alpha-2 country of the headquarters.",
    )
    verdict = df.ChoiceFilter(
        choices=AssessmentVerdict.choices,
        method="filter_verdict",
        label="Verdict of the provider's published GDPR assessment.",
    )
    criterion = SlugFilter(
        method="filter_criterion",
        label="A GDPR criterion slug; with `rating`, the rating it must have.",
    )
    rating = df.ChoiceFilter(
        choices=RatingValue.choices,
        method="filter_criterion",
        label="Rating the `criterion` must have in the published assessment.",
    )
    claim_key = SlugFilter(
        method="filter_claim",
        label="Providers with a current claim under this key (with `claim_value`, that value).",
    )
    claim_value = df.ChoiceFilter(choices=ClaimFlag.choices, method="filter_claim")
    updated_since = updated_since_filter()

    class Meta:
        model = Provider
        fields = ["kind", "status"]

    def filter_verdict(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(
            assessments__status=Assessment.Status.PUBLISHED, assessments__verdict=value
        )

    def filter_criterion(self, queryset: QuerySet, name: str, value) -> QuerySet:
        # Both parameters feed one condition, applied once (from `criterion`, or from
        # `rating` alone when no criterion is given).
        criterion = self.form.cleaned_data.get("criterion")
        rating = self.form.cleaned_data.get("rating")
        if name == "rating" and criterion:
            return queryset
        lookups = {}
        if criterion:
            lookups["criterion__slug"] = criterion
        if rating:
            lookups["value"] = rating
        return queryset.filter(_published_ratings(**lookups))

    def filter_claim(self, queryset: QuerySet, name: str, value) -> QuerySet:
        key = self.form.cleaned_data.get("claim_key")
        flag = self.form.cleaned_data.get("claim_value")
        if name == "claim_value" and key:
            return queryset
        lookups: dict = {"provider": OuterRef("pk"), "status": ClaimStatus.CURRENT}
        if key:
            lookups["key__key"] = key
        if flag:
            lookups["value_flag"] = flag
        return queryset.filter(Exists(Claim.objects.filter(**lookups)))


class AIModelFilter(df.FilterSet):
    provider = SlugsFilter(field_name="provider__slug", label="Provider slugs, comma-separated.")
    provider_kind = df.ChoiceFilter(field_name="provider__kind", choices=ProviderKind.choices)
    weights = df.ChoiceFilter(choices=AIModelWeights.choices)
    open_weights = BooleanFilter(method="filter_open_weights", label="Weights are downloadable.")
    architecture = df.ChoiceFilter(choices=AIModelArchitecture.choices)
    licence = SlugsFilter(field_name="licence__slug", label="Licence slugs, comma-separated.")
    licence_kind = df.ChoiceFilter(field_name="licence__kind", choices=LicenceKind.choices)
    modality = df.CharFilter(
        field_name="modalities__slug", distinct=True, label="A modality slug, e.g. image."
    )
    family = df.CharFilter(lookup_expr="iexact")
    min_context_window = IntegerFilter(field_name="context_window", lookup_expr="gte")
    retired = BooleanFilter(method="filter_retired", label="Retirement date has passed.")
    claim_key = SlugFilter(
        method="filter_claim",
        label="Models with a current claim under this key (with `claim_value`, that value).",
    )
    claim_value = df.ChoiceFilter(choices=ClaimFlag.choices, method="filter_claim")
    claim_freshness = df.ChoiceFilter(
        choices=[(level, level) for level in freshness.LEVELS],
        method="filter_claim_freshness",
        label="Models with at least one current claim of this freshness.",
    )
    updated_since = updated_since_filter()

    class Meta:
        model = AIModel
        fields = ["weights", "architecture"]

    def filter_open_weights(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        if value:
            return queryset.filter(weights=AIModelWeights.OPEN)
        return queryset.exclude(weights=AIModelWeights.OPEN)

    def filter_retired(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        from django.utils import timezone

        retired = Q(retirement_date__lte=timezone.localdate())
        return queryset.filter(retired) if value else queryset.exclude(retired)

    def filter_claim(self, queryset: QuerySet, name: str, value) -> QuerySet:
        key = self.form.cleaned_data.get("claim_key")
        flag = self.form.cleaned_data.get("claim_value")
        if name == "claim_value" and key:
            return queryset
        lookups: dict = {"model": OuterRef("pk"), "status": ClaimStatus.CURRENT}
        if key:
            lookups["key__key"] = key
        if flag:
            lookups["value_flag"] = flag
        return queryset.filter(Exists(Claim.objects.filter(**lookups)))

    def filter_claim_freshness(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        claims = Claim.objects.filter(model=OuterRef("pk"), status=ClaimStatus.CURRENT)
        return queryset.filter(Exists(claims.filter(freshness.filter_q("checked_at", value))))


class LicenceFilter(df.FilterSet):
    kind = df.ChoiceFilter(choices=LicenceKind.choices)
    spdx_id = df.CharFilter(lookup_expr="iexact")
    commercial_use = df.ChoiceFilter(choices=Ternary.choices)
    self_hosting = df.ChoiceFilter(choices=Ternary.choices)
    fine_tuning = df.ChoiceFilter(choices=Ternary.choices)
    weight_redistribution = df.ChoiceFilter(choices=Ternary.choices)
    attribution_required = df.ChoiceFilter(choices=Ternary.choices)
    updated_since = updated_since_filter()

    class Meta:
        model = Licence
        fields = ["kind"]


class ClaimFilter(df.FilterSet):
    provider = df.CharFilter(
        method="filter_provider",
        label="Provider slug: claims about the provider and about its models.",
    )
    model = df.CharFilter(field_name="model__slug", label="Model slug.")
    subject = df.ChoiceFilter(
        choices=[("provider", "provider"), ("model", "model")],
        method="filter_subject",
        label="Only claims about providers, or only about models.",
    )
    key = SlugsFilter(field_name="key__key", label="Claim keys, comma-separated.")
    group = df.ChoiceFilter(field_name="key__group", choices=ClaimKeyGroup.choices)
    value = df.ChoiceFilter(field_name="value_flag", choices=ClaimFlag.choices)
    status = df.ChoiceFilter(choices=ClaimStatus.choices)
    surface = df.ChoiceFilter(field_name="scope_surface", choices=ClaimSurface.choices)
    region = df.CharFilter(field_name="scope_region", lookup_expr="iexact")
    freshness = FreshnessFilter(field_name="checked_at")
    source = df.CharFilter(field_name="source__slug", label="Source slug.")
    checked_before = df.DateFilter(field_name="checked_at", lookup_expr="lt")
    checked_since = df.DateFilter(field_name="checked_at", lookup_expr="gte")
    updated_since = UTCDateTimeFilter(
        method="filter_updated_since",
        label="Only claims updated, or verified (a crawler, probe or reviewer re-checked them), "
        "at or after this ISO 8601 date-time.",
    )

    class Meta:
        model = Claim
        fields = ["status"]

    def filter_updated_since(self, queryset: QuerySet, name: str, value: dt.datetime) -> QuerySet:
        # A verification does not touch its claim's row, yet it changes the claim's
        # representation (its history and, usually, its check date): a mirror must re-read it.
        verified = Verification.objects.filter(created_at__gte=value).values("claim_id")
        return queryset.filter(Q(updated_at__gte=value) | Q(pk__in=verified))

    def filter_provider(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(Q(provider__slug=value) | Q(model__provider__slug=value))

    def filter_subject(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        return queryset.filter(**{f"{value}__isnull": False})


class SourceFilter(df.FilterSet):
    provider = df.CharFilter(field_name="provider__slug", label="Provider slug.")
    doc_type = df.ChoiceFilter(choices=SourceDocType.choices)
    publisher = df.CharFilter(lookup_expr="iexact")
    language = df.CharFilter(lookup_expr="iexact")
    updated_since = updated_since_filter()

    class Meta:
        model = Source
        fields = ["doc_type"]


class PriceAtMostFilter(df.NumberFilter):
    """Prices at most a number: any number, as the schema promises. Prices are stored with
    ``PRICE_PLACES`` decimal places, so rounding the bound down to them (and into the column's
    range) selects exactly the same rows."""

    field_class = forms.DecimalField

    def get_max_validator(self):
        return None  # any bound: the filter clamps it

    def filter(self, qs: QuerySet, value: Decimal | None) -> QuerySet:
        if value is None:
            return qs
        bound = max(-PRICE_LIMIT, min(PRICE_LIMIT, value))
        return super().filter(qs, bound.quantize(PRICE_PLACES, rounding=ROUND_FLOOR))


class PriceFilter(df.FilterSet):
    model = df.CharFilter(field_name="model__slug", label="Model slug.")
    provider = df.CharFilter(field_name="model__provider__slug", label="Provider slug.")
    currency = df.CharFilter(lookup_expr="iexact")
    tier = df.CharFilter(lookup_expr="iexact")
    max_input_per_mtok = PriceAtMostFilter(field_name="input_per_mtok", lookup_expr="lte")
    max_output_per_mtok = PriceAtMostFilter(field_name="output_per_mtok", lookup_expr="lte")
    as_of_since = df.DateFilter(field_name="as_of", lookup_expr="gte")
    updated_since = updated_since_filter()

    class Meta:
        model = Price
        fields = ["currency"]


class ClaimKeyFilter(df.FilterSet):
    group = df.ChoiceFilter(choices=ClaimKeyGroup.choices)
    updated_since = updated_since_filter()

    class Meta:
        model = ClaimKey
        fields = ["group"]
