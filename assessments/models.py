"""GDPR assessments: criteria as rows, one assessment per provider and version.

An assessment rates every criterion (supported / partial / not supported /
unknown) with a justification and evidence, and carries an overall verdict.
At most one assessment per provider is published at a time; the ones it
replaced are kept as superseded.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from simple_history.models import HistoricalRecords

from catalog.models import Provider, Source, TimeStamped


def _in(field: str, choices: type[models.TextChoices]) -> Q:
    return Q(**{f"{field}__in": choices.values})


class Criterion(TimeStamped):
    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, help_text="What it means for a provider to meet it.")
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["position", "slug"]
        verbose_name_plural = "criteria"

    def __str__(self) -> str:
        return self.name


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Submitted for review"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"
    SUPERSEDED = "superseded", "Superseded"


class AssessmentVerdict(models.TextChoices):
    RECOMMENDED = "recommended", "Recommended"
    CONDITIONAL = "conditional", "Conditional"
    NOT_RECOMMENDED = "not_recommended", "Not recommended"
    UNRATED = "unrated", "Not yet rated"


class Assessment(TimeStamped):
    Status = AssessmentStatus

    Verdict = AssessmentVerdict

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="assessments")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    verdict = models.CharField(max_length=20, choices=Verdict.choices, default=Verdict.UNRATED)
    conclusion = models.TextField(blank=True)
    data_processing = models.TextField(blank=True, help_text="How the provider processes data.")
    positives = models.TextField(blank=True)
    negatives = models.TextField(blank=True)
    server_locations = models.TextField(blank=True)
    strengths = models.JSONField(default=list, blank=True)
    weaknesses = models.JSONField(default=list, blank=True)
    assessed_on = models.DateField(help_text="When the sources were read for this assessment.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assessments",
    )
    published_at = models.DateTimeField(null=True, blank=True)
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by"
    )
    # Bumped on every state change; writers compare it to refuse stale updates.
    revision = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["provider__name", "-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("status", AssessmentStatus), name="assessment_status_valid"
            ),
            models.CheckConstraint(
                condition=_in("verdict", AssessmentVerdict), name="assessment_verdict_valid"
            ),
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(status="published"),
                name="assessment_one_published_per_provider",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} · {self.get_verdict_display()} ({self.get_status_display()})"


class RatingValue(models.TextChoices):
    SUPPORTED = "supported", "Supported"
    PARTIAL = "partial", "Partial"
    NOT_SUPPORTED = "not_supported", "Not supported"
    UNKNOWN = "unknown", "Unknown"


class Rating(TimeStamped):
    Value = RatingValue

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="ratings")
    criterion = models.ForeignKey(Criterion, on_delete=models.PROTECT, related_name="ratings")
    value = models.CharField(max_length=20, choices=Value.choices, default=Value.UNKNOWN)
    justification = models.TextField(blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "criterion__position"]
        constraints = [
            models.CheckConstraint(condition=_in("value", RatingValue), name="rating_value_valid"),
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="rating_unique_per_criterion"
            ),
        ]
        indexes = [
            # Facets and the API filter published ratings by criterion and value.
            models.Index(fields=["criterion", "value"], name="rating_criterion_value_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.criterion}: {self.get_value_display()}"


class RatingEvidence(TimeStamped):
    """A source behind a rating: which document, the words relied on, when it was read."""

    rating = models.ForeignKey(Rating, on_delete=models.CASCADE, related_name="evidence")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="rating_evidence")
    quote = models.TextField(blank=True)
    read_on = models.DateField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["rating", "id"]
        verbose_name_plural = "rating evidence"
        constraints = [
            models.UniqueConstraint(fields=["rating", "source"], name="evidence_unique_source"),
        ]

    def __str__(self) -> str:
        return f"{self.rating} ← {self.source}"


class AssessmentSource(models.Model):
    """Sources consulted for the assessment as a whole (its reading list)."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="sources")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="assessments")
    read_on = models.DateField()

    class Meta:
        ordering = ["assessment", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "source"], name="assessment_source_unique"
            ),
        ]

    def __str__(self) -> str:
        return str(self.source)


class CorrectionStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClaimCorrection(TimeStamped):
    """A reviewer's proposed change to a claim, with the reason, awaiting a curator.

    Proposed fields left empty (NULL) keep the claim's current value; a proposed
    value replaces the claim's value whole (flag, number or text).
    """

    Status = CorrectionStatus

    claim = models.ForeignKey("catalog.Claim", on_delete=models.PROTECT, related_name="corrections")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claim_corrections"
    )
    value_flag = models.CharField(max_length=10, blank=True)
    value_number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    value_unit = models.CharField(max_length=30, blank=True)
    value_text = models.CharField(max_length=300, blank=True)
    # NULL means "keep the claim's value"; an empty string means "remove it".
    condition = models.TextField(null=True, blank=True)  # noqa: DJ001
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, blank=True, related_name="corrections"
    )
    evidence_quote = models.TextField(null=True, blank=True)  # noqa: DJ001
    reason = models.TextField(help_text="Why the claim is wrong, in words.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_claim_corrections",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=_in("status", CorrectionStatus), name="correction_status_valid"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="correction_reason_required"),
            models.CheckConstraint(
                condition=(Q(value_flag="") & Q(value_number__isnull=True) & Q(value_text=""))
                | (~Q(value_flag="") & Q(value_number__isnull=True) & Q(value_text=""))
                | (Q(value_flag="") & Q(value_number__isnull=False) & Q(value_text=""))
                | (Q(value_flag="") & Q(value_number__isnull=True) & ~Q(value_text="")),
                name="correction_at_most_one_value",
            ),
            models.CheckConstraint(
                condition=(Q(status="pending") & Q(decided_at__isnull=True))
                | (~Q(status="pending") & Q(decided_at__isnull=False)),
                name="correction_decided_when_not_pending",
            ),
        ]
        indexes = [
            # A curator's queue of pending corrections, oldest first.
            models.Index(fields=["status", "created_at"], name="correction_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Correction of claim {self.claim_id} ({self.get_status_display()})"
