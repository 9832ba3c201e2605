"""The catalogue loader.

``catalogue_load`` reads the human-edited data file and brings the database in
line with it inside one transaction: records are matched by natural keys, only
changed fields are written (so every change leaves one history record and a
second run leaves none), and any error rolls everything back and is reported
with the file, the record and the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
from collections import Counter
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from assessments.models import (
    Assessment,
    AssessmentSource,
    Criterion,
    Rating,
    RatingEvidence,
)
from catalog.catalogue_file import (
    CLAIM_FIELDS,
    DEFAULT_CATALOGUE,
    EVIDENCE_FIELDS,
    FAQ_FIELDS,
    PRICE_FIELDS,
    RATING_FIELDS,
    SECTIONS,
    TERM_FIELDS,
    CatalogueError,
    catalogue_duplicates,
    catalogue_read,
    record_where,
)
from catalog.models import (
    FAQ,
    AIModel,
    Claim,
    ClaimKey,
    Comparison,
    Licence,
    LicenceTerm,
    Modality,
    Price,
    Provider,
    Source,
)


@dataclasses.dataclass
class LoadReport:
    created: Counter = dataclasses.field(default_factory=Counter)
    updated: Counter = dataclasses.field(default_factory=Counter)
    unchanged: Counter = dataclasses.field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def summary(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        parts = [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
            f"{self.unchanged[kind]} unchanged"
            for kind in kinds
        ]
        return "\n".join(parts)


def catalogue_load(*, path: Path = DEFAULT_CATALOGUE) -> LoadReport:
    """Load the catalogue file at ``path`` in one transaction.

    Returns what was created, updated and left unchanged. Raises
    ``CatalogueError`` naming every bad record and field; the database is then
    left exactly as it was.
    """
    path = Path(path)
    data = catalogue_read(path)
    loader = _Loader(path)
    with transaction.atomic():
        loader.run(data)
        if loader.errors:
            # Raising inside the atomic block rolls back everything written so far.
            raise CatalogueError(path, loader.errors)
    return loader.report


def _same(obj: models.Model, name: str, value: Any) -> bool:
    field = obj._meta.get_field(name)
    if field.many_to_one:
        # Compare ids: reading an unset relation on a new row would raise.
        return getattr(obj, field.attname) == (value.pk if value is not None else None)
    return getattr(obj, name) == value


class _Skip(Exception):
    """A record could not be used; its error is already recorded."""


class _Loader:
    def __init__(self, path: Path) -> None:
        self.name = path.name
        self.errors: list[str] = []
        self.report = LoadReport()
        kind = "folder" if path.is_dir() else "file"
        self.reason = f"Loaded from the catalogue {kind} {path.name}"
        self.modalities: dict[str, Modality] = {}
        self.keys: dict[str, ClaimKey] = {}
        self.licences: dict[str, Licence] = {}
        self.providers: dict[str, Provider] = {}
        self.sources: dict[str, Source] = {}
        self.models: dict[str, AIModel] = {}
        self.criteria: dict[str, Criterion] = {}
        self.created_models: set[str] = set()

    # -- plumbing --------------------------------------------------------------------------

    def error(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def records(
        self, data: dict, section: str, allowed: set[str] | None = None, *, label: str = ""
    ) -> list:
        """Return (where, record) pairs; ``label`` names a nested section in messages."""
        label = label or section
        items = data.get(section) or []
        if not isinstance(items, list):
            self.error(label, "must be a list of records")
            return []
        allowed = allowed if allowed is not None else SECTIONS[section]
        good = []
        for index, item in enumerate(items):
            where = record_where(label, index, item)
            if not isinstance(item, dict):
                self.error(where, "must be a mapping of fields")
                continue
            unknown = sorted(set(item) - allowed)
            if unknown:
                self.error(
                    where,
                    f"field {unknown[0]!r}: unknown field; expected one of {sorted(allowed)}",
                )
                continue
            good.append((where, item))
        return good

    def lookup(self, table: dict, where: str, field: str, handle: Any, what: str) -> Any:
        if handle not in table:
            self.error(where, f"field {field!r}: unknown {what} {handle!r}")
            raise _Skip
        return table[handle]

    def upsert(
        self,
        model: type[models.Model],
        where: str,
        lookup: dict[str, Any],
        values: dict[str, Any],
        *,
        create_only: dict[str, Any] | None = None,
        m2m: dict[str, list] | None = None,
    ) -> Any:
        """Create or update one row; write only what differs. Raises _Skip on a bad record."""
        obj = model.objects.filter(**lookup).first()
        created = obj is None
        if created:
            obj = model(**lookup, **(create_only or {}))
        changed = [name for name, value in values.items() if not _same(obj, name, value)]
        for name in changed:
            setattr(obj, name, values[name])
        if created or changed:
            try:
                # Check constraints are left to the database (below): validating them
                # here costs one query per constraint per row.
                obj.full_clean(validate_constraints=False)
            except ValidationError as exc:
                for field, messages in exc.message_dict.items():
                    label = "record" if field == "__all__" else f"field {field!r}"
                    self.error(where, f"{label}: {' '.join(messages)}")
                raise _Skip from None
            obj._change_reason = self.reason
            try:
                with transaction.atomic():
                    obj.save()
            except IntegrityError as exc:
                self.error(where, f"record: violates a database constraint ({exc})")
                raise _Skip from None
        m2m_changed = False
        for name, wanted in (m2m or {}).items():
            manager = getattr(obj, name)
            if {o.pk for o in manager.all()} != {o.pk for o in wanted}:
                manager.set(wanted)
                m2m_changed = True
        kind = model._meta.verbose_name_plural
        if created:
            self.report.created[kind] += 1
        elif changed or m2m_changed:
            self.report.updated[kind] += 1
        else:
            self.report.unchanged[kind] += 1
        return obj

    def date(self, where: str, field: str, value: Any, *, required: bool = True) -> dt.date | None:
        if value is None and not required:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value)
            except ValueError:
                pass
        self.error(where, f"field {field!r}: expected a date as YYYY-MM-DD, got {value!r}")
        raise _Skip

    def decimal(self, where: str, field: str, value: Any) -> Decimal | None:
        if value is None:
            return None
        if isinstance(value, bool):
            self.error(where, f"field {field!r}: expected a number, got {value!r}")
            raise _Skip
        try:
            number = Decimal(str(value))
        except (InvalidOperation, ValueError):
            self.error(where, f"field {field!r}: expected a number, got {value!r}")
            raise _Skip from None
        if not number.is_finite():
            self.error(where, f"field {field!r}: expected a finite number, got {value!r}")
            raise _Skip
        return number

    @staticmethod
    def flag(value: Any) -> Any:
        # YAML 1.1 reads a bare yes/no as a boolean; the catalogue means the flag.
        if value is True:
            return "yes"
        if value is False:
            return "no"
        return value

    def text(self, item: dict, field: str) -> str:
        value = item.get(field)
        return "" if value is None else str(value).strip()

    # -- sections ----------------------------------------------------------------------------

    def run(self, data: dict) -> None:
        unknown = sorted(set(data) - set(SECTIONS))
        for section in unknown:
            self.error(section, f"unknown section; expected one of {sorted(SECTIONS)}")
        self.errors += catalogue_duplicates(data)
        steps = [
            self.load_modalities,
            self.load_claim_keys,
            self.load_licences,
            self.load_providers,
            self.load_sources,
            self.load_licence_terms,
            self.load_provider_details,
            self.load_models,
            self.load_model_details,
            self.load_criteria,
            self.load_assessments,
            self.load_comparisons,
        ]
        for step in steps:
            step(data)

    def each(self, records: list, handler) -> None:
        for where, item in records:
            try:
                handler(where, item)
            except _Skip:
                continue

    def load_modalities(self, data: dict) -> None:
        def handle(where: str, item: dict) -> None:
            obj = self.upsert(
                Modality, where, {"slug": item.get("slug")}, {"name": self.text(item, "name")}
            )
            self.modalities[obj.slug] = obj

        self.each(self.records(data, "modalities"), handle)

    def load_claim_keys(self, data: dict) -> None:
        def handle(where: str, item: dict) -> None:
            values = {
                f: self.text(item, f)
                for f in ("label", "group", "value_type", "unit", "description")
            }
            obj = self.upsert(ClaimKey, where, {"key": item.get("key")}, values)
            self.keys[obj.key] = obj

        self.each(self.records(data, "claim_keys"), handle)

    def load_licences(self, data: dict) -> None:
        text_fields = ("spdx_id", "name", "kind", "url", "summary", "output_restrictions")
        flag_fields = (
            "commercial_use", "self_hosting", "fine_tuning", "weight_redistribution",
            "attribution_required",
        )  # fmt: skip

        def handle(where: str, item: dict) -> None:
            values: dict[str, Any] = {f: self.text(item, f) for f in text_fields}
            values |= {f: self.flag(item.get(f, "unknown")) for f in flag_fields}
            values |= {f: item.get(f) or [] for f in ("permissions", "conditions", "limitations")}
            values["user_threshold"] = item.get("user_threshold")
            obj = self.upsert(Licence, where, {"slug": item.get("slug")}, values)
            self.licences[obj.slug] = obj

        self.each(self.records(data, "licences"), handle)

    def load_licence_terms(self, data: dict) -> None:
        """Each licence's obligations with their quotes, once its sources are known."""
        for l_where, l_item in self.records(data, "licences"):
            if (licence := self.licences.get(l_item.get("slug"))) is None:
                continue
            terms = {"t": l_item.get("terms")}
            records = self.records(terms, "t", TERM_FIELDS, label=f"{l_where}.terms")
            self.each(records, functools.partial(self.licence_term, licence=licence))

    def licence_term(self, where: str, item: dict, *, licence: Licence) -> None:
        source = self.lookup(self.sources, where, "source", item.get("source"), "source")
        values = {f: self.text(item, f) for f in ("note", "quote")}
        values |= {"value": self.flag(item.get("value")), "number": item.get("number")}
        values |= {"source": source, "read_on": self.date(where, "read_on", item.get("read_on"))}
        self.upsert(LicenceTerm, where, {"licence": licence, "key": self.text(item, "key")}, values)

    def load_providers(self, data: dict) -> None:
        fields = (
            "name", "kind", "status", "headquarters_country", "headquarters_address", "website",
            "summary", "analysis",
        )  # fmt: skip

        def handle(where: str, item: dict) -> None:
            values: dict[str, Any] = {f: self.text(item, f) for f in fields}
            values["status"] = values["status"] or Provider.Status.ACTIVE
            values["founded_year"] = item.get("founded_year")
            obj = self.upsert(Provider, where, {"slug": item.get("slug")}, values)
            self.providers[obj.slug] = obj

        self.each(self.records(data, "providers"), handle)

    def load_sources(self, data: dict) -> None:
        def handle(where: str, item: dict, provider: Provider | None) -> None:
            # A slug defined twice is reported by ``catalogue_duplicates``.
            slug = item.get("slug")
            values = {
                f: self.text(item, f) for f in ("url", "title", "publisher", "doc_type", "language")
            }
            values["language"] = values["language"] or "en"
            if item.get("provider") is not None:
                provider = self.lookup(
                    self.providers, where, "provider", item["provider"], "provider"
                )
            values["provider"] = provider
            self.sources[slug] = self.upsert(Source, where, {"slug": slug}, values)

        for where, item in self.records(data, "sources"):
            try:
                handle(where, item, None)
            except _Skip:
                continue
        for p_where, p_item in self.records(data, "providers"):
            provider = self.providers.get(p_item.get("slug"))
            if provider is None:
                continue
            allowed = SECTIONS["sources"] - {"provider"}
            nested = self.records(
                {"s": p_item.get("sources")}, "s", allowed, label=f"{p_where}.sources"
            )
            for where, item in nested:
                try:
                    handle(where, item, provider)
                except _Skip:
                    continue

    def load_provider_details(self, data: dict) -> None:
        for p_where, p_item in self.records(data, "providers"):
            provider = self.providers.get(p_item.get("slug"))
            if provider is None:
                continue
            claims = self.records(
                {"c": p_item.get("claims")}, "c", CLAIM_FIELDS, label=f"{p_where}.claims"
            )
            for where, item in claims:
                try:
                    self.claim(where, item, provider=provider)
                except _Skip:
                    continue
            faqs = self.records({"f": p_item.get("faq")}, "f", FAQ_FIELDS, label=f"{p_where}.faq")
            for index, (where, item) in enumerate(faqs):
                try:
                    self.faq(where, item, provider, index)
                except _Skip:
                    continue

    def claim(
        self,
        where: str,
        item: dict,
        *,
        provider: Provider | None = None,
        model: AIModel | None = None,
    ) -> None:
        key = self.lookup(self.keys, where, "key", item.get("key"), "claim key")
        source = self.lookup(self.sources, where, "source", item.get("source"), "source")
        checked = self.date(where, "checked", item.get("checked"))
        value = self.flag(item.get("value"))
        values: dict[str, Any] = {"value_flag": "", "value_number": None, "value_text": ""}
        if key.value_type == ClaimKey.ValueType.FLAG:
            values["value_flag"] = "" if value is None else str(value)
        elif key.value_type == ClaimKey.ValueType.NUMBER:
            values["value_number"] = self.decimal(where, "value", value)
            values["value_unit"] = self.text(item, "unit") or key.unit
        else:
            values["value_text"] = "" if value is None else str(value).strip()
        values |= {
            "condition": self.text(item, "condition"),
            "evidence_quote": self.text(item, "quote"),
            "note": self.text(item, "note"),
        }
        lookup = {
            "provider": provider,
            "model": model,
            "key": key,
            "source": source,
            "scope_surface": self.text(item, "scope_surface") or Claim.Surface.ANY,
            "scope_plan": self.text(item, "scope_plan"),
            "scope_region": self.text(item, "scope_region"),
        }
        existing = Claim.objects.filter(**lookup).only("checked_at").first()
        # Re-checks (crawlers, probes, curators) move checked_at forward; the file
        # never moves it back, and it sets status only when it states one.
        if existing is None or checked > existing.checked_at:
            values["checked_at"] = checked
        create_only = {"checked_at": checked}
        if "status" in item:
            values["status"] = self.text(item, "status")
        else:
            create_only["status"] = Claim.Status.CURRENT
        self.upsert(Claim, where, lookup, values, create_only=create_only)

    def faq(self, where: str, item: dict, provider: Provider, index: int) -> None:
        source = None
        if item.get("source") is not None:
            source = self.lookup(self.sources, where, "source", item["source"], "source")
        values = {
            "answer": self.text(item, "answer"),
            "position": item.get("position", index),
            "source": source,
        }
        self.upsert(
            FAQ, where, {"provider": provider, "question": self.text(item, "question")}, values
        )

    def load_models(self, data: dict) -> None:
        def handle(where: str, item: dict) -> None:
            provider = self.lookup(
                self.providers, where, "provider", item.get("provider"), "provider"
            )
            licence = None
            if item.get("licence") is not None:
                licence = self.lookup(self.licences, where, "licence", item["licence"], "licence")
            modality_slugs = item.get("modalities") or []
            if not isinstance(modality_slugs, list):
                self.error(where, "field 'modalities': must be a list")
                raise _Skip
            modalities = [
                self.lookup(self.modalities, where, "modalities", slug, "modality")
                for slug in modality_slugs
            ]
            values: dict[str, Any] = {
                "provider": provider,
                "licence": licence,
                "name": self.text(item, "name"),
                "family": self.text(item, "family"),
                "description": self.text(item, "description"),
                "weights": self.text(item, "weights") or AIModel.Weights.UNKNOWN,
                "architecture": self.text(item, "architecture") or AIModel.Architecture.UNKNOWN,
                "total_params_b": self.decimal(where, "total_params_b", item.get("total_params_b")),
                "active_params_b": self.decimal(
                    where, "active_params_b", item.get("active_params_b")
                ),
                "context_window": item.get("context_window"),
                "api_ids": item.get("api_ids") or [],
            }
            for field in ("release_date", "deprecation_date", "retirement_date"):
                values[field] = self.date(where, field, item.get(field), required=False)
            existed = AIModel.objects.filter(slug=item.get("slug")).exists()
            obj = self.upsert(
                AIModel, where, {"slug": item.get("slug")}, values, m2m={"modalities": modalities}
            )
            self.models[obj.slug] = obj
            if not existed:
                self.created_models.add(obj.slug)

        self.each(self.records(data, "models"), handle)

    def load_model_details(self, data: dict) -> None:
        for m_where, m_item in self.records(data, "models"):
            model = self.models.get(m_item.get("slug"))
            if model is None:
                continue
            if m_item.get("successor") is not None:
                try:
                    successor = self.lookup(
                        self.models, m_where, "successor", m_item["successor"], "model"
                    )
                    if model.successor_id != successor.pk:
                        model.successor = successor
                        model._change_reason = self.reason
                        model.save(update_fields=["successor", "updated_at"])
                        if model.slug not in self.created_models:
                            self.report.updated["AI models"] += 1
                except _Skip:
                    pass
            claims = self.records(
                {"c": m_item.get("claims")}, "c", CLAIM_FIELDS, label=f"{m_where}.claims"
            )
            for where, item in claims:
                try:
                    self.claim(where, item, model=model)
                except _Skip:
                    continue
            prices = self.records(
                {"p": m_item.get("prices")}, "p", PRICE_FIELDS, label=f"{m_where}.prices"
            )
            for where, item in prices:
                try:
                    self.price(where, item, model)
                except _Skip:
                    continue

    def price(self, where: str, item: dict, model: AIModel) -> None:
        source = self.lookup(self.sources, where, "source", item.get("source"), "source")
        lookup = {
            "model": model,
            "currency": self.text(item, "currency") or "USD",
            "tier": self.text(item, "tier"),
            "as_of": self.date(where, "as_of", item.get("as_of")),
        }
        values = {
            "input_per_mtok": self.decimal(where, "input", item.get("input")),
            "output_per_mtok": self.decimal(where, "output", item.get("output")),
            "source": source,
        }
        self.upsert(Price, where, lookup, values)

    def load_criteria(self, data: dict) -> None:
        def handle(where: str, item: dict) -> None:
            values = {
                "name": self.text(item, "name"),
                "description": self.text(item, "description"),
                "position": item.get("position", 0),
                "active": item.get("active", True),
            }
            obj = self.upsert(Criterion, where, {"slug": item.get("slug")}, values)
            self.criteria[obj.slug] = obj

        self.each(self.records(data, "criteria"), handle)

    def load_assessments(self, data: dict) -> None:
        text_fields = (
            "verdict", "conclusion", "data_processing", "positives", "negatives",
            "server_locations",
        )  # fmt: skip

        def handle(where: str, item: dict) -> None:
            provider = self.lookup(
                self.providers, where, "provider", item.get("provider"), "provider"
            )
            assessed_on = self.date(where, "assessed_on", item.get("assessed_on"))
            values: dict[str, Any] = {f: self.text(item, f) for f in text_fields}
            values |= {f: item.get(f) or [] for f in ("strengths", "weaknesses")}
            status = self.text(item, "status") or Assessment.Status.PUBLISHED
            lookup = {"provider": provider, "assessed_on": assessed_on, "author": None}
            # Status is set on creation only: the review workflow owns it afterwards
            # (a newer approved assessment supersedes this one).
            assessment = self.upsert(
                Assessment, where, lookup, values, create_only={"status": status}
            )
            for s_index, slug in enumerate(item.get("sources") or []):
                source = self.lookup(
                    self.sources, f"{where}.sources[{s_index}]", "sources", slug, "source"
                )
                self.upsert(
                    AssessmentSource,
                    f"{where}.sources[{s_index}]",
                    {"assessment": assessment, "source": source},
                    {"read_on": assessed_on},
                )
            seen = set()
            ratings = self.records(
                {"r": item.get("ratings")}, "r", RATING_FIELDS, label=f"{where}.ratings"
            )
            for r_where, r_item in ratings:
                try:
                    criterion = self.lookup(
                        self.criteria, r_where, "criterion", r_item.get("criterion"), "criterion"
                    )
                    seen.add(criterion.slug)
                    rating = self.upsert(
                        Rating,
                        r_where,
                        {"assessment": assessment, "criterion": criterion},
                        {
                            "value": self.text(r_item, "value"),
                            "justification": self.text(r_item, "justification"),
                        },
                    )
                    evidence = r_item.get("evidence") or []
                    if not evidence:
                        self.error(r_where, "field 'evidence': at least one source is required")
                        continue
                    for e_index, entry in enumerate(evidence):
                        self.rating_evidence(
                            f"{r_where}.evidence[{e_index}]", entry, rating, assessed_on
                        )
                except _Skip:
                    continue
            missing = sorted(
                slug for slug, c in self.criteria.items() if c.active and slug not in seen
            )
            if missing and status == Assessment.Status.PUBLISHED:
                self.error(where, f"field 'ratings': no rating for criteria {missing}")

        self.each(self.records(data, "assessments"), handle)

    def rating_evidence(
        self, where: str, entry: Any, rating: Rating, assessed_on: dt.date | None
    ) -> None:
        """One source behind a rating: a source's slug, or ``{source, quote, read_on}`` with
        the words relied on and the day they were read (the assessment's date if absent)."""
        try:
            self._rating_evidence(where, entry, rating, assessed_on)
        except _Skip:
            return

    def _rating_evidence(
        self, where: str, entry: Any, rating: Rating, assessed_on: dt.date | None
    ) -> None:
        if isinstance(entry, dict):
            unknown = sorted(set(entry) - EVIDENCE_FIELDS)
            if unknown:
                self.error(
                    where,
                    f"field {unknown[0]!r}: unknown field; expected one of "
                    f"{sorted(EVIDENCE_FIELDS)}",
                )
                return
            slug = entry.get("source")
            quote = self.text(entry, "quote")
            read_on = self.date(where, "read_on", entry.get("read_on"), required=False)
        else:
            slug, quote, read_on = entry, "", None
        source = self.lookup(self.sources, where, "source", slug, "source")
        self.upsert(
            RatingEvidence,
            where,
            {"rating": rating, "source": source},
            {"quote": quote, "read_on": read_on or assessed_on},
        )

    def load_comparisons(self, data: dict) -> None:
        def handle(where: str, item: dict) -> None:
            providers = [
                self.lookup(self.providers, where, "providers", slug, "provider")
                for slug in item.get("providers") or []
            ]
            if len(providers) < 2:
                self.error(where, "field 'providers': a comparison needs at least two providers")
                raise _Skip
            self.upsert(
                Comparison,
                where,
                {"slug": item.get("slug")},
                {"title": self.text(item, "title"), "summary": self.text(item, "summary")},
                m2m={"providers": providers},
            )

        self.each(self.records(data, "comparisons"), handle)
