"""Endpoints the tester may call, the runs that spend their budgets, and the judge's cache.

A probe's result itself is a ``catalog.Verification`` (method ``inference_probe``
or ``model_judge``); these tables only hold what is needed to make calls and
to keep runs within budget and idempotent. API keys are never stored: an
endpoint names the environment variable (or secrets file) that holds its key.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q

from catalog.models import AIModel, Claim, Provider, Verification, in_choices

# Only variables named as API keys: an endpoint (whose URL a curator sets) must never
# be able to send another secret of this deployment, such as SECRET_KEY or DATABASE_URL.
KEY_NAME_PATTERN = r"^[A-Z][A-Z0-9_]{0,89}_API_(KEY|TOKEN)$"


class EndpointKind(models.TextChoices):
    PROVIDER_API = "provider_api", "Provider API"
    SELF_HOSTED = "self_hosted", "Self-hosted OpenAI-compatible server"
    EMBEDDED_LOCAL = "embedded_local", "Embedded local model"


class Endpoint(models.Model):
    """Somewhere to send probes: a provider's API, a self-hosted server or the embedded model."""

    Kind = EndpointKind

    name = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    base_url = models.URLField(
        max_length=500,
        blank=True,
        help_text="The OpenAI-compatible base, e.g. https://api.mistral.ai/v1. "
        "Blank for the embedded local model.",
    )
    provider = models.ForeignKey(
        Provider,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="inference_endpoints",
        help_text="Claims about this provider are tested here.",
    )
    served_models = models.ManyToManyField(
        AIModel,
        blank=True,
        related_name="inference_endpoints",
        help_text="Catalogue models this endpoint serves; their first API id is the model asked.",
    )
    default_model = models.CharField(
        max_length=200,
        blank=True,
        help_text="Model id used for claims about the provider rather than one model.",
    )
    api_key_env = models.CharField(
        "API key variable",
        max_length=100,
        blank=True,
        validators=[
            RegexValidator(
                KEY_NAME_PATTERN,
                "Use an upper-case variable name ending in _API_KEY or _API_TOKEN, "
                "e.g. MISTRAL_API_KEY.",
            )
        ],
        help_text="Name of the environment variable (or file in the secrets directory) "
        "holding the key. The key itself is never stored.",
    )
    active = models.BooleanField(default=True)
    timeout_seconds = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)]
    )
    max_requests = models.PositiveIntegerField(
        default=40, validators=[MinValueValidator(1)], help_text="Per run, retries included."
    )
    max_tokens = models.PositiveIntegerField(
        default=20_000, validators=[MinValueValidator(1)], help_text="Per run, prompt + completion."
    )
    max_spend = models.DecimalField(
        max_digits=10,
        decimal_places=4,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal(0))],
        help_text="Per run, in the price currency. Blank: no spend limit.",
    )
    price_input_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    price_output_per_mtok = models.DecimalField(
        max_digits=12, decimal_places=4, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    price_currency = models.CharField(max_length=3, default="USD")
    allow_costly_probes = models.BooleanField(
        default=False,
        help_text="Run probes that spend many tokens, such as the context-window probe.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        permissions = [("run_probe", "Can test a claim against an endpoint now")]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("kind", EndpointKind), name="endpoint_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(kind=EndpointKind.EMBEDDED_LOCAL) | ~Q(base_url=""),
                name="endpoint_base_url_unless_embedded",
            ),
            models.CheckConstraint(
                condition=Q(api_key_env="") | Q(api_key_env__regex=KEY_NAME_PATTERN),
                name="endpoint_key_name_is_a_variable_name",
            ),
            models.CheckConstraint(
                condition=Q(max_requests__gte=1) & Q(max_tokens__gte=1) & Q(timeout_seconds__gte=1),
                name="endpoint_budgets_positive",
            ),
            models.CheckConstraint(
                condition=Q(price_currency__regex=r"^[A-Z]{3}$"), name="endpoint_currency_iso"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if self.kind != EndpointKind.EMBEDDED_LOCAL and not self.base_url:
            raise ValidationError(
                {"base_url": "an endpoint other than the embedded model needs a base URL"}
            )


class ProbeRunStatus(models.TextChoices):
    RUNNING = "running", "Running"
    FINISHED = "finished", "Finished"
    STOPPED_BUDGET = "stopped_budget", "Stopped: budget reached"


class ProbeRunTrigger(models.TextChoices):
    COMMAND = "command", "Management command"
    SCHEDULE = "schedule", "Scheduled run"
    CURATOR = "curator", "Curator"


class ProbeRun(models.Model):
    """One batch of probes against one endpoint, and what it has spent of its budget."""

    Status = ProbeRunStatus
    Trigger = ProbeRunTrigger

    endpoint = models.ForeignKey(Endpoint, on_delete=models.PROTECT, related_name="runs")
    trigger = models.CharField(max_length=20, choices=Trigger.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RUNNING)
    message = models.TextField(blank=True)
    # Budgets are copied from the endpoint when the run starts, so editing the
    # endpoint mid-run cannot raise a limit the run is already checked against.
    max_requests = models.PositiveIntegerField()
    max_tokens = models.PositiveIntegerField()
    max_spend = models.DecimalField(max_digits=10, decimal_places=4, null=True, blank=True)
    requests_used = models.PositiveIntegerField(default=0)
    tokens_used = models.PositiveIntegerField(default=0)
    spend_used = models.DecimalField(max_digits=12, decimal_places=6, default=Decimal(0))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=in_choices("status", ProbeRunStatus), name="run_status_valid"
            ),
            models.CheckConstraint(
                condition=in_choices("trigger", ProbeRunTrigger), name="run_trigger_valid"
            ),
            # The budget reservation is a conditional UPDATE; these make an
            # overspend impossible even if that code were wrong.
            models.CheckConstraint(
                condition=Q(requests_used__lte=models.F("max_requests")),
                name="run_requests_within_budget",
            ),
            models.CheckConstraint(
                condition=Q(tokens_used__lte=models.F("max_tokens")),
                name="run_tokens_within_budget",
            ),
        ]

    def __str__(self) -> str:
        return f"run {self.pk} on {self.endpoint_id} ({self.status})"


class ProbeJobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class ProbeJob(models.Model):
    """One claim to probe within a run; the unique pair makes a re-queued task a no-op."""

    Status = ProbeJobStatus

    run = models.ForeignKey(ProbeRun, on_delete=models.CASCADE, related_name="jobs")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="probe_jobs")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    finding = models.CharField(max_length=20, blank=True)
    message = models.TextField(blank=True)
    verification = models.ForeignKey(
        Verification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "claim"], name="probejob_once_per_run"),
            models.CheckConstraint(
                condition=in_choices("status", ProbeJobStatus), name="job_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.claim_id} in run {self.run_id} ({self.status})"


class JudgeVerdictChoice(models.TextChoices):
    SUPPORTS = "supports", "Supports"
    CONTRADICTS = "contradicts", "Contradicts"
    NOT_ADDRESSED = "not_addressed", "Does not address"
    INCONCLUSIVE = "inconclusive", "Inconclusive"


class JudgeVerdict(models.Model):
    """The judge's answer, cached for one question put to one server: the endpoint (and the
    base URL it had), the judge model, the prompt (its version and the claim statement) and
    the passage (its hash).

    Only an answer that follows the schema is kept: a failure or a non-answer is asked
    again next time. The checks that may make an answer inconclusive (its sentence not in
    the passage, or not about the claim) are applied when it is read, not stored here.
    """

    Verdict = JudgeVerdictChoice

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="+")
    endpoint_url = models.CharField(max_length=500, blank=True)
    passage_sha256 = models.CharField(max_length=64)
    claim_sha256 = models.CharField(max_length=64)
    judge_model = models.CharField(max_length=200)
    prompt_version = models.PositiveSmallIntegerField()
    verdict = models.CharField(max_length=20, choices=Verdict.choices)
    quote = models.TextField(blank=True)
    reason = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Also the index the cache lookup uses.
            models.UniqueConstraint(
                fields=[
                    "endpoint",
                    "endpoint_url",
                    "judge_model",
                    "prompt_version",
                    "claim_sha256",
                    "passage_sha256",
                ],
                name="judgeverdict_cache_key",
            ),
            models.CheckConstraint(
                condition=in_choices("verdict", JudgeVerdictChoice),
                name="judgeverdict_verdict_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.judge_model} on {self.endpoint_id}: {self.verdict}"


class JudgeJobStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    SKIPPED = "skipped", "Skipped"


class JudgeJob(models.Model):
    """One scheduled judgement of a claim, queued because its source has a newer text version.

    The unique pair makes a sweep that runs twice, or a task delivered twice, a no-op:
    a claim is judged at most once for each text of its source that triggered it.
    """

    Status = JudgeJobStatus

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="judge_jobs")
    version = models.ForeignKey(
        "crawlers.Version",
        on_delete=models.CASCADE,
        related_name="+",
        help_text="The source's newest text when the judgement was queued.",
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    message = models.TextField(blank=True)
    verification = models.ForeignKey(
        Verification, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    queued_at = models.DateTimeField(auto_now_add=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            # Also the index of the sweep's "already queued for this version" test,
            # which looks jobs up by claim and version.
            models.UniqueConstraint(fields=["claim", "version"], name="judgejob_once_per_version"),
            models.CheckConstraint(
                condition=in_choices("status", JudgeJobStatus), name="judgejob_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"judge claim {self.claim_id} on version {self.version_id} ({self.status})"


class ClaimToTest(Claim):
    """Claims as the tester's admin lists them, with the "test this claim now" action."""

    class Meta:
        proxy = True
        verbose_name = "claim to test"
        verbose_name_plural = "claims to test"
