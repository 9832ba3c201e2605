from __future__ import annotations

from django.contrib import admin

from inference.admin_actions import test_claims_now
from inference.models import ClaimToTest, Endpoint, JudgeJob, JudgeVerdict, ProbeRun
from inference.probes import PROBES


@admin.register(Endpoint)
class EndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "base_url", "provider", "active", "max_requests", "max_tokens"]
    list_filter = ["kind", "active"]
    search_fields = ["name", "base_url", "default_model"]
    filter_horizontal = ["served_models"]
    fieldsets = [
        (None, {"fields": ["name", "kind", "base_url", "active"]}),
        ("What it serves", {"fields": ["provider", "served_models", "default_model"]}),
        ("Key", {"fields": ["api_key_env"]}),
        (
            "Budget per run",
            {
                "fields": [
                    "timeout_seconds",
                    "max_requests",
                    "max_tokens",
                    "max_spend",
                    "price_input_per_mtok",
                    "price_output_per_mtok",
                    "price_currency",
                    "allow_costly_probes",
                ]
            },
        ),
    ]


@admin.register(ProbeRun)
class ProbeRunAdmin(admin.ModelAdmin):
    list_display = [
        "id", "endpoint", "trigger", "status", "requests_used", "tokens_used", "spend_used",
        "started_at",
    ]  # fmt: skip
    list_filter = ["status", "trigger", "endpoint"]
    readonly_fields = [f.name for f in ProbeRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(JudgeVerdict)
class JudgeVerdictAdmin(admin.ModelAdmin):
    list_display = ["judge_model", "endpoint", "verdict", "prompt_version", "created_at"]
    list_filter = ["verdict", "judge_model", "endpoint"]
    readonly_fields = [f.name for f in JudgeVerdict._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(JudgeJob)
class JudgeJobAdmin(admin.ModelAdmin):
    """The scheduled judgements, so a skipped one's reason can be read."""

    list_display = ["id", "claim_id", "version", "status", "message", "queued_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["version__source"]
    readonly_fields = [f.name for f in JudgeJob._meta.fields]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("version__text", "version__raw_body")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClaimToTest)
class ClaimToTestAdmin(admin.ModelAdmin):
    list_display = ["id", "subject", "key", "display_value", "status", "checked_at"]
    list_filter = ["key", "status"]
    list_select_related = ["key", "provider", "model"]
    actions = [test_claims_now]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(key__key__in=list(PROBES))

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
