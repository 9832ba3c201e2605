"""Admin of criteria, assessments, ratings, corrections, public reviews and the moderation
thread, and the user admin's actions that appoint curators and disable accounts (through
``services.roles``)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from simple_history.admin import SimpleHistoryAdmin

from assessments.models import (
    Assessment,
    AssessmentSource,
    ClaimCorrection,
    Criterion,
    ModerationNote,
    Rating,
    RatingEvidence,
    Review,
    ReviewReport,
)
from assessments.services.moderation import AssessmentError
from assessments.services.roles import user_disable, user_role_set


class RatingInline(admin.TabularInline):
    model = Rating
    extra = 0
    fields = ("criterion", "value", "justification")
    show_change_link = True


class AssessmentSourceInline(admin.TabularInline):
    model = AssessmentSource
    extra = 0
    autocomplete_fields = ("source",)


class RatingEvidenceInline(admin.TabularInline):
    model = RatingEvidence
    extra = 0
    autocomplete_fields = ("source",)


@admin.register(Criterion)
class CriterionAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "position", "active")
    list_filter = ("active",)
    search_fields = ("name", "slug")


@admin.register(Assessment)
class AssessmentAdmin(SimpleHistoryAdmin):
    list_display = ("provider", "verdict", "status", "assessed_on", "author", "published_at")
    list_filter = ("status", "verdict", "provider")
    search_fields = ("provider__name", "conclusion")
    list_select_related = ("provider", "author")
    autocomplete_fields = ("provider",)
    raw_id_fields = ("author", "supersedes")
    inlines = (RatingInline, AssessmentSourceInline)


@admin.register(Rating)
class RatingAdmin(SimpleHistoryAdmin):
    list_display = ("assessment", "criterion", "value")
    list_filter = ("value", "criterion", "assessment__provider")
    search_fields = ("justification", "assessment__provider__name")
    list_select_related = ("assessment__provider", "criterion")
    inlines = (RatingEvidenceInline,)


# --- Reviews and moderation ---------------------------------------------------------------


class ReviewReportInline(admin.TabularInline):
    model = ReviewReport
    extra = 0
    fields = ("created_at", "reason", "resolved_at", "resolved_by")
    readonly_fields = fields
    can_delete = False


@admin.register(Review)
class ReviewAdmin(SimpleHistoryAdmin):
    list_display = ("title", "provider", "rating", "status", "created_at", "confirmed_at")
    list_filter = ("status", "provider")
    search_fields = ("title", "body", "author_name")
    list_select_related = ("provider",)
    readonly_fields = ("created_at", "confirmed_at", "client_ip")
    inlines = (ReviewReportInline,)


@admin.register(ModerationNote)
class ModerationNoteAdmin(admin.ModelAdmin):
    list_display = ("created_at", "author", "action", "assessment", "correction", "review")
    list_filter = ("action",)
    list_select_related = ("author", "assessment__provider", "correction", "review")
    search_fields = ("text", "author__username")

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ClaimCorrection)
class ClaimCorrectionAdmin(SimpleHistoryAdmin):
    list_display = ("claim", "author", "status", "created_at", "decided_by")
    list_filter = ("status",)
    list_select_related = ("claim__key", "author", "decided_by")
    raw_id_fields = ("claim", "source", "author", "decided_by")


User = get_user_model()


def _run(modeladmin, request, queryset, action, done: str) -> None:
    count = 0
    for user in queryset:
        try:
            action(user)
            count += 1
        except AssessmentError as exc:
            modeladmin.message_user(request, f"{user}: {exc.message}", messages.ERROR)
    if count:
        modeladmin.message_user(request, f"{done}: {count} account(s).", messages.SUCCESS)


@admin.action(description="Appoint as curator")
def appoint_curator(modeladmin, request, queryset):
    _run(
        modeladmin,
        request,
        queryset,
        lambda u: user_role_set(user=u, role="curator", granted=True, actor=request.user),
        "Appointed as curators",
    )


@admin.action(description="Remove the curator role")
def remove_curator(modeladmin, request, queryset):
    _run(
        modeladmin,
        request,
        queryset,
        lambda u: user_role_set(user=u, role="curator", granted=False, actor=request.user),
        "Curator role removed",
    )


@admin.action(description="Disable, end their sessions and revoke their API tokens")
def disable_accounts(modeladmin, request, queryset):
    _run(
        modeladmin,
        request,
        queryset,
        lambda u: user_disable(user=u, actor=request.user),
        "Disabled, sessions ended, API tokens revoked",
    )


if admin.site.is_registered(User):
    admin.site.unregister(User)


@admin.register(User)
class AtlasUserAdmin(UserAdmin):
    actions = (appoint_curator, remove_curator, disable_accounts)

    def save_model(self, request, obj, form, change):
        """Unticking "Active" disables the account through ``user_disable``, as the action
        does (its sessions end and its API tokens are revoked); when that is refused (not an
        admin, or one's own account) the account stays active and the admin is told why."""
        disabling = change and "is_active" in form.changed_data and not obj.is_active
        if disabling:
            obj.is_active = True
        super().save_model(request, obj, form, change)
        if disabling:
            try:
                user_disable(user=obj, actor=request.user)
            except AssessmentError as exc:
                self.message_user(request, f"{obj} stays active: {exc.message}", messages.ERROR)
