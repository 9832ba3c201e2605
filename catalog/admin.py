from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKey,
    Comparison,
    Licence,
    LicenceTerm,
    Modality,
    Price,
    Provider,
    Source,
    Verification,
)
from inference.admin_actions import test_claims_now


class ClaimInline(admin.TabularInline):
    model = Claim
    extra = 0
    fields = (
        "key",
        "value_flag",
        "value_number",
        "value_unit",
        "value_text",
        "condition",
        "scope_surface",
        "source",
        "checked_at",
        "status",
    )
    autocomplete_fields = ("key", "source")
    show_change_link = True


class ProviderClaimInline(ClaimInline):
    fk_name = "provider"


class ModelClaimInline(ClaimInline):
    fk_name = "model"


class FAQInline(admin.StackedInline):
    model = FAQ
    extra = 0
    autocomplete_fields = ("source",)


class PriceInline(admin.TabularInline):
    model = Price
    extra = 0
    autocomplete_fields = ("source",)


class VerificationInline(admin.TabularInline):
    model = Verification
    extra = 0
    fields = ("checked_at", "method", "outcome", "match_score", "note", "actor")
    readonly_fields = fields
    can_delete = False
    ordering = ("-checked_at",)

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Provider)
class ProviderAdmin(SimpleHistoryAdmin):
    list_display = ("name", "slug", "kind", "status", "headquarters_country", "updated_at")
    list_filter = ("kind", "status", "headquarters_country")
    search_fields = ("name", "slug", "summary")
    prepopulated_fields = {"slug": ("name",)}
    inlines = (ProviderClaimInline, FAQInline)


class LicenceTermInline(admin.StackedInline):
    model = LicenceTerm
    extra = 0
    fields = (("key", "value", "number"), "quote", "note", ("source", "read_on"))
    autocomplete_fields = ("source",)


@admin.register(Licence)
class LicenceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "spdx_id", "kind", "commercial_use", "self_hosting", "fine_tuning")
    list_filter = ("kind", "commercial_use", "self_hosting", "fine_tuning", "weight_redistribution")
    search_fields = ("name", "slug", "spdx_id")
    inlines = (LicenceTermInline,)


@admin.register(Modality)
class ModalityAdmin(admin.ModelAdmin):
    list_display = ("slug", "name")
    search_fields = ("slug", "name")


@admin.register(AIModel)
class AIModelAdmin(SimpleHistoryAdmin):
    list_display = ("name", "provider", "weights", "licence", "context_window", "release_date")
    list_filter = ("provider", "weights", "licence__kind", "architecture", "modalities")
    search_fields = ("name", "slug", "family", "provider__name")
    list_select_related = ("provider", "licence")
    autocomplete_fields = ("provider", "licence", "successor")
    filter_horizontal = ("modalities",)
    inlines = (ModelClaimInline, PriceInline)


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
    list_display = ("title", "publisher", "doc_type", "provider", "url", "listed")
    list_filter = ("listed", "doc_type", "provider", "language")
    search_fields = ("title", "publisher", "url", "slug")
    list_select_related = ("provider",)


@admin.register(ClaimKey)
class ClaimKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "label", "group", "value_type", "unit")
    list_filter = ("group", "value_type")
    search_fields = ("key", "label")


@admin.register(Claim)
class ClaimAdmin(SimpleHistoryAdmin):
    list_display = ("__str__", "status", "checked_at", "source")
    list_filter = ("status", "key__group", "key", "scope_surface", "provider", "checked_at")
    search_fields = ("key__key", "evidence_quote", "condition", "provider__name", "model__name")
    list_select_related = ("key", "provider", "model", "source")
    autocomplete_fields = ("provider", "model", "key", "source")
    date_hierarchy = "checked_at"
    inlines = (VerificationInline,)
    actions = (test_claims_now,)


@admin.register(Verification)
class VerificationAdmin(admin.ModelAdmin):
    list_display = ("claim", "checked_at", "method", "outcome", "match_score")
    list_filter = ("method", "outcome")
    search_fields = ("claim__key__key", "note")
    list_select_related = ("claim__key", "claim__provider", "claim__model")
    raw_id_fields = ("claim",)


@admin.register(Price)
class PriceAdmin(SimpleHistoryAdmin):
    list_display = ("model", "input_per_mtok", "output_per_mtok", "currency", "tier", "as_of")
    list_filter = ("currency", "model__provider")
    search_fields = ("model__name",)
    list_select_related = ("model",)
    autocomplete_fields = ("model", "source")


@admin.register(FAQ)
class FAQAdmin(SimpleHistoryAdmin):
    list_display = ("question", "provider", "position")
    list_filter = ("provider",)
    search_fields = ("question", "answer")


@admin.register(Comparison)
class ComparisonAdmin(admin.ModelAdmin):
    list_display = ("title", "slug")
    search_fields = ("title", "slug")
    filter_horizontal = ("providers",)
