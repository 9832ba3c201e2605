"""Which models meet a buyer's requirements, and why: one selector for the web finder and the API.

Each requested requirement produces a ``Finding`` for each model: met, met
under conditions, unmet, or unknown, with the claim or licence that decided it
and where that fact comes from. Unknown never counts as yes: a model with an
unknown finding does not qualify. A claim that is disputed or awaiting review
decides nothing; it is reported as unknown with its status.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models
from django.db.models import Prefetch, QuerySet

from catalog.change_stamp import tables_stamp
from catalog.models import (
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    Modality,
    Price,
    Provider,
    Source,
    Ternary,
)

# The API pages the requirements check's results like its lists.
RESULTS_PAGE_SIZE: int = settings.API_PAGE_SIZE
RESULTS_MAX_PAGE_SIZE: int = settings.API_MAX_PAGE_SIZE


class RequirementsError(ValueError):
    """Bad requirements; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class Outcome(models.TextChoices):
    QUALIFIES = "qualifies", "Qualifies"
    CONDITIONAL = "conditional", "Qualifies under conditions"
    FAILS = "fails", "Does not qualify"


class Status(models.TextChoices):
    MET = "met", "Met"
    CONDITIONAL = "conditional", "Met under conditions"
    UNMET = "unmet", "Not met"
    UNKNOWN = "unknown", "Unknown"


FLAG_FIELDS = (
    "commercial_use",
    "self_hosting",
    "eu_residency",
    "self_hosting_or_eu",
    "no_training_on_inputs",
    "fine_tuning",
    "redistribution",
)
LABELS = {
    "commercial_use": "Commercial use",
    "self_hosting": "Self-hosting",
    "eu_residency": "EU data residency",
    "self_hosting_or_eu": "Self-hosting or EU residency",
    "no_training_on_inputs": "No training on inputs",
    "fine_tuning": "Fine-tuning",
    "redistribution": "Redistribution of weights",
    "max_input_price": "Input price budget",
    "max_output_price": "Output price budget",
    "modalities": "Modalities",
}


@dataclasses.dataclass(frozen=True)
class Requirements:
    commercial_use: bool = False
    self_hosting: bool = False
    eu_residency: bool = False
    self_hosting_or_eu: bool = False
    no_training_on_inputs: bool = False
    fine_tuning: bool = False
    redistribution: bool = False
    max_input_price: Decimal | None = None
    max_output_price: Decimal | None = None
    modalities: frozenset[str] = frozenset()

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Requirements:
        """Build requirements from form or JSON data; raise RequirementsError naming the field."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise RequirementsError(unknown[0], f"unknown requirement; use one of {sorted(known)}")
        values: dict[str, Any] = {}
        for name in FLAG_FIELDS:
            if name in data:
                values[name] = _as_bool(name, data[name])
        for name in ("max_input_price", "max_output_price"):
            if data.get(name) not in (None, ""):
                values[name] = _as_price(name, data[name])
        if "modalities" in data and data["modalities"] not in (None, ""):
            values["modalities"] = _as_modalities(data["modalities"])
        return cls(**values)

    def requested(self) -> list[str]:
        names = [name for name in FLAG_FIELDS if getattr(self, name)]
        names += [
            n for n in ("max_input_price", "max_output_price") if getattr(self, n) is not None
        ]
        if self.modalities:
            names.append("modalities")
        return names


def _as_bool(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in {"1", "true", "yes", "on"}:
        return True
    if isinstance(value, str) and value.strip().lower() in {"0", "false", "no", "off", ""}:
        return False
    raise RequirementsError(field, f"must be true or false, got {value!r}")


def _as_price(field: str, value: Any) -> Decimal:
    if isinstance(value, bool):
        raise RequirementsError(field, "must be a number of currency units per million tokens")
    try:
        price = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise RequirementsError(field, f"must be a number, got {value!r}") from None
    if not price.is_finite() or price < 0:
        raise RequirementsError(field, f"must be a non-negative number, got {value!r}")
    return price


def _as_modalities(value: Any) -> frozenset[str]:
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, Iterable) or isinstance(items, Mapping):
        raise RequirementsError("modalities", "must be a list of modality names")
    cleaned = []
    for item in items:
        if not isinstance(item, str) or not item.strip():
            raise RequirementsError("modalities", f"each modality must be a name, got {item!r}")
        cleaned.append(item.strip().lower())
    allowed = set(Modality.objects.values_list("slug", flat=True))
    bad = sorted(set(cleaned) - allowed)
    if bad:
        raise RequirementsError("modalities", f"unknown modality {bad[0]!r}; use {sorted(allowed)}")
    return frozenset(cleaned)


@dataclasses.dataclass(frozen=True)
class Finding:
    requirement: str
    status: str
    reason: str
    condition: str = ""
    claim: Claim | None = None
    licence: Licence | None = None
    source: Source | None = None
    checked_at: dt.date | None = None

    @property
    def label(self) -> str:
        return LABELS[self.requirement]

    @property
    def source_url(self) -> str:
        if self.source is not None:
            return self.source.url
        if self.licence is not None:
            return self.licence.url
        return ""


@dataclasses.dataclass(frozen=True)
class ModelResult:
    model: AIModel
    outcome: str
    findings: list[Finding]

    @property
    def failing(self) -> list[Finding]:
        return [f for f in self.findings if f.status in (Status.UNMET, Status.UNKNOWN)]

    @property
    def conditions(self) -> list[Finding]:
        return [f for f in self.findings if f.status == Status.CONDITIONAL]


# Claim keys the finder reads; a model's own claim wins over its provider's.
KEY_COMMERCIAL = "commercial_use_allowed"
KEY_TRAINING = "training_use_of_input"
KEY_EU = "eu_data_residency"
KEY_FINE_TUNING = "fine_tuning_api"
USABLE_SURFACES = (Claim.Surface.ANY, Claim.Surface.API, Claim.Surface.ENTERPRISE)


def models_for_requirements(
    *, requirements: Requirements, models: QuerySet[AIModel] | None = None
) -> list[ModelResult]:
    """Judge every model against the requirements, in a constant number of queries.

    Returns results ordered qualifies, conditional, fails, then by model name.
    Only the claims the requested requirements can read are loaded, with the
    fields findings show, so a large catalogue costs rows, not objects; prices and
    modalities are loaded only when a requirement reads them.
    """
    queryset = models if models is not None else AIModel.objects.all()
    requested = set(requirements.requested())
    # Prices and modalities are read only by their own requirements; prefetching them
    # otherwise cost a query each and a related manager per model.
    prefetches: list[str | Prefetch] = []
    if "modalities" in requested:
        prefetches.append("modalities")
    if requested & {"max_input_price", "max_output_price"}:
        price_qs = Price.objects.select_related("source").order_by("-as_of", "id")
        prefetches.append(Prefetch("prices", queryset=price_qs, to_attr="finder_prices"))
    model_list = list(queryset.select_related("provider", "licence").prefetch_related(*prefetches))
    model_claims, provider_claims = _claims_for(requirements, queryset, model_list)
    results = []
    for model in model_list:
        judge = _ModelJudge(
            model, model_claims[model.pk], provider_claims[model.provider_id], requirements
        )
        findings = [judge.finding(name) for name in requirements.requested()]
        results.append(ModelResult(model=model, outcome=_outcome(findings), findings=findings))
    order = {Outcome.QUALIFIES: 0, Outcome.CONDITIONAL: 1, Outcome.FAILS: 2}
    results.sort(key=lambda r: (order[r.outcome], r.model.name.lower(), r.model.pk))
    return results


CLAIM_FIELDS = (
    "id",
    "provider_id",
    "model_id",
    "key_id",
    "source_id",
    "value_flag",
    "value_number",
    "value_unit",
    "value_text",
    "condition",
    "scope_plan",
    "scope_surface",
    "scope_region",
    "status",
    "checked_at",
    "updated_at",
)


def _claims_for(
    requirements: Requirements, queryset: QuerySet[AIModel], model_list: list[AIModel]
) -> tuple[dict[int, list[Claim]], dict[int, list[Claim]]]:
    """Claims under the keys the requirements read, grouped by model and by provider."""
    model_claims: dict[int, list[Claim]] = defaultdict(list)
    provider_claims: dict[int, list[Claim]] = defaultdict(list)
    keys = {k.pk: k for k in ClaimKey.objects.filter(key__in=_keys_needed(requirements))}
    if not keys or not model_list:
        return model_claims, provider_claims
    base = (
        Claim.objects.filter(key_id__in=list(keys))
        .exclude(status=Claim.Status.RETIRED)
        .only(*CLAIM_FIELDS)
        .order_by("id")
    )
    own = list(base.filter(model__in=queryset.values("pk")))
    # A model's own claims under a key hide its provider's, so provider claims are read
    # only for the (provider, key) pairs some model lacks: a page of a large catalogue
    # would otherwise load every claim of every provider it touches.
    covered = {(c.model_id, c.key_id) for c in own}
    lacking: dict[int, set[int]] = defaultdict(set)
    for model in model_list:
        for key_id in keys:
            if (model.pk, key_id) not in covered:
                lacking[key_id].add(model.provider_id)
    wanted = models.Q(pk__in=[])
    for key_id, provider_ids in lacking.items():
        wanted |= models.Q(key_id=key_id, provider_id__in=sorted(provider_ids))
    claims = own + (list(base.filter(wanted)) if lacking else [])
    sources = Source.objects.in_bulk({c.source_id for c in claims})
    for claim in claims:
        # Attach the few keys and sources in memory rather than joining them per row.
        claim.key = keys[claim.key_id]
        claim.source = sources[claim.source_id]
        if claim.model_id is not None:
            model_claims[claim.model_id].append(claim)
        else:
            provider_claims[claim.provider_id].append(claim)
    return model_claims, provider_claims


def _keys_needed(requirements: Requirements) -> list[str]:
    wanted = {
        "commercial_use": [KEY_COMMERCIAL],
        "eu_residency": [KEY_EU],
        "self_hosting_or_eu": [KEY_EU],
        "no_training_on_inputs": [KEY_TRAINING],
        "fine_tuning": [KEY_FINE_TUNING],
    }
    keys = [key for name in requirements.requested() for key in wanted.get(name, [])]
    keys += [f"{slug}_input" for slug in requirements.modalities]
    return sorted(set(keys))


def _outcome(findings: list[Finding]) -> str:
    statuses = {f.status for f in findings}
    if statuses & {Status.UNMET, Status.UNKNOWN}:
        return Outcome.FAILS
    if Status.CONDITIONAL in statuses:
        return Outcome.CONDITIONAL
    return Outcome.QUALIFIES


class _ModelJudge:
    def __init__(
        self,
        model: AIModel,
        model_claims: list[Claim],
        provider_claims: list[Claim],
        req: Requirements,
    ) -> None:
        self.model = model
        self.model_claims = model_claims
        self.provider_claims = provider_claims
        self.req = req
        self.open = model.weights == AIModel.Weights.OPEN

    def finding(self, name: str) -> Finding:
        return getattr(self, f"_{name}")(name)

    # -- claim and licence readers -------------------------------------------------------

    def _claims(self, key: str) -> list[Claim]:
        own = [c for c in self.model_claims if c.key.key == key]
        chosen = own or [c for c in self.provider_claims if c.key.key == key]
        usable = [c for c in chosen if c.scope_surface in USABLE_SURFACES]
        return usable or chosen

    def _from_claim(self, name: str, key: str, *, good: str, bad: str) -> Finding:
        """Decide from the claims under ``key``: ``good`` is the flag that meets the need."""
        claims = self._claims(key)
        if not claims:
            return Finding(name, Status.UNKNOWN, f"No claim recorded for {key}.")
        blocked = [
            c for c in claims if c.status in (Claim.Status.DISPUTED, Claim.Status.NEEDS_REVIEW)
        ]
        if blocked:
            claim = blocked[0]
            return self._claim_finding(
                name, Status.UNKNOWN, f"{key} is {claim.get_status_display().lower()}.", claim
            )
        values = {c.value_flag for c in claims}
        if len(values) > 1:
            return self._claim_finding(
                name, Status.UNKNOWN, f"Sources disagree on {key}.", claims[0]
            )
        claim = claims[0]
        if claim.value_flag == good:
            if claim.condition or claim.scope_plan or claim.scope_region:
                return self._claim_finding(
                    name,
                    Status.CONDITIONAL,
                    f"{key} = {claim.value_flag}, with a condition.",
                    claim,
                )
            return self._claim_finding(name, Status.MET, f"{key} = {claim.value_flag}.", claim)
        if claim.value_flag == Claim.Flag.PARTIAL:
            return self._claim_finding(
                name, Status.CONDITIONAL, f"{key} is only partly met.", claim
            )
        if claim.value_flag == bad:
            return self._claim_finding(name, Status.UNMET, f"{key} = {claim.value_flag}.", claim)
        return self._claim_finding(name, Status.UNKNOWN, f"{key} is not known.", claim)

    def _claim_finding(self, name: str, status: str, reason: str, claim: Claim) -> Finding:
        condition = "; ".join(
            part
            for part in (
                claim.condition,
                f"plan: {claim.scope_plan}" if claim.scope_plan else "",
                f"region: {claim.scope_region}" if claim.scope_region else "",
                f"surface: {claim.get_scope_surface_display()}"
                if claim.scope_surface != Claim.Surface.ANY
                else "",
            )
            if part
        )
        return Finding(
            name,
            status,
            reason,
            condition=condition,
            claim=claim,
            source=claim.source,
            checked_at=claim.checked_at,
        )

    def _from_licence(self, name: str, field: str, what: str) -> Finding:
        licence = self.model.licence
        if licence is None:
            return Finding(name, Status.UNKNOWN, f"No licence recorded, so {what} is not known.")
        value = getattr(licence, field)
        reason = f"{licence.name} ({licence.get_kind_display().lower()})"
        condition = ""
        if licence.kind == Licence.Kind.RESEARCH_ONLY:
            condition = "research and non-production use only"
        elif value == Ternary.CONDITIONAL:
            condition = (
                "; ".join(
                    part
                    for part in (
                        licence.output_restrictions,
                        f"separate agreement above {licence.user_threshold:,} monthly users"
                        if licence.user_threshold
                        else "",
                    )
                    if part
                )
                or f"see the terms of {licence.name}"
            )
        status = {
            Ternary.YES: Status.MET,
            Ternary.CONDITIONAL: Status.CONDITIONAL,
            Ternary.NO: Status.UNMET,
        }.get(value, Status.UNKNOWN)
        verb = {
            Status.MET: "permits",
            Status.CONDITIONAL: "permits under conditions",
            Status.UNMET: "does not permit",
        }.get(status, "does not say whether it permits")
        return Finding(
            name, status, f"{reason} {verb} {what}.", condition=condition, licence=licence
        )

    # -- one method per requirement ----------------------------------------------------------

    def _commercial_use(self, name: str) -> Finding:
        if self.open:
            # Open weights: the licence on the weights decides, even when it is unknown.
            return self._from_licence(name, "commercial_use", "commercial use")
        return self._from_claim(name, KEY_COMMERCIAL, good="yes", bad="no")

    def _self_hosting(self, name: str) -> Finding:
        if self.model.weights == AIModel.Weights.API_ONLY:
            return Finding(name, Status.UNMET, "API only: the weights are not published.")
        if self.model.weights == AIModel.Weights.UNKNOWN:
            return Finding(
                name, Status.UNKNOWN, "Whether the weights are published is not recorded."
            )
        return self._from_licence(name, "self_hosting", "self-hosting")

    def _eu_residency(self, name: str) -> Finding:
        return self._from_claim(name, KEY_EU, good="yes", bad="no")

    def _self_hosting_or_eu(self, name: str) -> Finding:
        first, second = self._self_hosting(name), self._eu_residency(name)
        rank = {Status.MET: 0, Status.CONDITIONAL: 1, Status.UNMET: 2, Status.UNKNOWN: 3}
        return min((first, second), key=lambda f: rank[f.status])

    def _no_training_on_inputs(self, name: str) -> Finding:
        if self.open and (self.req.self_hosting or self.req.self_hosting_or_eu):
            hosting = self._self_hosting(name)
            if hosting.status == Status.MET:
                return Finding(
                    name,
                    Status.MET,
                    "Self-hosted: inputs never reach the provider.",
                    licence=self.model.licence,
                )
        return self._from_claim(name, KEY_TRAINING, good="no", bad="yes")

    def _fine_tuning(self, name: str) -> Finding:
        if self.open and self.model.licence is not None:
            return self._from_licence(name, "fine_tuning", "fine-tuning")
        return self._from_claim(name, KEY_FINE_TUNING, good="yes", bad="no")

    def _redistribution(self, name: str) -> Finding:
        if self.model.weights == AIModel.Weights.API_ONLY:
            return Finding(name, Status.UNMET, "API only: there are no weights to redistribute.")
        return self._from_licence(name, "weight_redistribution", "redistribution of the weights")

    def _price(self, name: str, field: str, budget: Decimal) -> Finding:
        prices = [p for p in self.model.finder_prices if p.currency == "USD"]
        price = prices[0] if prices else None
        amount = getattr(price, field) if price else None
        if amount is None:
            if self.open and self.req.self_hosting:
                return Finding(
                    name,
                    Status.MET,
                    "Self-hosted: no per-token fee (you pay for your own compute).",
                    licence=self.model.licence,
                )
            return Finding(name, Status.UNKNOWN, "No USD price recorded.")
        per = "input" if field == "input_per_mtok" else "output"
        status = Status.MET if amount <= budget else Status.UNMET
        return Finding(
            name,
            status,
            f"{per.capitalize()} price {amount.normalize():f} USD per million tokens "
            f"(budget {budget.normalize():f}), as of {price.as_of:%Y-%m-%d}.",
            source=price.source,
            checked_at=price.as_of,
        )

    def _max_input_price(self, name: str) -> Finding:
        return self._price(name, "input_per_mtok", self.req.max_input_price)

    def _max_output_price(self, name: str) -> Finding:
        return self._price(name, "output_per_mtok", self.req.max_output_price)

    def _modalities(self, name: str) -> Finding:
        recorded = {m.slug for m in self.model.modalities.all()}
        missing = sorted(self.req.modalities - recorded)
        if not missing:
            return Finding(name, Status.MET, f"Handles {', '.join(sorted(self.req.modalities))}.")
        for slug in missing:
            finding = self._from_claim(name, f"{slug}_input", good="yes", bad="no")
            if finding.status != Status.MET:
                if finding.claim is None and recorded:
                    return Finding(
                        name,
                        Status.UNMET,
                        f"Recorded modalities ({', '.join(sorted(recorded))}) "
                        f"do not include {slug}.",
                    )
                return finding
        return Finding(name, Status.MET, f"Handles {', '.join(sorted(self.req.modalities))}.")


# --- classifying the whole catalogue ---------------------------------------------------------
#
# The judge above builds findings with their claims and sources, which costs objects per
# model. Counting and paging the outcomes of a large catalogue needs only each model's
# outcome, so the database reduces the claims to a few facts per (subject, key) and the
# outcome is decided from those facts and plain rows. The rules are the judge's, stated
# once more over facts; tests check both agree on every model.

_STATUS_RANK = {Status.MET: 0, Status.CONDITIONAL: 1, Status.UNMET: 2, Status.UNKNOWN: 3}
_BLOCKED = (Claim.Status.DISPUTED, Claim.Status.NEEDS_REVIEW)
_FAILING = frozenset({Status.UNMET, Status.UNKNOWN})


def _facts_status(*, blocked: bool, low: str, high: str, first_conditioned: bool, key: str) -> str:
    """The judge's ``_from_claim`` over the facts of one subject's claims under ``key``."""
    good, bad = ("no", "yes") if key == KEY_TRAINING else ("yes", "no")
    if blocked or low != high:
        return Status.UNKNOWN
    if low == good:
        return Status.CONDITIONAL if first_conditioned else Status.MET
    if low == Claim.Flag.PARTIAL:
        return Status.CONDITIONAL
    if low == bad:
        return Status.UNMET
    return Status.UNKNOWN


def _claim_statuses(
    keys: dict[int, str], model_ids: QuerySet[AIModel] | None
) -> tuple[dict[tuple[int, str], str], dict[tuple[int, str], str]]:
    """The status the claims decide per (model, key) and per (provider, key); one query.

    The database groups the claims and reduces each group to a few facts. A group is the
    subject's claims on usable surfaces when it has any, else all of them (the judge's
    ``_claims``); "first" means lowest id, as the judge orders them.
    """
    usable = models.Case(
        models.When(scope_surface__in=USABLE_SURFACES, then=models.Value(True)),
        default=models.Value(False),
        output_field=models.BooleanField(),
    )
    conditioned = ~models.Q(condition="") | ~models.Q(scope_plan="") | ~models.Q(scope_region="")
    claims = Claim.objects.filter(key_id__in=list(keys)).exclude(status=Claim.Status.RETIRED)
    if model_ids is not None:
        claims = claims.filter(models.Q(model__isnull=True) | models.Q(model__in=model_ids))
    rows = (
        claims.order_by()
        .annotate(usable=usable)
        .values("model_id", "provider_id", "key_id", "usable")
        .annotate(
            first_id=models.Min("id"),
            first_conditioned_id=models.Min("id", filter=conditioned),
            blocked=models.Count("id", filter=models.Q(status__in=_BLOCKED)),
            low_flag=models.Min("value_flag"),
            high_flag=models.Max("value_flag"),
        )
        .values_list(
            "model_id",
            "provider_id",
            "key_id",
            "usable",
            "first_id",
            "first_conditioned_id",
            "blocked",
            "low_flag",
            "high_flag",
        )
    )
    by_model: dict[tuple[int, str], str] = {}
    by_provider: dict[tuple[int, str], str] = {}
    for (
        model_id,
        provider_id,
        key_id,
        is_usable,
        first,
        conditioned_first,
        blocked,
        low,
        high,
    ) in rows:
        key = keys[key_id]
        target = by_model if model_id is not None else by_provider
        subject = (model_id if model_id is not None else provider_id, key)
        # Usable claims win; the others count only when a subject has no usable one.
        if is_usable or subject not in target:
            target[subject] = _facts_status(
                blocked=blocked > 0,
                low=low,
                high=high,
                first_conditioned=first == conditioned_first,
                key=key,
            )
    return by_model, by_provider


NO_MODALITIES: frozenset[str] = frozenset()


class _Row:
    """One model as the facts judge reads it (a plain class: thousands are made per check)."""

    __slots__ = ("licence", "modalities", "pk", "price", "provider_id", "weights")

    def __init__(
        self,
        pk: int,
        provider_id: int,
        weights: str,
        licence: Licence | None,
        price: tuple[Decimal | None, Decimal | None] | None,
        modalities: frozenset[str],
    ) -> None:
        self.pk = pk
        self.provider_id = provider_id
        self.weights = weights
        self.licence = licence
        self.price = price
        self.modalities = modalities


class _FactsJudge:
    """The judge's rules over facts: returns a status per requirement, no findings."""

    def __init__(self, req: Requirements, by_model: dict, by_provider: dict) -> None:
        self.req = req
        self.by_model = by_model
        self.by_provider = by_provider
        self.checks = [getattr(self, f"_{name}") for name in req.requested()]

    def outcome(self, row: _Row) -> str:
        outcome = Outcome.QUALIFIES
        for check in self.checks:
            status = check(row)
            if status in _FAILING:
                return Outcome.FAILS  # most models fail: stop at the first unmet need
            if status == Status.CONDITIONAL:
                outcome = Outcome.CONDITIONAL
        return outcome

    def _claim(self, row: _Row, key: str) -> tuple[str, bool]:
        """The status from the claims under ``key`` and whether any claim was found.

        The statuses were decided with the judge's good and bad value per key when the
        claims were read (``_facts_status``).
        """
        status = self.by_model.get((row.pk, key)) or self.by_provider.get((row.provider_id, key))
        if status is None:
            return Status.UNKNOWN, False
        return status, True

    @staticmethod
    def _licence(row: _Row, field: str) -> str:
        if row.licence is None:
            return Status.UNKNOWN
        return {
            Ternary.YES: Status.MET,
            Ternary.CONDITIONAL: Status.CONDITIONAL,
            Ternary.NO: Status.UNMET,
        }.get(getattr(row.licence, field), Status.UNKNOWN)

    def _commercial_use(self, row: _Row) -> str:
        if row.weights == AIModel.Weights.OPEN:
            return self._licence(row, "commercial_use")
        return self._claim(row, KEY_COMMERCIAL)[0]

    def _self_hosting(self, row: _Row) -> str:
        if row.weights == AIModel.Weights.API_ONLY:
            return Status.UNMET
        if row.weights == AIModel.Weights.UNKNOWN:
            return Status.UNKNOWN
        return self._licence(row, "self_hosting")

    def _eu_residency(self, row: _Row) -> str:
        return self._claim(row, KEY_EU)[0]

    def _self_hosting_or_eu(self, row: _Row) -> str:
        return min(self._self_hosting(row), self._eu_residency(row), key=_STATUS_RANK.get)

    def _no_training_on_inputs(self, row: _Row) -> str:
        if (
            row.weights == AIModel.Weights.OPEN
            and (self.req.self_hosting or self.req.self_hosting_or_eu)
            and self._self_hosting(row) == Status.MET
        ):
            return Status.MET
        return self._claim(row, KEY_TRAINING)[0]

    def _fine_tuning(self, row: _Row) -> str:
        if row.weights == AIModel.Weights.OPEN and row.licence is not None:
            return self._licence(row, "fine_tuning")
        return self._claim(row, KEY_FINE_TUNING)[0]

    def _redistribution(self, row: _Row) -> str:
        if row.weights == AIModel.Weights.API_ONLY:
            return Status.UNMET
        return self._licence(row, "weight_redistribution")

    def _price(self, row: _Row, index: int, budget: Decimal) -> str:
        amount = row.price[index] if row.price else None
        if amount is None:
            if row.weights == AIModel.Weights.OPEN and self.req.self_hosting:
                return Status.MET
            return Status.UNKNOWN
        return Status.MET if amount <= budget else Status.UNMET

    def _max_input_price(self, row: _Row) -> str:
        return self._price(row, 0, self.req.max_input_price)

    def _max_output_price(self, row: _Row) -> str:
        return self._price(row, 1, self.req.max_output_price)

    def _modalities(self, row: _Row) -> str:
        for slug in sorted(self.req.modalities - row.modalities):
            status, found = self._claim(row, f"{slug}_input")
            if status != Status.MET:
                return Status.UNMET if not found and row.modalities else status
        return Status.MET


@dataclasses.dataclass(frozen=True)
class RequirementsCheck:
    """Every model's outcome, as ids in display order (by name) per outcome."""

    requirements: Requirements
    ids: dict[str, list[int]]

    @property
    def counts(self) -> dict[str, int]:
        return {outcome: len(self.ids.get(outcome, [])) for outcome in Outcome.values}


def requirements_check(
    *, requirements: Requirements, models: QuerySet[AIModel] | None = None
) -> RequirementsCheck:
    """Sort every model into qualifies / conditional / fails without building its findings.

    A constant number of queries (the claim keys, the models, the licences, one grouped
    query over the claims under the keys the requirements read, and the prices or
    modalities only when those are asked for), whatever the size of the catalogue. Call
    ``requirements_results`` for the findings of the models a page shows.
    """
    queryset = models if models is not None else AIModel.objects.all()
    keys = dict(
        ClaimKey.objects.filter(key__in=_keys_needed(requirements)).values_list("pk", "key")
    )
    by_model, by_provider = (
        _claim_statuses(keys, None if models is None else queryset.values("pk"))
        if keys
        else ({}, {})
    )
    requested = set(requirements.requested())
    model_pks = queryset.values("pk")
    prices: dict[int, tuple[Decimal | None, Decimal | None]] = {}
    if requested & {"max_input_price", "max_output_price"}:
        # Newest first, as the judge reads ``finder_prices``: the first row per model wins.
        for model_id, amount_in, amount_out in (
            Price.objects.filter(currency="USD", model__in=model_pks)
            .order_by("model_id", "-as_of", "id")
            .values_list("model_id", "input_per_mtok", "output_per_mtok")
        ):
            prices.setdefault(model_id, (amount_in, amount_out))
    modalities: dict[int, frozenset[str]] = {}
    if "modalities" in requested:
        through = AIModel.modalities.through
        handled: dict[int, set[str]] = defaultdict(set)
        for model_id, slug in through.objects.filter(aimodel__in=model_pks).values_list(
            "aimodel_id", "modality__slug"
        ):
            handled[model_id].add(slug)
        modalities = {pk: frozenset(slugs) for pk, slugs in handled.items()}
    licences = Licence.objects.in_bulk()
    judge = _FactsJudge(requirements, by_model, by_provider)
    ids: dict[str, list[int]] = {outcome: [] for outcome in Outcome.values}
    # No ORDER BY: the model's default ordering joins the providers, and the rows are
    # sorted below anyway (a sliced queryset keeps its order, which chose its models).
    unordered = queryset if queryset.query.is_sliced else queryset.order_by()
    rows = list(unordered.values_list("pk", "name", "provider_id", "weights", "licence_id"))
    # Sorted here, not by the database, so the order is the judge's whatever the collation.
    rows.sort(key=lambda r: (r[1].lower(), r[0]))
    key_names = sorted(set(keys.values()))
    # A model's outcome depends only on what the judge reads: its weights, licence, price,
    # modalities and the status its claims (or its provider's) decide per key. Thousands of
    # models share a few hundred such combinations, so each is judged once.
    outcomes: dict[tuple, str] = {}
    for pk, _name, provider_id, weights, licence_id in rows:
        statuses = tuple(
            by_model.get((pk, key)) or by_provider.get((provider_id, key)) for key in key_names
        )
        price = prices.get(pk)
        handled = modalities.get(pk, NO_MODALITIES)
        facts = (weights, licence_id, price, handled, statuses)
        outcome = outcomes.get(facts)
        if outcome is None:
            row = _Row(
                pk=pk,
                provider_id=provider_id,
                weights=weights,
                licence=licences.get(licence_id),
                price=price,
                modalities=handled,
            )
            outcome = outcomes[facts] = judge.outcome(row)
        ids[outcome].append(pk)
    return RequirementsCheck(requirements=requirements, ids=ids)


def requirements_results(*, requirements: Requirements, model_ids: list[int]) -> list[ModelResult]:
    """The judge's findings for the given models, in the order of ``model_ids``.

    For the rows a page shows; as many queries as ``models_for_requirements``.
    """
    if not model_ids:
        return []
    found = {
        r.model.pk: r
        for r in models_for_requirements(
            requirements=requirements, models=AIModel.objects.filter(pk__in=model_ids)
        )
    }
    return [found[pk] for pk in model_ids if pk in found]


# --- the check, cached ------------------------------------------------------------------------

CHECK_CACHE_SECONDS = 300


def _check_stamp() -> str:
    """Moves whenever a table the check reads changes (see ``tables_stamp``); where only
    saves move it, a check cached before a deletion lives CHECK_CACHE_SECONDS at most."""
    return tables_stamp(
        models=(
            Provider,
            Licence,
            Modality,
            AIModel,
            AIModel.modalities.through,
            Source,
            ClaimKey,
            Claim,
            Price,
        ),
        fallback=(AIModel, Licence, Price, Claim),
    )


def requirements_check_cached(*, requirements: Requirements) -> RequirementsCheck:
    """``requirements_check`` over the whole catalogue, cached under a stamp of the latest save.

    Paging through the outcomes, or asking the same question again, then costs the
    stamp's query (4 without the triggers) instead of sorting every model again.
    """
    fields = dataclasses.asdict(requirements) | {"modalities": sorted(requirements.modalities)}
    question = hashlib.sha256(repr(sorted(fields.items())).encode()).hexdigest()[:32]
    key = f"atlas:requirements-check:{_check_stamp()}:{question}"
    check = cache.get(key)
    if check is None:
        check = requirements_check(requirements=requirements)
        cache.set(key, check, CHECK_CACHE_SECONDS)
    return check
