"""Query filters for the assessments API."""

from __future__ import annotations

import django_filters as df
from django.db.models import Exists, OuterRef, QuerySet

from assessments.models import (
    Assessment,
    AssessmentStatus,
    AssessmentVerdict,
    ClaimCorrection,
    CorrectionStatus,
    Criterion,
    Rating,
    RatingValue,
)
from catalog.filters import BooleanFilter, IntegerFilter, SlugFilter, updated_since_filter


class AssessmentFilter(df.FilterSet):
    provider = df.CharFilter(field_name="provider__slug", label="Provider slug.")
    status = df.ChoiceFilter(choices=AssessmentStatus.choices)
    verdict = df.ChoiceFilter(choices=AssessmentVerdict.choices)
    criterion = SlugFilter(
        method="filter_rating",
        label="A criterion slug; with `rating`, the rating it must have.",
    )
    rating = df.ChoiceFilter(choices=RatingValue.choices, method="filter_rating")
    mine = BooleanFilter(method="filter_mine", label="Only assessments you wrote.")
    updated_since = updated_since_filter()

    class Meta:
        model = Assessment
        fields = ["status", "verdict"]

    def filter_rating(self, queryset: QuerySet, name: str, value) -> QuerySet:
        criterion = self.form.cleaned_data.get("criterion")
        rating = self.form.cleaned_data.get("rating")
        if name == "rating" and criterion:
            return queryset
        lookups: dict = {"assessment": OuterRef("pk")}
        if criterion:
            lookups["criterion__slug"] = criterion
        if rating:
            lookups["value"] = rating
        return queryset.filter(Exists(Rating.objects.filter(**lookups)))

    def filter_mine(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        user = self.request.user if self.request else None
        if user is None or not user.is_authenticated:
            return queryset.none() if value else queryset
        return queryset.filter(author=user) if value else queryset.exclude(author=user)


class CriterionFilter(df.FilterSet):
    active = BooleanFilter()
    updated_since = updated_since_filter()

    class Meta:
        model = Criterion
        fields = ["active"]


class ClaimCorrectionFilter(df.FilterSet):
    status = df.ChoiceFilter(choices=CorrectionStatus.choices)
    claim = IntegerFilter(field_name="claim_id", label="Claim id.")
    updated_since = updated_since_filter()

    class Meta:
        model = ClaimCorrection
        fields = ["status"]
