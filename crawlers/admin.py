from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from crawlers import services
from crawlers.errors import CrawlerError
from crawlers.models import Check, CrawlSettings, Version


@admin.action(description="Check the selected sources now")
def check_now(modeladmin, request: HttpRequest, queryset: QuerySet[CrawlSettings]) -> None:
    queued = 0
    for crawl in queryset.select_related("source"):
        try:
            services.check_queue(source=crawl.source, reason=f"admin:{request.user.get_username()}")
        except CrawlerError as exc:
            modeladmin.message_user(request, str(exc), messages.WARNING)
            continue
        queued += 1
    modeladmin.message_user(
        request,
        f"{queued} check(s) queued; their results appear on each source's page.",
        messages.SUCCESS,
    )


@admin.register(CrawlSettings)
class CrawlSettingsAdmin(admin.ModelAdmin):
    list_display = (
        "source",
        "enabled",
        "interval_hours",
        "next_check_at",
        "last_checked_at",
        "consecutive_failures",
    )
    list_filter = ("enabled",)
    search_fields = ("source__title", "source__url", "source__publisher")
    readonly_fields = (
        "next_check_at",
        "last_checked_at",
        "consecutive_failures",
        "current_version",
        "etag",
        "last_modified",
    )
    raw_id_fields = ("source",)
    actions = [check_now]

    def save_model(self, request, obj: CrawlSettings, form, change: bool) -> None:
        if not change:
            super().save_model(request, obj, form, change)
            return
        # Through the service, so a selector edit is recorded as a re-extraction.
        try:
            services.crawl_settings_update(
                source=obj.source,
                keep_selectors=obj.keep_selectors,
                remove_selectors=obj.remove_selectors,
                interval_hours=obj.interval_hours,
                enabled=obj.enabled,
            )
        except ValidationError as exc:  # the form validated already; report, never lose it
            self.message_user(request, "; ".join(exc.messages), messages.ERROR)


@admin.register(Check)
class CheckAdmin(admin.ModelAdmin):
    list_display = ("source", "kind", "status", "outcome", "http_status", "queued_at", "attempts")
    list_filter = ("status", "outcome", "kind")
    search_fields = ("source__title", "url")
    date_hierarchy = "queued_at"
    list_select_related = ("source",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Version)
class VersionAdmin(admin.ModelAdmin):
    list_display = ("source", "number", "cause", "created_at", "raw_size")
    list_filter = ("cause",)
    search_fields = ("source__title",)
    exclude = ("raw_body",)
    list_select_related = ("source",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
