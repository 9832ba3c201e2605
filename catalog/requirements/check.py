"""Which models meet a buyer's requirements, and why: one selector for the web finder and the API.

Two passes over the one rule set in ``catalog.requirements.rules``:

- ``requirements_check`` gathers every model's facts in a constant number of queries (the
  database reduces the claims to a few facts per subject and key) and sorts the models into
  qualifies / conditional / fails by the rules' outcome; ``requirements_check_cached``
  keeps that under the catalogue's change stamp.
- ``requirements_results`` gathers the same facts for the rows a page shows, applies the
  same rules, and then attaches to each verdict the evidence it names (the deciding claim
  and its source, the licence, the price's source). That second step looks evidence up;
  it decides nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from django.core.cache import cache
from django.db import models
from django.db.models import QuerySet
from django.utils import timezone

from catalog.change_stamp import tables_stamp
from catalog.models import (
    AIModel,
    Claim,
    ClaimKey,
    Licence,
    LicenceTerm,
    Modality,
    Price,
    Provider,
    Source,
    Ternary,
)
from catalog.requirements import rules
from catalog.requirements.inputs import LABELS, Requirements
from catalog.requirements.rules import (
    ClaimFacts,
    ModelFacts,
    Outcome,
    PriceFacts,
    Status,
    Verdict,
)

# --- gathering the facts ---------------------------------------------------------------------


class _Price(NamedTuple):
    facts: PriceFacts
    source_id: int


NO_MODALITIES: frozenset[str] = frozenset()


@dataclasses.dataclass(frozen=True)
class _ClaimsRead:
    """Subjects' claims by (subject, key): their facts and the claims a finding may show.

    ``claim_ids`` holds, per subject and key, the first claim carrying each flag, and under
    "" the first blocking claim, else the first claim.
    """

    facts: dict[tuple[int, str], ClaimFacts] = dataclasses.field(default_factory=dict)
    claim_ids: dict[tuple[int, str], dict[str, int]] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class _Gathered:
    """What the rules read besides a model's own row, for a set of models."""

    keys: list[str]
    own: _ClaimsRead  # the models' own claims
    providers: _ClaimsRead  # their providers' claims
    prices: dict[int, _Price]  # by model
    modalities: dict[int, frozenset[str]]  # by model

    def claims(self, model_id: int, provider_id: int) -> tuple[ClaimFacts | None, ...]:
        """Per key, in ``keys`` order: the model's own claims when it has any, else its
        provider's."""
        own, providers = self.own.facts, self.providers.facts
        return tuple(
            own.get((model_id, key)) or providers.get((provider_id, key)) for key in self.keys
        )

    def claim_id(self, model_id: int, provider_id: int, key: str, shows: str) -> int:
        """The claim a finding under ``key`` shows: the first carrying the flag ``shows``;
        for "" (or a flag no claim carries), the first blocking one, else the first."""
        found = self.own.claim_ids.get((model_id, key))
        if found is None:
            found = self.providers.claim_ids[provider_id, key]
        return found.get(shows) or found[""]

    def facts(
        self, model_id: int, provider_id: int, weights: str, licence: Licence | None
    ) -> ModelFacts:
        claims = self.claims(model_id, provider_id)
        price = self.prices.get(model_id)
        return ModelFacts(
            weights=weights,
            licence=licence,
            price=price.facts if price is not None else None,
            modalities=self.modalities.get(model_id, NO_MODALITIES),
            claims={key: c for key, c in zip(self.keys, claims, strict=True) if c},
        )


def _gather(
    requirements: Requirements,
    *,
    model_ids: QuerySet | list[int] | None,
    provider_ids: Iterable[int] | None = None,
) -> _Gathered:
    """The facts of the given models (all when ``model_ids`` is None); at most three queries.

    Provider claims are read for ``provider_ids`` only when given, else for every provider.
    Prices and modalities are read only when a requested requirement reads them.
    """
    keys = rules.claim_keys(requirements)
    own, providers = _ClaimsRead(), _ClaimsRead()
    if keys:
        subjects = models.Q()
        if model_ids is not None:
            provider_claims = models.Q(model__isnull=True)
            if provider_ids is not None:
                provider_claims &= models.Q(provider__in=sorted(provider_ids))
            subjects = provider_claims | models.Q(model__in=model_ids)
        own, providers = _claim_facts(keys, subjects)
    prices: dict[int, _Price] = {}
    if rules.reads_prices(requirements):
        # A price announced for a later day is not yet the price.
        found = Price.objects.filter(currency="USD", as_of__lte=timezone.localdate())
        if model_ids is not None:
            found = found.filter(model__in=model_ids)
        # Newest first: the first row per model wins.
        for model_id, amount_in, amount_out, as_of, source_id in found.order_by(
            "model_id", "-as_of", "id"
        ).values_list("model_id", "input_per_mtok", "output_per_mtok", "as_of", "source_id"):
            if model_id not in prices:
                prices[model_id] = _Price(PriceFacts(amount_in, amount_out, as_of), source_id)
    modalities: dict[int, frozenset[str]] = {}
    if rules.reads_modalities(requirements):
        through = AIModel.modalities.through.objects.all()
        if model_ids is not None:
            through = through.filter(aimodel__in=model_ids)
        handled: dict[int, set[str]] = defaultdict(set)
        for model_id, slug in through.values_list("aimodel_id", "modality__slug"):
            handled[model_id].add(slug)
        modalities = {pk: frozenset(slugs) for pk, slugs in handled.items()}
    return _Gathered(keys, own, providers, prices, modalities)


def _claim_facts(keys: list[str], subjects: models.Q) -> tuple[_ClaimsRead, _ClaimsRead]:
    """The facts of each subject's claims under each key, the models' own and their
    providers'; one query, in which the database groups the claims."""
    usable = models.Case(
        models.When(scope_surface__in=rules.USABLE_SURFACES, then=models.Value(True)),
        default=models.Value(False),
        output_field=models.BooleanField(),
    )
    conditioned = ~models.Q(condition="") | ~models.Q(scope_plan="") | ~models.Q(scope_region="")
    flags = Claim.Flag.values
    first_with_flag = {
        f"first_{flag}_id": models.Min("id", filter=models.Q(value_flag=flag)) for flag in flags
    }
    rows = (
        Claim.objects.filter(subjects, key__key__in=keys)
        .exclude(status=Claim.Status.RETIRED)
        .order_by()
        .annotate(usable=usable)
        .values("model_id", "provider_id", "key__key", "usable")
        .annotate(
            first_id=models.Min("id"),
            first_conditioned_id=models.Min("id", filter=conditioned),
            first_disputed_id=models.Min("id", filter=models.Q(status=Claim.Status.DISPUTED)),
            first_review_id=models.Min("id", filter=models.Q(status=Claim.Status.NEEDS_REVIEW)),
            # "" when some claim carries no flag (a flag sorts after it).
            low_flag=models.Min("value_flag"),
            **first_with_flag,
        )
        .values_list(
            "model_id",
            "provider_id",
            "key__key",
            "usable",
            "first_id",
            "first_conditioned_id",
            "first_disputed_id",
            "first_review_id",
            "low_flag",
            *first_with_flag,
        )
    )
    own, providers = _ClaimsRead(), _ClaimsRead()
    # Thousands of groups say one of a few dozen things: each is one shared object.
    interned: dict[tuple, ClaimFacts] = {}
    for (
        model_id,
        provider_id,
        key,
        is_usable,
        first,
        conditioned,
        disputed,
        review,
        low,
        *with_flag,
    ) in rows:
        target = own if model_id is not None else providers
        subject = (model_id if model_id is not None else provider_id, key)
        # Claims on a usable surface win; the others count only when there are none.
        if not is_usable and subject in target.facts:
            continue
        # The first blocking claim, whichever its status, is the one a finding shows.
        if disputed is not None and (review is None or disputed < review):
            blocked_id, blocked = disputed, Claim.Status.DISPUTED
        elif review is not None:
            blocked_id, blocked = review, Claim.Status.NEEDS_REVIEW
        else:
            blocked_id, blocked = None, ""
        firsts = {flag: pk for flag, pk in zip(flags, with_flag, strict=True) if pk is not None}
        said = (blocked, frozenset(firsts) | {low}, first == conditioned)
        facts = interned.get(said)
        if facts is None:
            facts = interned[said] = ClaimFacts(*said)
        target.facts[subject] = facts
        target.claim_ids[subject] = firsts | {"": blocked_id or first}
    return own, providers


# --- sorting the whole catalogue -------------------------------------------------------------


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
    """Sort every model (or those of ``models``) into qualifies / conditional / fails.

    A constant number of queries whatever the size of the catalogue: the grouped claims,
    the prices and modalities when a requirement reads them, the licences, the models.
    Call ``requirements_results`` for the findings of the models a page shows.
    """
    queryset = models if models is not None else AIModel.objects.all()
    gathered = _gather(requirements, model_ids=None if models is None else queryset.values("pk"))
    licences = Licence.objects.in_bulk()
    # No ORDER BY: the model's default ordering joins the providers, and the rows are
    # sorted below anyway (a sliced queryset keeps its order, which chose its models).
    unordered = queryset if queryset.query.is_sliced else queryset.order_by()
    rows = list(unordered.values_list("pk", "name", "provider_id", "weights", "licence_id"))
    # Sorted here, not by the database, so the order is the same whatever the collation.
    rows.sort(key=lambda r: (r[1].lower(), r[0]))
    ids: dict[str, list[int]] = {outcome: [] for outcome in Outcome.values}
    # A model's outcome depends only on its facts, and thousands of models share a few
    # hundred combinations of them, so each combination is judged once.
    outcomes: dict[tuple, str] = {}
    own, providers, prices = gathered.own.facts, gathered.providers.facts, gathered.prices
    for pk, _name, provider_id, weights, licence_id in rows:
        claims = tuple(
            own.get((pk, key)) or providers.get((provider_id, key)) for key in gathered.keys
        )
        price = prices.get(pk)
        handled = gathered.modalities.get(pk, NO_MODALITIES)
        combination = (weights, licence_id, price and price.facts, handled, claims)
        outcome = outcomes.get(combination)
        if outcome is None:
            facts = gathered.facts(pk, provider_id, weights, licences.get(licence_id))
            outcome = outcomes[combination] = rules.outcome(
                verdict.status for _name, verdict in rules.verdicts(facts, requirements)
            )
        ids[outcome].append(pk)
    return RequirementsCheck(requirements=requirements, ids=ids)


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


# --- the rows a page shows, with their evidence ----------------------------------------------


@dataclasses.dataclass(frozen=True)
class Finding:
    """One requirement's verdict for one model, with the evidence it names."""

    requirement: str
    status: str
    reason: str
    condition: str = ""
    claim: Claim | None = None
    licence: Licence | None = None
    source: Source | None = None
    checked_at: dt.date | None = None
    # The licence's own words behind a verdict decided by its terms, when they are quoted.
    term: LicenceTerm | None = None

    @property
    def quote(self) -> str:
        return self.term.quote if self.term is not None else ""

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
        return [f for f in self.findings if f.status in rules.FAILING]

    @property
    def conditions(self) -> list[Finding]:
        return [f for f in self.findings if f.status == Status.CONDITIONAL]


def requirements_results(*, requirements: Requirements, model_ids: list[int]) -> list[ModelResult]:
    """The findings for the given models, in the order of ``model_ids``.

    For the rows a page shows: as many queries as ``models_for_requirements``.
    """
    if not model_ids:
        return []
    found = {
        r.model.pk: r
        for r in _judge(requirements, AIModel.objects.filter(pk__in=model_ids), model_ids)
    }
    return [found[pk] for pk in model_ids if pk in found]


def models_for_requirements(
    *, requirements: Requirements, models: QuerySet[AIModel] | None = None
) -> list[ModelResult]:
    """Every model (or those of ``models``) with its findings, in a constant number of queries.

    Ordered qualifies, conditional, fails, then by model name: the order of
    ``requirements_check``.
    """
    queryset = models if models is not None else AIModel.objects.all()
    results = _judge(requirements, queryset, None)
    order = {Outcome.QUALIFIES: 0, Outcome.CONDITIONAL: 1, Outcome.FAILS: 2}
    results.sort(key=lambda r: (order[r.outcome], r.model.name.lower(), r.model.pk))
    return results


def _judge(
    requirements: Requirements, queryset: QuerySet[AIModel], model_ids: list[int] | None
) -> list[ModelResult]:
    """The rules' verdicts for the models of ``queryset``, then the evidence they name."""
    model_list = list(queryset.select_related("provider", "licence"))
    if not model_list:
        return []
    gathered = _gather(
        requirements,
        model_ids=model_ids if model_ids is not None else queryset.values("pk"),
        provider_ids={m.provider_id for m in model_list},
    )
    judged = []
    for model in model_list:
        facts = gathered.facts(model.pk, model.provider_id, model.weights, model.licence)
        found = list(rules.verdicts(facts, requirements))
        outcome = rules.outcome(verdict.status for _name, verdict in found)
        judged.append((model, outcome, found))
    return _with_evidence(judged, gathered)


def _with_evidence(
    judged: list[tuple[AIModel, str, list[tuple[str, Verdict]]]], gathered: _Gathered
) -> list[ModelResult]:
    """Results whose findings carry the claim, licence or source each verdict names."""
    claim_ids: dict[tuple[int, str], int] = {}
    price_sources: dict[int, int] = {}
    for model, _outcome, found in judged:
        for _name, verdict in found:
            if verdict.evidence == rules.EVIDENCE_CLAIM:
                claim_ids[model.pk, verdict.key] = gathered.claim_id(
                    model.pk, model.provider_id, verdict.key, verdict.shows
                )
            elif verdict.evidence == rules.EVIDENCE_PRICE:
                price_sources[model.pk] = gathered.prices[model.pk].source_id
    claims = (
        Claim.objects.select_related("key", "source").in_bulk(set(claim_ids.values()))
        if claim_ids
        else {}
    )
    sources = Source.objects.in_bulk(set(price_sources.values())) if price_sources else {}
    terms = _licence_terms(
        {
            model.licence_id
            for model, _outcome, found in judged
            for _name, verdict in found
            if verdict.evidence == rules.EVIDENCE_TERMS and model.licence_id is not None
        }
    )
    # A reason names a claim key by its label: the deciding claim's, or (no claim) the key's.
    unclaimed = {
        verdict.key
        for _model, _outcome, found in judged
        for _name, verdict in found
        if verdict.key and not verdict.evidence
    }
    labels = (
        dict(ClaimKey.objects.filter(key__in=unclaimed).values_list("key", "label"))
        if unclaimed
        else {}
    )
    results = []
    for model, outcome, found in judged:
        findings = []
        for name, verdict in found:
            reason = verdict.reason
            if rules.KEY_NAME in reason:
                if verdict.evidence == rules.EVIDENCE_CLAIM:
                    label = claims[claim_ids[model.pk, verdict.key]].key.label
                else:
                    label = labels.get(verdict.key) or verdict.key.replace("_", " ").capitalize()
                reason = reason.replace(rules.KEY_NAME, label)
            finding = Finding(name, verdict.status, reason)
            if verdict.evidence == rules.EVIDENCE_CLAIM:
                claim = claims[claim_ids[model.pk, verdict.key]]
                finding = dataclasses.replace(
                    finding,
                    condition=_claim_condition(claim),
                    claim=claim,
                    source=claim.source,
                    checked_at=claim.checked_at,
                )
            elif verdict.evidence == rules.EVIDENCE_TERMS:
                term = _deciding_term(model.licence, verdict.key, terms)
                finding = dataclasses.replace(
                    finding,
                    reason=_quoted(verdict.reason, term, verdict.status),
                    condition=_terms_condition(model.licence, verdict.key),
                    licence=model.licence,
                    source=term.source if term is not None else None,
                    term=term,
                )
            elif verdict.evidence == rules.EVIDENCE_LICENCE:
                finding = dataclasses.replace(finding, licence=model.licence)
            elif verdict.evidence == rules.EVIDENCE_PRICE:
                finding = dataclasses.replace(
                    finding,
                    source=sources[price_sources[model.pk]],
                    checked_at=gathered.prices[model.pk].facts.as_of,
                )
            findings.append(finding)
        results.append(ModelResult(model=model, outcome=outcome, findings=findings))
    return results


def _claim_condition(claim: Claim) -> str:
    """The limits a claim states: its condition, plan, region and surface."""
    return "; ".join(
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


# The licence term that speaks to each of the licence's fields the rules read.
TERM_FOR_FIELD = {
    "commercial_use": LicenceTerm.Key.COMMERCIAL_USE,
    "weight_redistribution": LicenceTerm.Key.WEIGHT_REDISTRIBUTION,
    "attribution_required": LicenceTerm.Key.ATTRIBUTION,
}


def _licence_terms(licence_ids: set[int]) -> dict[tuple[int, str], LicenceTerm]:
    """The quoted terms of the given licences, by (licence, key); one query, none if none."""
    if not licence_ids:
        return {}
    found = LicenceTerm.objects.filter(licence__in=licence_ids).exclude(quote="")
    return {(t.licence_id, t.key): t for t in found.select_related("source")}


def _deciding_term(
    licence: Licence, field: str, terms: dict[tuple[int, str], LicenceTerm]
) -> LicenceTerm | None:
    """The term whose words decide ``field``: a research licence's own restriction first,
    whatever is asked; for commercial use under conditions, the threshold; else the term on
    the field itself."""
    if licence.kind == Licence.Kind.RESEARCH_ONLY:
        term = terms.get((licence.pk, LicenceTerm.Key.RESEARCH_ONLY))
        if term is not None:
            return term
    if field == "commercial_use" and getattr(licence, field) == Ternary.CONDITIONAL:
        # What conditions commercial use is most often a size threshold: its words first.
        term = terms.get((licence.pk, LicenceTerm.Key.USER_THRESHOLD))
        if term is not None:
            return term
    key = TERM_FOR_FIELD.get(field)
    return terms.get((licence.pk, key)) if key else None


def _quoted(reason: str, term: LicenceTerm | None, status: str) -> str:
    """The reason, with the licence's words when they are what holds the model back."""
    if term is None or status == Status.MET:
        return reason
    return f"{reason} The licence says: “{term.quote}”"


def _terms_condition(licence: Licence, field: str) -> str:
    """The limits a licence puts on what its ``field`` permits."""
    if licence.kind == Licence.Kind.RESEARCH_ONLY:
        return "research and non-production use only"
    if getattr(licence, field) != Ternary.CONDITIONAL:
        return ""
    return (
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
