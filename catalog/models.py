"""The catalogue: providers, licences, models, sources, claims and their checks.

Every fact that a user may act on is a ``Claim`` with a source, an evidence
quote and a check date; freshness is derived from ``checked_at`` (see
``catalog.freshness``), never stored. Enumerations and invariants are enforced
by the database as well as by ``full_clean()``; the closed sets of values are in
``catalog.choices``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from simple_history.models import HistoricalRecords

from catalog import freshness
from catalog.choices import (
    AIModelArchitecture,
    AIModelWeights,
    ClaimFlag,
    ClaimKeyGroup,
    ClaimKeyValueType,
    ClaimStatus,
    ClaimSurface,
    LicenceKind,
    LicenceTermKey,
    ProviderKind,
    ProviderStatus,
    SourceDocType,
    Ternary,
    VerificationMethod,
    VerificationOutcome,
)


def in_choices(field: str, choices: type[models.TextChoices]) -> Q:
    """A check-constraint condition: ``field`` holds one of ``choices``' values."""
    return Q(**{f"{field}__in": choices.values})


class TimeStamped(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    # Indexed: the API's `?updated_since=` and the changes feed filter on it.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class Provider(TimeStamped):
    Kind = ProviderKind
    Status = ProviderStatus

    slug = models.SlugField(max_length=80, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    headquarters_country = models.CharField(
        max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 code, e.g. FR."
    )
    headquarters_address = models.CharField(max_length=300, blank=True)
    founded_year = models.PositiveSmallIntegerField(null=True, blank=True)
    website = models.URLField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    analysis = models.TextField(blank=True, help_text="Practical guidance; Markdown-free prose.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("kind", ProviderKind), name="provider_kind_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("status", ProviderStatus), name="provider_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.name


# What a licence lets you do in the terms that matter for AI, each yes / no / unknown.
LICENCE_TERMS = (
    "commercial_use", "self_hosting", "fine_tuning", "weight_redistribution",
    "attribution_required",
)  # fmt: skip


class Licence(TimeStamped):
    Kind = LicenceKind

    # The choosealicense.com vocabulary, so a licence reads the same here as there.
    PERMISSIONS = ("commercial-use", "modifications", "distribution", "private-use", "patent-use")
    CONDITIONS = (
        "include-copyright", "include-copyright--source", "document-changes", "disclose-source",
        "network-use-disclose", "same-license", "same-license--file", "same-license--library",
    )  # fmt: skip
    LIMITATIONS = ("trademark-use", "liability", "patent-use", "warranty")

    slug = models.SlugField(max_length=80, unique=True)
    spdx_id = models.CharField(max_length=64, blank=True, help_text="Blank when SPDX has no id.")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=30, choices=Kind.choices)
    url = models.URLField(max_length=500, blank=True, help_text="Where the licence text is.")
    summary = models.TextField(blank=True)
    permissions = models.JSONField(default=list, blank=True)
    conditions = models.JSONField(default=list, blank=True)
    limitations = models.JSONField(default=list, blank=True)
    commercial_use = models.CharField(max_length=12, choices=Ternary.choices)
    self_hosting = models.CharField(max_length=12, choices=Ternary.choices)
    fine_tuning = models.CharField(max_length=12, choices=Ternary.choices)
    weight_redistribution = models.CharField(max_length=12, choices=Ternary.choices)
    attribution_required = models.CharField(max_length=12, choices=Ternary.choices)
    output_restrictions = models.TextField(
        blank=True, help_text="Restrictions on what outputs may be used for."
    )
    user_threshold = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        help_text="Monthly active users above which the licence needs a separate agreement.",
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("kind", LicenceKind), name="licence_kind_valid"
            ),
            models.UniqueConstraint(
                fields=["spdx_id"], condition=~Q(spdx_id=""), name="licence_spdx_unique"
            ),
            *[
                models.CheckConstraint(condition=in_choices(f, Ternary), name=f"licence_{f}_valid")
                for f in LICENCE_TERMS
            ],
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def production_use(self) -> bool:
        return self.kind != self.Kind.RESEARCH_ONLY

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        for field, vocabulary in (
            ("permissions", self.PERMISSIONS),
            ("conditions", self.CONDITIONS),
            ("limitations", self.LIMITATIONS),
        ):
            value = getattr(self, field)
            if not isinstance(value, list):
                errors[field] = "must be a list"
                continue
            unknown = [item for item in value if item not in vocabulary]
            if unknown:
                errors[field] = f"unknown terms {unknown}; use {list(vocabulary)}"
        if errors:
            raise ValidationError(errors)


class Modality(models.Model):
    slug = models.SlugField(max_length=30, unique=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["slug"]
        verbose_name_plural = "modalities"

    def __str__(self) -> str:
        return self.name


class AIModel(TimeStamped):
    Weights = AIModelWeights
    Architecture = AIModelArchitecture

    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="models")
    slug = models.SlugField(max_length=100, unique=True)
    name = models.CharField(max_length=200)
    family = models.CharField(max_length=100, blank=True)
    description = models.TextField(blank=True)
    weights = models.CharField(max_length=10, choices=Weights.choices, default=Weights.UNKNOWN)
    licence = models.ForeignKey(
        Licence, on_delete=models.PROTECT, null=True, blank=True, related_name="models"
    )
    architecture = models.CharField(
        max_length=10, choices=Architecture.choices, default=Architecture.UNKNOWN
    )
    total_params_b = models.DecimalField(
        "total parameters (billions)", max_digits=8, decimal_places=2, null=True, blank=True
    )
    active_params_b = models.DecimalField(
        "active parameters (billions)", max_digits=8, decimal_places=2, null=True, blank=True
    )
    context_window = models.PositiveIntegerField("context window (tokens)", null=True, blank=True)
    modalities = models.ManyToManyField(Modality, blank=True, related_name="models")
    api_ids = models.JSONField("API identifiers", default=list, blank=True)
    release_date = models.DateField(null=True, blank=True)
    deprecation_date = models.DateField(null=True, blank=True)
    retirement_date = models.DateField(null=True, blank=True)
    successor = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="predecessors"
    )
    history = HistoricalRecords(m2m_fields=[modalities])

    class Meta:
        ordering = ["provider__name", "name"]
        verbose_name = "AI model"
        constraints = [
            models.CheckConstraint(
                condition=in_choices("weights", AIModelWeights), name="model_weights_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("architecture", AIModelArchitecture),
                name="model_architecture_valid",
            ),
            models.CheckConstraint(
                condition=Q(total_params_b__isnull=True) | Q(total_params_b__gt=0),
                name="model_total_params_positive",
            ),
            models.CheckConstraint(
                condition=Q(active_params_b__isnull=True)
                | Q(total_params_b__isnull=True)
                | Q(active_params_b__lte=models.F("total_params_b")),
                name="model_active_params_within_total",
            ),
            models.CheckConstraint(
                condition=Q(context_window__isnull=True) | Q(context_window__gt=0),
                name="model_context_window_positive",
            ),
            models.CheckConstraint(
                condition=Q(retirement_date__isnull=True)
                | Q(release_date__isnull=True)
                | Q(retirement_date__gte=models.F("release_date")),
                name="model_retired_after_release",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_retired(self) -> bool:
        from django.utils import timezone

        return self.retirement_date is not None and self.retirement_date <= timezone.localdate()

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if not isinstance(self.api_ids, list) or not all(isinstance(i, str) for i in self.api_ids):
            raise ValidationError({"api_ids": "must be a list of strings"})
        if self.successor_id is not None and self.successor_id == self.pk:
            raise ValidationError({"successor": "a model cannot succeed itself"})


class SourceQuerySet(models.QuerySet):
    def listed(self) -> SourceQuerySet:
        """What the public sees and the crawler reads: no source only unapproved drafts cite."""
        return self.filter(listed=True)


class Source(TimeStamped):
    DocType = SourceDocType

    slug = models.SlugField(max_length=120, unique=True, help_text="Stable handle for links.")
    url = models.URLField(
        max_length=1000,
        blank=True,
        help_text="Blank only for documents with no public address (then nothing can re-fetch it).",
    )
    title = models.CharField(max_length=300)
    publisher = models.CharField(max_length=200)
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="sources",
        help_text="The provider this document is about, when there is one.",
    )
    doc_type = models.CharField(max_length=20, choices=DocType.choices)
    language = models.CharField(max_length=10, default="en")
    listed = models.BooleanField(
        default=True,
        help_text="Public and crawled; off until a curator approves a draft citing it.",
    )
    history = HistoricalRecords()
    objects = SourceQuerySet.as_manager()

    class Meta:
        ordering = ["publisher", "title"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("doc_type", SourceDocType), name="source_doc_type_valid"
            ),
            models.UniqueConstraint(fields=["url"], condition=~Q(url=""), name="source_url_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.publisher})"


class LicenceTerm(TimeStamped):
    """One obligation of a licence that matters for AI, in the licence's own words: what Atlas
    reads it to say (``value``, and ``number`` for a threshold), the exact ``quote`` and the
    ``source`` (the licence text) it is quoted from, read on ``read_on``."""

    Key = LicenceTermKey

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="terms")
    key = models.CharField(max_length=30, choices=Key.choices)
    value = models.CharField(
        max_length=12,
        choices=Ternary.choices,
        help_text="Whether the licence permits (or, for an obligation, imposes) it.",
    )
    number = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="The figure a threshold names, e.g. monthly active users."
    )
    note = models.TextField(blank=True, help_text="What the term means in practice, in our words.")
    quote = models.TextField(blank=True, help_text="The licence's exact words.")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="licence_terms")
    read_on = models.DateField(help_text="The date of the text the quote was read in.")
    history = HistoricalRecords()

    class Meta:
        ordering = ["licence_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["licence", "key"], name="licence_term_unique"),
            models.CheckConstraint(
                condition=in_choices("key", LicenceTermKey), name="licence_term_key_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("value", Ternary), name="licence_term_value_valid"
            ),
            # A term is stated in the licence's words; only an unknown one has none.
            models.CheckConstraint(
                condition=~Q(quote="") | Q(value=Ternary.UNKNOWN),
                name="licence_term_quoted",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.licence}: {self.get_key_display()}"


class ClaimKey(TimeStamped):
    """The controlled vocabulary of claim keys; a table so curators can add keys."""

    Group = ClaimKeyGroup
    ValueType = ClaimKeyValueType

    key = models.SlugField(max_length=80, unique=True)
    label = models.CharField(max_length=200)
    group = models.CharField(max_length=20, choices=Group.choices)
    value_type = models.CharField(max_length=10, choices=ValueType.choices)
    unit = models.CharField(max_length=60, blank=True, help_text="Default unit for numbers.")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["group", "key"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("group", ClaimKeyGroup), name="claimkey_group_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("value_type", ClaimKeyValueType),
                name="claimkey_value_type_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.key


class ClaimQuerySet(models.QuerySet):
    def with_freshness(self) -> ClaimQuerySet:
        return self.annotate(freshness_level=freshness.annotation("checked_at"))

    def fresh_as(self, level: str) -> ClaimQuerySet:
        return self.filter(freshness.filter_q("checked_at", level))


class Claim(TimeStamped):
    Flag = ClaimFlag
    Surface = ClaimSurface

    Status = ClaimStatus

    provider = models.ForeignKey(
        Provider, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    model = models.ForeignKey(
        AIModel, on_delete=models.PROTECT, null=True, blank=True, related_name="claims"
    )
    key = models.ForeignKey(ClaimKey, on_delete=models.PROTECT, related_name="claims")
    value_flag = models.CharField(max_length=10, choices=Flag.choices, blank=True)
    value_number = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    value_unit = models.CharField(max_length=60, blank=True)
    value_text = models.CharField(max_length=300, blank=True)
    condition = models.TextField(blank=True, help_text="When the claim holds, in words.")
    scope_plan = models.CharField(max_length=80, blank=True, help_text="Plan tier, e.g. Scale.")
    scope_surface = models.CharField(max_length=20, choices=Surface.choices, default=Surface.ANY)
    scope_region = models.CharField(max_length=40, blank=True, help_text="e.g. EU, US.")
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="claims")
    evidence_quote = models.TextField(
        blank=True, help_text="The exact words of the source that support the claim."
    )
    checked_at = models.DateField(help_text="When the source was last read for this claim.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CURRENT)
    note = models.TextField(blank=True, help_text="Curator's note, e.g. why it is disputed.")
    history = HistoricalRecords()

    objects = ClaimQuerySet.as_manager()

    class Meta:
        ordering = ["key__group", "key__key", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(provider__isnull=False) & Q(model__isnull=True))
                | (Q(provider__isnull=True) & Q(model__isnull=False)),
                name="claim_exactly_one_subject",
            ),
            models.CheckConstraint(
                condition=(~Q(value_flag="") & Q(value_number__isnull=True) & Q(value_text=""))
                | (Q(value_flag="") & Q(value_number__isnull=False) & Q(value_text=""))
                | (Q(value_flag="") & Q(value_number__isnull=True) & ~Q(value_text="")),
                name="claim_exactly_one_value",
            ),
            models.CheckConstraint(
                condition=Q(value_flag="") | in_choices("value_flag", ClaimFlag),
                name="claim_flag_valid",
            ),
            models.CheckConstraint(
                condition=in_choices("scope_surface", ClaimSurface), name="claim_surface_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("status", ClaimStatus), name="claim_status_valid"
            ),
            # The loader's natural key; one partial constraint per subject because
            # NULLs never collide in a plain unique constraint.
            models.UniqueConstraint(
                fields=["provider", "key", "source", "scope_surface", "scope_plan", "scope_region"],
                condition=Q(provider__isnull=False),
                name="claim_unique_per_provider",
            ),
            models.UniqueConstraint(
                fields=["model", "key", "source", "scope_surface", "scope_plan", "scope_region"],
                condition=Q(model__isnull=False),
                name="claim_unique_per_model",
            ),
        ]
        indexes = [
            # Freshness facets and the crawlers' "claims due" sweep filter on checked_at.
            models.Index(fields=["checked_at"], name="claim_checked_at_idx"),
            # The finder and the API look claims up by key and value.
            models.Index(fields=["key", "value_flag"], name="claim_key_value_idx"),
            # A provider's current claims in check order, first one only: the "oldest check" of
            # compare's providers_annotated() and, where the planner does not take the partial
            # index below, of search's provider_facts(). Created by migration 0003.
            models.Index(fields=["provider", "checked_at"], name="claim_provider_checked_idx"),
        ]
        # Two more indexes on claims are made by hand in migrations, because Meta cannot hold
        # their names (over 30 characters), which the databases and tests already use:
        # claim_current_provider_checked_idx (0007), the partial index on current provider
        # claims that provider_facts() reads, and historicalclaim_provider_date_idx (0006), on
        # the claim history by provider and date, read by recent_changes() for one provider.

    def __str__(self) -> str:
        return f"{self.subject} · {self.key_id and self.key.label}: {self.display_value}"

    @property
    def subject(self) -> Provider | AIModel | None:
        return self.provider if self.provider_id else self.model

    @property
    def display_value(self) -> str:
        if self.value_flag:
            return self.get_value_flag_display()
        if self.value_number is not None:
            number = self.value_number.normalize()
            text = f"{number:f}"
            return f"{text} {self.value_unit}".strip()
        return self.value_text

    @property
    def freshness(self) -> str:
        return freshness.level(self.checked_at)

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors: dict[str, str] = {}
        if bool(self.provider_id) == bool(self.model_id):
            errors["provider"] = "a claim is about exactly one provider or one model"
        if self.key_id:
            value_type = self.key.value_type
            if value_type == ClaimKey.ValueType.FLAG and not self.value_flag:
                errors["value_flag"] = f"{self.key.key} takes yes / no / partial / unknown"
            if value_type == ClaimKey.ValueType.NUMBER and self.value_number is None:
                errors["value_number"] = f"{self.key.key} takes a number"
            if value_type == ClaimKey.ValueType.TEXT and not self.value_text:
                errors["value_text"] = f"{self.key.key} takes a short text"
        set_values = sum(
            [bool(self.value_flag), self.value_number is not None, bool(self.value_text)]
        )
        if set_values > 1:
            errors.setdefault("value_flag", "set exactly one of flag, number or text")
        if errors:
            raise ValidationError(errors)


class Verification(models.Model):
    """One re-check of a claim; every check leaves one, so history is visible."""

    Method = VerificationMethod
    Outcome = VerificationOutcome

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="verifications")
    checked_at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=Method.choices)
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    note = models.TextField(blank=True)
    match_score = models.FloatField(null=True, blank=True)
    evidence = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    # Where a source check found the quote: the stored text it read, and the quote's place
    # in it. PROTECT: a confirmation is only as good as the text it points at, so a version
    # a verification cites cannot be deleted out from under it (versions are never pruned).
    # A string reference: crawlers.models imports this module.
    found_in = models.ForeignKey(
        "crawlers.Version",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="verifications_found",
        help_text="The stored text of the source in which the quote was found.",
    )
    quote_start = models.PositiveIntegerField(
        null=True, blank=True, help_text="Where the quote starts in that text (characters)."
    )
    quote_end = models.PositiveIntegerField(
        null=True, blank=True, help_text="Where the quote ends in that text (exclusive)."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-checked_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("method", VerificationMethod), name="verification_method_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("outcome", VerificationOutcome),
                name="verification_outcome_valid",
            ),
            models.CheckConstraint(
                condition=Q(match_score__isnull=True)
                | (Q(match_score__gte=0) & Q(match_score__lte=1)),
                name="verification_score_in_unit_range",
            ),
            # Offsets only into a stored text, and only as a non-empty span of it.
            models.CheckConstraint(
                condition=Q(quote_start__isnull=True, quote_end__isnull=True)
                | Q(
                    found_in__isnull=False,
                    quote_start__gte=0,
                    quote_end__gt=F("quote_start"),
                ),
                name="verification_quote_span_valid",
            ),
        ]
        indexes = [
            # A claim's verification history, newest first.
            models.Index(fields=["claim", "-checked_at"], name="verification_claim_idx"),
            # The API's incremental sync: claims with a verification written since a moment
            # (`/api/v1/claims?updated_since=` and `/api/v1/changes`).
            models.Index(fields=["created_at", "claim"], name="verification_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id} {self.outcome} {self.checked_at:%Y-%m-%d}"


class Price(TimeStamped):
    model = models.ForeignKey(AIModel, on_delete=models.PROTECT, related_name="prices")
    input_per_mtok = models.DecimalField(
        "input price per million tokens", max_digits=12, decimal_places=4
    )
    output_per_mtok = models.DecimalField(
        "output price per million tokens", max_digits=12, decimal_places=4, null=True, blank=True
    )
    currency = models.CharField(max_length=3, default="USD")
    tier = models.CharField(max_length=80, blank=True, help_text="e.g. standard, batch.")
    as_of = models.DateField()
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="prices")
    history = HistoricalRecords()

    class Meta:
        ordering = ["model", "-as_of"]
        constraints = [
            models.CheckConstraint(
                condition=Q(input_per_mtok__gte=0), name="price_input_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(output_per_mtok__isnull=True) | Q(output_per_mtok__gte=0),
                name="price_output_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(currency__regex=r"^[A-Z]{3}$"), name="price_currency_iso"
            ),
            models.UniqueConstraint(
                fields=["model", "currency", "tier", "as_of"], name="price_unique_per_day"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.model} {self.input_per_mtok}/{self.output_per_mtok} {self.currency}"


class FAQ(TimeStamped):
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="faqs")
    question = models.CharField(max_length=300)
    answer = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, null=True, blank=True, related_name="faqs"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["provider", "position", "id"]
        verbose_name = "FAQ entry"
        verbose_name_plural = "FAQ entries"
        constraints = [
            models.UniqueConstraint(fields=["provider", "question"], name="faq_unique_question"),
        ]

    def __str__(self) -> str:
        return self.question


class Comparison(TimeStamped):
    """A curated side-by-side of providers, linked from each provider's page."""

    slug = models.SlugField(max_length=100, unique=True)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    providers = models.ManyToManyField(Provider, related_name="comparisons")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title
