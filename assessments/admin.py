from __future__ import annotations

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from assessments.models import Assessment, AssessmentSource, Criterion, Rating, RatingEvidence


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
