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
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from simple_history.models import HistoricalRecords

from catalog.models import Provider, Source, TimeStamped, in_choices


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
    claims_moved = models.JSONField(
        default=dict,
        blank=True,
        editable=False,
        help_text="What approving it changed on claims: claim id → the check date before, the "
        "date set and the verification recorded. A revert puts those dates back.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["provider__name", "-assessed_on", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("status", AssessmentStatus), name="assessment_status_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("verdict", AssessmentVerdict), name="assessment_verdict_valid"
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
            models.CheckConstraint(
                condition=in_choices("value", RatingValue), name="rating_value_valid"
            ),
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
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class ClaimCorrection(TimeStamped):
    """A reviewer's proposed change to a claim, with the reason, awaiting a curator.

    Proposed fields left empty (NULL) keep the claim's current value; a proposed
    value replaces the claim's value whole (flag, number or text). A proposal is submitted
    (pending) when made; a curator approves it, rejects it or sends it back to its author
    (changes requested), who amends it and submits it again.
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
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decided_claim_corrections",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every state change; writers compare it to refuse stale updates.
    revision = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("status", CorrectionStatus), name="correction_status_valid"
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
                condition=(
                    Q(status__in=["pending", "changes_requested"]) & Q(decided_at__isnull=True)
                )
                | (Q(status__in=["approved", "rejected"]) & Q(decided_at__isnull=False)),
                name="correction_decided_when_not_pending",
            ),
        ]
        indexes = [
            # A curator's queue of pending corrections, oldest first.
            models.Index(fields=["status", "created_at"], name="correction_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Correction of claim {self.claim_id} ({self.get_status_display()})"


# --- Moderation and public reviews ---------------------------------------------------------


class ModerationAction(models.TextChoices):
    SUBMIT = "submit", "Submitted"
    COMMENT = "comment", "Commented"
    REQUEST_CHANGES = "request_changes", "Requested changes"
    REJECT = "reject", "Rejected"
    APPROVE = "approve", "Approved"
    REVERT = "revert", "Reverted"
    HIDE = "hide", "Hid"
    RESTORE = "restore", "Restored"


class ModerationNote(models.Model):
    """One step of moderation on an assessment, a claim correction or a public review: who
    did what, when, and the words they gave for it. The thread a reviewer and curators see."""

    Action = ModerationAction

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    correction = models.ForeignKey(
        ClaimCorrection, on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    review = models.ForeignKey(
        "Review", on_delete=models.CASCADE, null=True, blank=True, related_name="notes"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="moderation_notes"
    )
    action = models.CharField(max_length=20, choices=Action.choices)
    text = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("action", ModerationAction), name="note_action_valid"
            ),
            models.CheckConstraint(
                condition=(
                    Q(assessment__isnull=False, correction__isnull=True, review__isnull=True)
                    | Q(assessment__isnull=True, correction__isnull=False, review__isnull=True)
                    | Q(assessment__isnull=True, correction__isnull=True, review__isnull=False)
                ),
                name="note_exactly_one_subject",
            ),
            # Refusals and comments carry words; a silent approval or submission is allowed.
            models.CheckConstraint(
                condition=~Q(action__in=["comment", "request_changes", "reject", "revert"])
                | ~Q(text=""),
                name="note_text_when_required",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_action_display()} by {self.author_id}"


class ReviewStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Waiting for e-mail confirmation"
    PUBLISHED = "published", "Published"
    HIDDEN = "hidden", "Hidden by a curator"


REVIEW_BODY_MAX = 4000


class Review(models.Model):
    """A member of the public's rating and review of a provider. Shown only once the e-mail
    address was confirmed and while no curator has hidden it; the address is never shown."""

    Status = ReviewStatus

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField(help_text="1 (poor) to 5 (excellent).")
    title = models.CharField(max_length=120)
    body = models.TextField(max_length=REVIEW_BODY_MAX)
    author_name = models.CharField(max_length=80)
    email = models.EmailField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.UNCONFIRMED)
    created_at = models.DateTimeField(auto_now_add=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Kept only to rate-limit posting from one address; never shown.
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["email", "client_ip"])

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("status", ReviewStatus), name="review_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("body"), REVIEW_BODY_MAX),
                name="review_body_max_length",
            ),
            models.CheckConstraint(
                condition=Q(status="unconfirmed") | Q(confirmed_at__isnull=False),
                name="review_confirmed_when_shown",
            ),
        ]
        indexes = [
            # The provider's reviews page lists published reviews, newest first.
            models.Index(fields=["provider", "status", "-created_at"], name="review_provider_idx"),
            # Rate limits count recent reviews per e-mail address and per client address.
            models.Index(fields=["email", "created_at"], name="review_email_idx"),
            models.Index(fields=["client_ip", "created_at"], name="review_ip_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.rating}/5)"


class ReviewReport(models.Model):
    """Someone's report that a review breaks the rules; open until a curator decides."""

    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reason = models.TextField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="report_reason_required"),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True, resolved_by__isnull=True)
                | Q(resolved_at__isnull=False, resolved_by__isnull=False),
                name="report_resolved_by_someone",
            ),
        ]
        indexes = [
            # The curators' queue of open reports, oldest first.
            models.Index(fields=["resolved_at", "created_at"], name="report_open_idx"),
        ]

    def __str__(self) -> str:
        return f"Report on review {self.review_id}"
