"""The REST API's requirements check: the finder's selector, a page of results at a time."""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

from django.conf import settings
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from atlas.api.parsing import RejectUnknownFieldsMixin, StrictQueryMixin
from catalog.apis import LicenceRefSerializer, ModelRefSerializer, SourceRefSerializer
from catalog.models import Claim
from catalog.requirements.check import requirements_check_cached, requirements_results
from catalog.requirements.inputs import (
    FLAG,
    INPUTS,
    MAX_MODALITIES,
    PRICE,
    PRICE_DECIMAL_PLACES,
    PRICE_MAX_DIGITS,
    Input,
    Requirements,
    RequirementsError,
)
from catalog.requirements.rules import Outcome, Status

# The API pages the requirements check's results like its lists.
RESULTS_PAGE_SIZE: int = settings.API_PAGE_SIZE
RESULTS_MAX_PAGE_SIZE: int = settings.API_MAX_PAGE_SIZE


class BudgetField(serializers.DecimalField):
    """A price budget: any number from 0 below the column's range, as the schema says (a
    number, not a pattern-bound string). Prices are stored to ``PRICE_DECIMAL_PLACES``, so a
    budget rounded down to them selects exactly the same models."""

    def __init__(self, **kwargs) -> None:
        super().__init__(coerce_to_string=False, **kwargs)

    def validate_empty_values(self, data):
        if data == "":  # DRF reads "" as null; the schema says a number or null
            self.fail("invalid")
        return super().validate_empty_values(data)

    def validate_precision(self, value: Decimal) -> Decimal:
        if value.adjusted() < self.max_whole_digits:  # too large ones are refused as they are
            value = value.quantize(Decimal(1).scaleb(-self.decimal_places), rounding=ROUND_FLOOR)
        return super().validate_precision(value)


def _requirement_field(item: Input) -> serializers.Field:
    """The request field for one declared requirement."""
    if item.kind == FLAG:
        return serializers.BooleanField(required=False, default=False, help_text=item.help_text)
    if item.kind == PRICE:
        return BudgetField(
            max_digits=PRICE_MAX_DIGITS,
            decimal_places=PRICE_DECIMAL_PLACES,
            min_value=Decimal(0),
            required=False,
            allow_null=True,
            default=None,
            help_text=item.help_text,
        )
    # MODALITIES
    return serializers.ListField(
        child=serializers.SlugField(max_length=30),
        required=False,
        default=list,
        max_length=MAX_MODALITIES,
        help_text=item.help_text,
    )


# A field per declared requirement, then which outcomes and which page of the results to
# return. (No docstring: the schema would show it as the request's description.)
class RequirementsCheckSerializer(RejectUnknownFieldsMixin, serializers.Serializer):
    outcomes = serializers.ListField(
        child=serializers.ChoiceField(choices=Outcome.choices),
        required=False,
        default=list,
        max_length=3,
        help_text="Only return models with these outcomes (default: all).",
    )
    page = serializers.IntegerField(
        required=False,
        default=1,
        min_value=1,
        help_text="Which page of the results to return, from 1.",
    )
    page_size = serializers.IntegerField(
        required=False,
        default=RESULTS_PAGE_SIZE,
        min_value=1,
        max_value=RESULTS_MAX_PAGE_SIZE,
        help_text="Models per page.",
    )

    def get_fields(self) -> dict[str, serializers.Field]:
        return {item.name: _requirement_field(item) for item in INPUTS} | super().get_fields()


class FindingClaimSerializer(serializers.ModelSerializer):
    key = serializers.SlugRelatedField(slug_field="key", read_only=True)
    value = serializers.CharField(source="display_value", read_only=True)

    class Meta:
        model = Claim
        fields = ["id", "key", "value", "condition", "status", "checked_at", "updated_at"]


class FindingSerializer(serializers.Serializer):
    requirement = serializers.CharField()
    label = serializers.CharField()
    status = serializers.ChoiceField(choices=Status.choices)
    reason = serializers.CharField()
    condition = serializers.CharField(allow_blank=True)
    claim = FindingClaimSerializer(allow_null=True)
    licence = LicenceRefSerializer(allow_null=True)
    source = SourceRefSerializer(allow_null=True)
    source_url = serializers.CharField(allow_blank=True)
    checked_at = serializers.DateField(allow_null=True)
    quote = serializers.CharField(
        allow_blank=True,
        help_text="The licence's own words behind a verdict its terms decide; blank otherwise.",
    )


class ModelResultSerializer(serializers.Serializer):
    model = ModelRefSerializer()
    provider = serializers.SlugField(source="model.provider.slug")
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    findings = FindingSerializer(many=True)


class RequirementsResultSerializer(serializers.Serializer):
    requirements = serializers.ListField(child=serializers.CharField())
    counts = inline_serializer(
        "OutcomeCounts",
        fields={
            "qualifies": serializers.IntegerField(),
            "conditional": serializers.IntegerField(),
            "fails": serializers.IntegerField(),
        },
    )
    total = serializers.IntegerField(help_text="Models with the requested outcomes, on all pages.")
    page = serializers.IntegerField()
    page_size = serializers.IntegerField()
    pages = serializers.IntegerField()
    has_more = serializers.BooleanField(help_text="Whether a page follows this one.")
    count = serializers.IntegerField(help_text="As `total`, named as on the lists.")
    results = ModelResultSerializer(many=True)


@extend_schema(tags=["requirements"])
class RequirementsCheckView(StrictQueryMixin, APIView):
    """Which models meet a buyer's requirements, with the deciding claims and their sources.
    The same selector as the web finder."""

    permission_classes = [AllowAny]

    @extend_schema(
        request=RequirementsCheckSerializer,
        responses={200: RequirementsResultSerializer},
        summary="Check every model against requirements, a page of results at a time",
    )
    def post(self, request):
        serializer = RequirementsCheckSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        outcomes = set(data.pop("outcomes"))
        number, size = data.pop("page"), data.pop("page_size")
        try:
            requirements = Requirements.from_mapping(data)
        except RequirementsError as error:
            raise ValidationError({error.field: [error.message]}, code=error.code) from None
        # Every model is sorted; only the requested page is judged in full and returned.
        check = requirements_check_cached(requirements=requirements)
        ids = [
            pk
            for outcome in Outcome.values
            if not outcomes or outcome in outcomes
            for pk in check.ids[outcome]
        ]
        pages = max(1, -(-len(ids) // size))
        if number > pages:
            raise ValidationError(
                {"page": [f"There are {pages} page(s) of {len(ids)} result(s) at this page size."]},
                code="does_not_exist",  # a well-formed page number naming no page
            )
        start = (number - 1) * size
        body = {
            "requirements": requirements.requested(),
            "counts": check.counts,
            "total": len(ids),
            "page": number,
            "page_size": size,
            "pages": pages,
            "has_more": number < pages,
            "count": len(ids),
            "results": requirements_results(
                requirements=requirements, model_ids=ids[start : start + size]
            ),
        }
        return Response(RequirementsResultSerializer(body).data)
