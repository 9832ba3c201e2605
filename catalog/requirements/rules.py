"""The finder's rules: how a model's facts decide each requirement, and the model's outcome.

Each requirement has one rule, a function from a model's ``ModelFacts`` (its weights,
licence, latest USD price, modalities and what its claims say per key) to a ``Verdict``:
met, met under conditions, unmet or unknown, with the reason in words and the kind of
evidence a finding shows for it. ``outcome`` turns the verdicts into qualifies /
conditional / fails; unknown never counts as yes.

The rules read facts only, never the database: ``catalog.requirements.check`` gathers the
facts for the whole catalogue to sort it, and for the rows a page shows, to which it
then attaches the deciding claim, licence or source named by each verdict.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal
from typing import NamedTuple

from django.db import models

from catalog.models import AIModel, Claim, Licence, Ternary
from catalog.requirements.inputs import Requirements


class Outcome(models.TextChoices):
    QUALIFIES = "qualifies", "Qualifies"
    CONDITIONAL = "conditional", "Qualifies under conditions"
    FAILS = "fails", "Does not qualify"


class Status(models.TextChoices):
    MET = "met", "Met"
    CONDITIONAL = "conditional", "Met under conditions"
    UNMET = "unmet", "Not met"
    UNKNOWN = "unknown", "Unknown"


# Unknown never counts as yes: a requirement whose answer is not known fails the model
# exactly as one that is not met.
FAILING = frozenset({Status.UNMET, Status.UNKNOWN})


def outcome(statuses: Iterable[str]) -> str:
    """The model's outcome from the statuses of its requirements.

    Fails if any requirement is unmet or unknown, qualifies under conditions if any is met
    only under conditions, qualifies otherwise. Stops at the first failing status, so a
    lazy iterable decides only as many requirements as it must.
    """
    result = Outcome.QUALIFIES
    for status in statuses:
        if status in FAILING:
            return Outcome.FAILS
        if status == Status.CONDITIONAL:
            result = Outcome.CONDITIONAL
    return result


# --- the facts the rules read ----------------------------------------------------------------


class ClaimFacts(NamedTuple):
    """What one subject's claims under one key say (the database reduces them to this).

    The claims are the subject's on a usable surface when it has any, else all of its
    claims under the key; retired claims are left out. "First" is the lowest id.
    """

    blocked: str  # the status of the first disputed or awaiting-review claim, else ""
    flags: frozenset[str]  # the flags the claims carry, each once ("" for a claim without one)
    first_conditioned: bool  # whether the first claim has a condition, plan or region


class PriceFacts(NamedTuple):
    """The model's newest USD price."""

    input: Decimal | None
    output: Decimal | None
    as_of: dt.date


class ModelFacts(NamedTuple):
    weights: str
    licence: Licence | None
    price: PriceFacts | None
    modalities: frozenset[str]
    # By claim key: the model's own claims under it when it has any, else its provider's;
    # a key with no claim is missing.
    claims: Mapping[str, ClaimFacts]


# What a finding shows for a verdict, attached afterwards to the rows a page shows:
EVIDENCE_CLAIM = "claim"  # the deciding claim under ``key``, its source, condition and date
EVIDENCE_TERMS = "terms"  # the model's licence, with the conditions its ``key`` field carries
EVIDENCE_LICENCE = "licence"  # the model's licence, for context
EVIDENCE_PRICE = "price"  # the newest USD price's source and date


class Verdict(NamedTuple):
    status: str
    reason: str
    evidence: str = ""  # one of the EVIDENCE_* kinds, or "" when nothing is recorded
    key: str = ""  # the claim key or licence field the evidence is under
    # For EVIDENCE_CLAIM, the flag whose first claim is shown; "" shows the first blocking
    # claim, else the first claim.
    shows: str = ""


# Where a reason names a claim key. The labels people read live in the database, not in the
# facts, so the rows a page shows put the key's label there (``check._with_evidence``).
KEY_NAME = "{key}"

# Claim keys the rules read; a model's own claim wins over its provider's.
KEY_COMMERCIAL = "commercial_use_allowed"
KEY_TRAINING = "training_use_of_input"
KEY_EU = "eu_data_residency"
KEY_FINE_TUNING = "fine_tuning_api"
USABLE_SURFACES = (Claim.Surface.ANY, Claim.Surface.API, Claim.Surface.ENTERPRISE)


class ClaimNeed(NamedTuple):
    """What a requirement asks of the claims under ``key``: the flag that meets it."""

    key: str
    meets: str  # Claim.Flag.YES or Claim.Flag.NO

    @property
    def fails(self) -> str:
        return Claim.Flag.NO if self.meets == Claim.Flag.YES else Claim.Flag.YES


# Which claim value meets each requirement decided from claims, declared here and nowhere
# else. The key says what the provider does, the requirement what the buyer wants, so their
# polarity may differ: "no training on our inputs" is met by training_use_of_input = no,
# the one key read here whose polarity is inverted.
CLAIM_NEEDS: dict[str, ClaimNeed] = {
    "commercial_use": ClaimNeed(KEY_COMMERCIAL, meets=Claim.Flag.YES),
    "eu_residency": ClaimNeed(KEY_EU, meets=Claim.Flag.YES),
    "self_hosting_or_eu": ClaimNeed(KEY_EU, meets=Claim.Flag.YES),  # its EU half
    "no_training_on_inputs": ClaimNeed(KEY_TRAINING, meets=Claim.Flag.NO),
    "fine_tuning": ClaimNeed(KEY_FINE_TUNING, meets=Claim.Flag.YES),
}


def modality_need(slug: str) -> ClaimNeed:
    """A modality the model is not recorded to handle is met by ``<slug>_input = yes``."""
    return ClaimNeed(f"{slug}_input", meets=Claim.Flag.YES)


def claim_keys(requirements: Requirements) -> list[str]:
    """The claim keys the requested requirements read, sorted."""
    keys = {CLAIM_NEEDS[name].key for name in requirements.requested() if name in CLAIM_NEEDS}
    keys |= {modality_need(slug).key for slug in requirements.modalities}
    return sorted(keys)


def reads_prices(requirements: Requirements) -> bool:
    return requirements.max_input_price is not None or requirements.max_output_price is not None


def reads_modalities(requirements: Requirements) -> bool:
    return bool(requirements.modalities)


# --- deciding from a claim or a licence ------------------------------------------------------


def _by_claim(facts: ModelFacts, need: ClaimNeed) -> Verdict:
    """Decide from the claims under ``need.key``."""
    return _claims_verdict(facts.claims.get(need.key), need)


# Thousands of models share a few claim facts per key: each is put into words once.
@functools.lru_cache(maxsize=4096)
def _claims_verdict(claims: ClaimFacts | None, need: ClaimNeed) -> Verdict:
    """Met when the claims say ``need.meets``, under conditions when the first claim has
    one or when the others say it is only partly so; unmet when they say the opposite.

    Unknown never counts as yes: no claim, a disputed or awaiting-review claim, claims
    that disagree otherwise, and a flag of "unknown" all decide nothing. A finding shows
    the claim that decided: the partial one for a partial answer, the dissenting one
    when sources disagree.
    """
    key, meets, fails, name = need.key, need.meets, need.fails, KEY_NAME
    if claims is None:
        # No evidence to show, but the key, so the reason can name it.
        return Verdict(Status.UNKNOWN, f"No claim recorded for “{name}”.", key=key)
    if claims.blocked:
        status = Claim.Status(claims.blocked).label.lower()
        return Verdict(Status.UNKNOWN, f"{name}: {status}.", EVIDENCE_CLAIM, key)
    flags, partial = claims.flags, Claim.Flag.PARTIAL
    if flags == {meets}:
        if claims.first_conditioned:
            reason = f"{name}: {meets}, with a condition."
            return Verdict(Status.CONDITIONAL, reason, EVIDENCE_CLAIM, key)
        return Verdict(Status.MET, f"{name}: {meets}.", EVIDENCE_CLAIM, key)
    if flags == {partial}:
        reason = f"{name}: only partly."
        return Verdict(Status.CONDITIONAL, reason, EVIDENCE_CLAIM, key, partial)
    if flags == {meets, partial}:
        reason = f"{name}: {meets}, but another source says only partly."
        return Verdict(Status.CONDITIONAL, reason, EVIDENCE_CLAIM, key, partial)
    if flags == {fails}:
        return Verdict(Status.UNMET, f"{name}: {fails}.", EVIDENCE_CLAIM, key)
    if len(flags) > 1:
        said = " / ".join(sorted(flag or "no flag" for flag in flags))
        dissent = next((f for f in (fails, partial, Claim.Flag.UNKNOWN) if f in flags), "")
        reason = f"Sources disagree on “{name}” ({said})."
        return Verdict(Status.UNKNOWN, reason, EVIDENCE_CLAIM, key, dissent)
    return Verdict(Status.UNKNOWN, f"{name}: not known.", EVIDENCE_CLAIM, key)


_TERMS_STATUS = {
    Ternary.YES: Status.MET,
    Ternary.CONDITIONAL: Status.CONDITIONAL,
    Ternary.NO: Status.UNMET,
}
_KIND_LABELS = {kind: label.lower() for kind, label in Licence.Kind.choices}
_TERMS_VERB = {
    Status.MET: "permits",
    Status.CONDITIONAL: "permits under conditions",
    Status.UNMET: "does not permit",
}


def _by_licence(facts: ModelFacts, field: str, what: str) -> Verdict:
    """Decide from the licence's ``field`` (a ``Ternary``); no licence is unknown."""
    licence = facts.licence
    if licence is None:
        return Verdict(Status.UNKNOWN, f"No licence recorded, so {what} is not known.")
    status = _TERMS_STATUS.get(getattr(licence, field), Status.UNKNOWN)
    verb = _TERMS_VERB.get(status, "does not say whether it permits")
    reason = f"{licence.name} ({_KIND_LABELS.get(licence.kind, licence.kind)}) {verb} {what}."
    return Verdict(status, reason, EVIDENCE_TERMS, field)


# --- one rule per requirement ----------------------------------------------------------------


def _commercial_use(facts: ModelFacts, req: Requirements) -> Verdict:
    if facts.weights == AIModel.Weights.OPEN:
        # Open weights: the licence on the weights decides, even when it is unknown.
        return _by_licence(facts, "commercial_use", "commercial use")
    return _by_claim(facts, CLAIM_NEEDS["commercial_use"])


def _self_hosting(facts: ModelFacts, req: Requirements) -> Verdict:
    if facts.weights == AIModel.Weights.API_ONLY:
        return Verdict(Status.UNMET, "API only: the weights are not published.")
    if facts.weights == AIModel.Weights.UNKNOWN:
        return Verdict(Status.UNKNOWN, "Whether the weights are published is not recorded.")
    return _by_licence(facts, "self_hosting", "self-hosting")


def _eu_residency(facts: ModelFacts, req: Requirements) -> Verdict:
    return _by_claim(facts, CLAIM_NEEDS["eu_residency"])


_RANK = {Status.MET: 0, Status.CONDITIONAL: 1, Status.UNMET: 2, Status.UNKNOWN: 3}


def _self_hosting_or_eu(facts: ModelFacts, req: Requirements) -> Verdict:
    # The better of the two; self-hosting when they are as good.
    both = (_self_hosting(facts, req), _eu_residency(facts, req))
    return min(both, key=lambda verdict: _RANK[verdict.status])


def _no_training_on_inputs(facts: ModelFacts, req: Requirements) -> Verdict:
    if (
        facts.weights == AIModel.Weights.OPEN
        and (req.self_hosting or req.self_hosting_or_eu)
        and _self_hosting(facts, req).status == Status.MET
    ):
        return Verdict(
            Status.MET, "Self-hosted: inputs never reach the provider.", EVIDENCE_LICENCE
        )
    return _by_claim(facts, CLAIM_NEEDS["no_training_on_inputs"])


def _fine_tuning(facts: ModelFacts, req: Requirements) -> Verdict:
    if facts.weights == AIModel.Weights.OPEN and facts.licence is not None:
        return _by_licence(facts, "fine_tuning", "fine-tuning")
    return _by_claim(facts, CLAIM_NEEDS["fine_tuning"])


def _redistribution(facts: ModelFacts, req: Requirements) -> Verdict:
    if facts.weights == AIModel.Weights.API_ONLY:
        return Verdict(Status.UNMET, "API only: there are no weights to redistribute.")
    return _by_licence(facts, "weight_redistribution", "redistribution of the weights")


def _price(facts: ModelFacts, req: Requirements, *, which: str, budget: Decimal) -> Verdict:
    price = facts.price
    amount = getattr(price, which) if price is not None else None
    if amount is None:
        if facts.weights == AIModel.Weights.OPEN and req.self_hosting:
            return Verdict(
                Status.MET,
                "Self-hosted: no per-token fee (you pay for your own compute).",
                EVIDENCE_LICENCE,
            )
        return Verdict(Status.UNKNOWN, "No USD price recorded.")
    status = Status.MET if amount <= budget else Status.UNMET
    reason = (
        f"{which.capitalize()} price {amount.normalize():f} USD per million tokens "
        f"(budget {budget.normalize():f}), as of {price.as_of:%Y-%m-%d}."
    )
    return Verdict(status, reason, EVIDENCE_PRICE)


def _max_input_price(facts: ModelFacts, req: Requirements) -> Verdict:
    return _price(facts, req, which="input", budget=req.max_input_price)


def _max_output_price(facts: ModelFacts, req: Requirements) -> Verdict:
    return _price(facts, req, which="output", budget=req.max_output_price)


def _modalities(facts: ModelFacts, req: Requirements) -> Verdict:
    recorded = facts.modalities
    handles = Verdict(Status.MET, f"Handles {', '.join(sorted(req.modalities))}.")
    # A modality the model is not recorded to handle may still be claimed for it.
    for slug in sorted(req.modalities - recorded):
        verdict = _by_claim(facts, modality_need(slug))
        if verdict.status != Status.MET:
            if not verdict.evidence and recorded:
                listed = ", ".join(sorted(recorded))
                reason = f"Recorded modalities ({listed}) do not include {slug}."
                return Verdict(Status.UNMET, reason)
            return verdict
    return handles


RULES: dict[str, Callable[[ModelFacts, Requirements], Verdict]] = {
    "commercial_use": _commercial_use,
    "self_hosting": _self_hosting,
    "eu_residency": _eu_residency,
    "self_hosting_or_eu": _self_hosting_or_eu,
    "no_training_on_inputs": _no_training_on_inputs,
    "fine_tuning": _fine_tuning,
    "redistribution": _redistribution,
    "max_input_price": _max_input_price,
    "max_output_price": _max_output_price,
    "modalities": _modalities,
}


def verdicts(facts: ModelFacts, requirements: Requirements) -> Iterable[tuple[str, Verdict]]:
    """Each requested requirement's name and verdict, lazily, in the order requested."""
    for name in requirements.requested():
        yield name, RULES[name](facts, requirements)
