"""What the crawlers know about each source: settings, every check, and each distinct text.

``CrawlSettings`` holds how a ``catalog.Source`` is read (selectors, interval) and where
its schedule stands. ``Check`` is one attempt to read it, successful or not. ``Version``
is one distinct extracted text of the source (unique per source by content hash), with
the raw body that produced it kept compressed so it can be re-extracted.
"""

from __future__ import annotations

import zlib

from django.db import models
from django.db.models import Q

from catalog.models import Source, in_choices


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.splitlines() if line.strip()]


class CrawlSettings(models.Model):
    source = models.OneToOneField(Source, on_delete=models.CASCADE, related_name="crawl")
    enabled = models.BooleanField(default=True)
    keep_selectors = models.TextField(
        blank=True,
        help_text="CSS selectors of the parts that hold the document, one per line. "
        "Empty: the page's <main>, or its body when there is none.",
    )
    remove_selectors = models.TextField(
        blank=True,
        help_text="CSS selectors of parts to drop before reading the text, one per line.",
    )
    interval_hours = models.PositiveIntegerField(
        default=24, help_text="How often the source is re-read."
    )
    next_check_at = models.DateTimeField(null=True, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    current_version = models.ForeignKey(
        "Version", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    etag = models.CharField(max_length=300, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = "crawl settings"
        verbose_name_plural = "crawl settings"
        constraints = [
            models.CheckConstraint(
                condition=Q(interval_hours__gte=1), name="crawlsettings_interval_positive"
            ),
        ]
        indexes = [
            # The sweep: enabled sources whose next check is due, oldest first.
            models.Index(fields=["enabled", "next_check_at"], name="crawlsettings_due_idx"),
        ]

    def __str__(self) -> str:
        return f"Crawl settings for {self.source}"

    @property
    def keep_list(self) -> list[str]:
        return _lines(self.keep_selectors)

    @property
    def remove_list(self) -> list[str]:
        return _lines(self.remove_selectors)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from crawlers.extract import selector_errors

        errors = {}
        for field in ("keep_selectors", "remove_selectors"):
            problems = selector_errors(_lines(getattr(self, field)))
            if problems:
                errors[field] = "; ".join(problems)
        if errors:
            raise ValidationError(errors)


class CheckKind(models.TextChoices):
    FETCH = "fetch", "Fetch"
    REEXTRACT = "reextract", "Re-extraction after a selector change"


class CheckStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class CheckOutcome(models.TextChoices):
    PENDING = "", "Pending"
    FIRST = "first", "First version"
    UNCHANGED = "unchanged", "Text unchanged"
    NOT_MODIFIED = "not_modified", "Not modified (304)"
    CHANGED = "changed", "Text changed"
    REEXTRACTED = "reextracted", "Re-extracted (selectors changed)"
    FAILED = "failed", "Could not be read"


OPEN_STATUSES = (CheckStatus.QUEUED, CheckStatus.RUNNING)


class Check(models.Model):
    """One reading of a source: queued by a sweep, a curator or the command, then run once."""

    Kind = CheckKind
    Status = CheckStatus

    Outcome = CheckOutcome

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="crawl_checks")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.FETCH)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    outcome = models.CharField(max_length=15, choices=Outcome.choices, blank=True)
    reason = models.CharField(max_length=40, blank=True, help_text="Who or what asked for it.")
    queued_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    url = models.URLField(max_length=1000)
    final_url = models.URLField(max_length=1000, blank=True)
    redirects = models.JSONField(default=list, blank=True)
    http_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(null=True, blank=True)
    bytes_received = models.PositiveBigIntegerField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    error = models.TextField(blank=True)
    error_permanent = models.BooleanField(null=True, blank=True)
    version = models.ForeignKey(
        "Version",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="checks",
        help_text="The text this check read.",
    )
    previous_version = models.ForeignKey(
        "Version",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text="The source's current text before this check.",
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("kind", CheckKind), name="check_kind_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("status", CheckStatus), name="check_status_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("outcome", CheckOutcome), name="check_outcome_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=OPEN_STATUSES) | Q(finished_at__isnull=False),
                name="check_finished_has_time",
            ),
            # At most one open check per source, so a sweep that runs twice or overlaps
            # with a manual check cannot queue the same work twice.
            models.UniqueConstraint(
                fields=["source"],
                condition=Q(status__in=OPEN_STATUSES),
                name="check_one_open_per_source",
            ),
        ]
        indexes = [
            # A source's fetch history, newest first (source page, triage).
            models.Index(fields=["source", "-queued_at"], name="check_source_idx"),
            # The sweep's re-queue of checks whose worker died: open checks by age.
            models.Index(fields=["status", "queued_at"], name="check_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Check {self.pk} of source {self.source_id}: {self.status} {self.outcome}"

    @property
    def is_change(self) -> bool:
        return self.outcome in (CheckOutcome.CHANGED, CheckOutcome.REEXTRACTED)


class VersionCause(models.TextChoices):
    FIRST = "first", "First reading"
    PROVIDER_CHANGE = "provider_change", "The provider changed the text"
    REEXTRACTION = "reextraction", "Selectors were edited"
    OTA_IMPORT = "ota_import", "Imported from Open Terms Archive"
    LICENCE_IMPORT = "licence_import", "Imported from the licence's source repository"
    DATASET_IMPORT = "dataset_import", "Imported from a dataset"


# Texts Atlas did not read itself but took, dated, from a published record of them: they have
# no page body to re-extract, and their date is the record's, not the day of the import (a
# dataset that carries no date of its own, genai-prices, is dated the day Atlas first read it).
IMPORTED_CAUSES = (
    VersionCause.OTA_IMPORT,
    VersionCause.LICENCE_IMPORT,
    VersionCause.DATASET_IMPORT,
)


class Version(models.Model):
    """One distinct extracted text of a source; a text seen again reuses its version."""

    Cause = VersionCause

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="crawl_versions")
    number = models.PositiveIntegerField()
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the extracted text.")
    text = models.TextField()
    cause = models.CharField(max_length=20, choices=Cause.choices)
    created_at = models.DateTimeField()
    fetched_url = models.URLField(max_length=1000, blank=True)
    raw_body = models.BinaryField(help_text="The body that produced this text, zlib-compressed.")
    raw_size = models.PositiveBigIntegerField()
    raw_hash = models.CharField(
        max_length=64,
        blank=True,
        # A database default too, so workers still running the previous release can go on
        # inserting versions while this column is added.
        db_default="",
        help_text="SHA-256 of the raw body; a re-check that reads the same bytes with the same "
        "rules skips extraction. Empty for versions stored before it was kept.",
    )
    raw_content_type = models.CharField(max_length=100, blank=True)
    raw_encoding = models.CharField(max_length=40, blank=True)
    keep_selectors = models.TextField(blank=True)
    remove_selectors = models.TextField(blank=True)
    extractor_revision = models.PositiveSmallIntegerField()
    origin_commit = models.CharField(
        max_length=40,
        blank=True,
        db_default="",
        help_text="For an imported text, the commit of the repository it was taken from "
        "(an Open Terms Archive version, a licence's repository); empty for texts read by a check.",
    )

    class Meta:
        ordering = ["source", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "content_hash"], name="version_unique_text_per_source"
            ),
            models.UniqueConstraint(fields=["source", "number"], name="version_unique_number"),
            models.CheckConstraint(
                condition=in_choices("cause", VersionCause), name="version_cause_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} v{self.number}"

    @property
    def imported(self) -> bool:
        return self.cause in IMPORTED_CAUSES

    @property
    def raw(self) -> bytes:
        return zlib.decompress(bytes(self.raw_body))

    @staticmethod
    def compress(body: bytes) -> bytes:
        return zlib.compress(body, level=6)
