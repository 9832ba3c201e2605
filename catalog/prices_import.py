"""Providers, models, prices and context windows imported from the genai-prices dataset.

``prices_import`` reads the installed release of genai-prices (through ``dataset_read``, the
one seam tests replace) and brings the database in line with it inside one transaction:

- one Source per pricing page the dataset names (providers sharing a page share it), whose
  stored text (a ``crawlers.Version``, cause *imported from a dataset*) is the dataset's own
  record of those providers, rendered line by line (``record_text``); the crawler is told not
  to re-read that page for it, since the text it holds is the dataset's, not the page's;
- providers missing from the catalogue, from ``catalog.prices_mapping``; existing ones are
  left exactly as the catalogue files made them;
- a model per developer's model, matched to the catalogue's models by their API identifiers
  first, then by slug; a platform's listing of another developer's model is a price on that
  developer's model with the platform named in its tier, never a model of the platform;
- prices with the date they apply from: the dataset's start date (announced prices too), or
  for a price it gives without one, the day Atlas first read a release stating it (a later
  release with the same price adds nothing; a different price adds a row: history is kept,
  nothing is overwritten);
- a context-window claim per model quoting the line of the stored record that states it.

Fields of models the catalogue files define are never written (the files own them); their
prices and claims from the dataset are added beside the files' own.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
from collections import Counter
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from catalog.catalogue_file import DEFAULT_CATALOGUE, catalogue_read
from catalog.models import AIModel, Claim, ClaimKey, Price, Provider, Source
from catalog.prices_mapping import (
    BEDROCK_REGIONS,
    DATASET_NAME,
    DATASET_PUBLISHER,
    DEVELOPERS,
    FINE_TUNES,
    NAME_PATTERNS,
    ORG_PREFIXES,
    PLATFORMS,
    Platform,
)
from catalog.prices_records import (
    Dataset,
    context_line,
    dataset_problems,
    one_line,
    price_entries,
    record_text,
)
from crawlers.extract import EXTRACTOR_REVISION
from crawlers.models import CrawlSettings, Version
from crawlers.verify import claims_reverify_imported

CENT_HUNDREDTH = Decimal("0.0001")  # Price stores four decimal places


class PricesImportError(Exception):
    """The dataset cannot be imported; nothing was written. ``problems`` names each record."""

    def __init__(self, version: str, problems: list[str]) -> None:
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(
            f"{DATASET_NAME} {version}: {len(problems)} problem(s), nothing was written:\n{lines}"
        )


def dataset_read() -> Dataset:
    """The installed genai-prices release: its version and its providers, as published."""
    import genai_prices
    from genai_prices.data import providers

    return Dataset(version=genai_prices.__version__, providers=list(providers))


@dataclasses.dataclass
class PricesReport:
    version: str = ""
    created: Counter = dataclasses.field(default_factory=Counter)
    updated: Counter = dataclasses.field(default_factory=Counter)
    unchanged: Counter = dataclasses.field(default_factory=Counter)
    skipped: Counter = dataclasses.field(default_factory=Counter)

    @property
    def changed(self) -> bool:
        return bool(sum(self.created.values()) or sum(self.updated.values()))

    def summary(self) -> str:
        kinds = sorted(set(self.created) | set(self.updated) | set(self.unchanged))
        lines = [
            f"{kind}: {self.created[kind]} created, {self.updated[kind]} updated, "
            f"{self.unchanged[kind]} unchanged"
            for kind in kinds
        ]
        lines += [f"listings skipped, {why}: {n}" for why, n in sorted(self.skipped.items())]
        return "\n".join(lines)


# --- who developed a listing ------------------------------------------------------------------


def listing_developer(platform: Platform, model_id: str) -> tuple[str | None, str, str]:
    """(developer's Atlas slug or None, the identifier without platform and organisation
    prefixes, a variant suffix such as "free" or ""), for one listing of ``platform``.

    None when the tables in ``catalog.prices_mapping`` name no developer: an unknown
    organisation, an alias ("~…"), or a bare name on a platform that develops nothing.
    """
    ref = model_id.strip().lower()
    for prefix in platform.strip:
        if ref.startswith(prefix):
            ref = ref[len(prefix) :]
    variant = ""
    head, sep, tail = ref.rpartition(":")
    if sep and tail.isalpha():
        ref, variant = head, tail
    if ref.startswith("~"):
        return None, ref, variant
    if "/" in ref:
        org, _, rest = ref.partition("/")
        return ORG_PREFIXES.get(org), rest, variant
    if platform.org_dot:
        for region in BEDROCK_REGIONS:
            if ref.startswith(region):
                ref = ref[len(region) :]
                break
        org, dot, rest = ref.partition(".")
        if dot:
            return ORG_PREFIXES.get(org), rest, variant
    if FINE_TUNES.search(ref):
        return None, ref, variant
    for pattern, slug in NAME_PATTERNS:
        if pattern.search(ref):
            return slug, ref, variant
    return (platform.slug if platform.developer else None), ref, variant


def _slug_base(ref: str) -> str:
    return slugify(re.sub(r"[./_:@]+", "-", ref))[:90].strip("-") or "model"


def _money(value: Any) -> Decimal | None:
    from genai_prices.types import TieredPrices

    if isinstance(value, TieredPrices):
        value = value.base
    if value is None:
        return None
    return value.quantize(CENT_HUNDREDTH, rounding=ROUND_HALF_EVEN)


# --- the import -------------------------------------------------------------------------------


def prices_import(*, read_on: dt.date | None = None) -> PricesReport:
    """Import the installed genai-prices release in one transaction.

    ``read_on`` is the day of reading (today by default): the date of a newly stored record
    text and of a price the dataset gives without a start date. Returns what was created,
    updated, left unchanged and skipped; raises ``PricesImportError`` listing every malformed
    record, with nothing written.
    """
    dataset = dataset_read()
    problems = dataset_problems(dataset)
    key = ClaimKey.objects.filter(key="context_window").first()
    if key is None:
        problems.append("claim key 'context_window': not in the database; load the catalogue first")
    if problems:
        raise PricesImportError(str(dataset.version), problems)
    now = timezone.now()
    if read_on is not None:
        now = dt.datetime.combine(read_on, dt.time(12), tzinfo=dt.UTC)
    importer = _Importer(dataset=dataset, now=now, context_key=key)
    with transaction.atomic():
        importer.run()
    return importer.report


class _Importer:
    def __init__(self, *, dataset: Dataset, now: dt.datetime, context_key: ClaimKey) -> None:
        self.dataset = dataset
        self.now = now
        self.today = now.date()
        self.context_key = context_key
        self.report = PricesReport(version=dataset.version)
        self.reason = f"Imported from {DATASET_NAME} {dataset.version}"
        self.providers: dict[str, Provider] = {}
        self.sources: dict[str, Source] = {}  # dataset provider id -> source
        self.version_dates: dict[int, dt.date] = {}  # source id -> date of its current text
        self.versions: dict[int, Version] = {}  # source id -> its current text
        self.owned_by_files = {
            str(m.get("slug")) for m in catalogue_read(DEFAULT_CATALOGUE).get("models") or []
        }

    def save(self, obj: Any, kind: str, *, created: bool) -> None:
        # Relations, uniqueness and check constraints are the database's to enforce:
        # validating them here costs a query each, per row, on a few thousand rows.
        relations = [f.name for f in obj._meta.fields if f.is_relation]
        obj.full_clean(exclude=relations, validate_unique=False, validate_constraints=False)
        obj._change_reason = self.reason
        obj.save()
        (self.report.created if created else self.report.updated)[kind] += 1

    def run(self) -> None:
        self.load_providers()
        self.load_sources()
        self.load_models_and_prices()
        self.verify_quotes()

    def verify_quotes(self) -> None:
        """Each claim citing a dataset source checked against the stored record, by the
        source checks' own rules: a found quote is pinned to the version and its place in
        it. Claims already verified against that version with the same quote are skipped."""
        for version in self.versions.values():
            written = claims_reverify_imported(
                version=version,
                read_at=version.created_at,
                occasion=self.reason,
                evidence={"url": version.source.url, "imported": self.reason},
            )
            for verification in written:
                self.report.created[f"verifications ({verification.outcome})"] += 1

    # -- providers ---------------------------------------------------------------------------

    def provider(self, slug: str) -> Provider:
        if slug not in self.providers:
            found = Provider.objects.filter(slug=slug).first()
            if found is None:
                name, kind = DEVELOPERS[slug]
                found = Provider(slug=slug, name=name, kind=kind)
                self.save(found, "providers", created=True)
            else:
                self.report.unchanged["providers"] += 1
            self.providers[slug] = found
        return self.providers[slug]

    def load_providers(self) -> None:
        for record in self.dataset.providers:
            self.provider(PLATFORMS[record.id].slug)

    # -- sources and their stored text -------------------------------------------------------

    def load_sources(self) -> None:
        groups: dict[str, list[Any]] = {}
        for record in self.dataset.providers:
            groups.setdefault(record.pricing_urls[0], []).append(record)
        for url, records in groups.items():
            platform = PLATFORMS[records[0].id]
            if len(records) == 1:
                slug = f"genai-prices-{slugify(records[0].id)}"
                label = records[0].name
            else:
                slug = f"genai-prices-{slugify(platform.slug)}"
                label = f"{DEVELOPERS[platform.slug][0]} ({len(records)} providers)"
            text = "\n".join(record_text(version=self.dataset.version, provider=r) for r in records)
            values = {
                "url": url,
                "publisher": DATASET_PUBLISHER,
                "doc_type": Source.DocType.PRICING,
                "provider": self.providers[platform.slug],
            }
            if Source.objects.filter(url=url).exclude(slug=slug).exists():
                # The catalogue already cites that page for its own reading of it; an address
                # is one source, so the dataset's record goes without one (the stored record's
                # pricing_urls line still names the page).
                values["url"] = ""
            source = Source.objects.filter(slug=slug).first()
            if source is None:
                # A new source's text is new too: read today.
                source = Source(slug=slug, title=self.title(label, self.today), **values)
                self.save(source, "sources", created=True)
                self.store_text(source, text)
            else:
                values["title"] = self.title(label, self.store_text(source, text))
                changed = [k for k, v in values.items() if getattr(source, k) != v]
                for k in changed:
                    setattr(source, k, values[k])
                if changed:
                    self.save(source, "sources", created=False)
                else:
                    self.report.unchanged["sources"] += 1
            for record in records:
                self.sources[record.id] = source

    def title(self, label: str, read: dt.date) -> str:
        version = self.dataset.version
        return f"{label}: prices in {DATASET_NAME} {version} (read {read.isoformat()})"[:300]

    def store_text(self, source: Source, text: str) -> dt.date:
        """Keep ``text`` as the source's current version (a new one only for a new text).

        Returns the date of that version: when Atlas first read this text.
        """
        content_hash = hashlib.sha256(text.encode()).hexdigest()
        version = Version.objects.filter(source=source, content_hash=content_hash).first()
        if version is None:
            highest = Version.objects.filter(source=source).aggregate(n=Max("number"))["n"]
            number = (highest or 0) + 1
            raw = text.encode()
            version = Version.objects.create(
                source=source,
                number=number,
                content_hash=content_hash,
                text=text,
                cause=Version.Cause.DATASET_IMPORT,
                created_at=self.now,
                fetched_url="",
                raw_body=Version.compress(raw),
                raw_size=len(raw),
                raw_hash=hashlib.sha256(raw).hexdigest(),
                raw_content_type="text/plain",
                raw_encoding="utf-8",
                extractor_revision=EXTRACTOR_REVISION,
            )
            self.report.created["stored texts"] += 1
        else:
            self.report.unchanged["stored texts"] += 1
        # The text is the dataset's record, not the page: re-reading the page would find
        # none of its lines, so the crawler leaves this source alone.
        crawl = CrawlSettings.objects.filter(source=source).first()
        if crawl is None:
            CrawlSettings.objects.create(source=source, enabled=False, current_version=version)
        elif crawl.current_version_id != version.pk:
            crawl.current_version = version
            crawl.save(update_fields=["current_version"])
        when = timezone.localtime(version.created_at, dt.UTC).date()
        self.version_dates[source.pk] = when
        version.source = source
        self.versions[source.pk] = version
        return when

    # -- models, prices, claims --------------------------------------------------------------

    def listings(self) -> list[tuple[Any, Platform, Any, str | None, str, str, bool]]:
        """Every listing with its developer; a developer's own listings first, so its own
        names and context windows win over a platform's."""
        own, others = [], []
        for record in self.dataset.providers:
            platform = PLATFORMS[record.id]
            for model in record.models:
                developer, ref, variant = listing_developer(platform, model.id)
                is_own = developer == platform.slug and platform.developer
                row = (record, platform, model, developer, ref, variant, is_own)
                (own if is_own else others).append(row)
        return own + others

    def load_models_and_prices(self) -> None:
        rows = self.listings()
        own_models: dict[str, list[Any]] = {}
        for _record, _platform, model, developer, _ref, _variant, is_own in rows:
            if is_own:
                own_models.setdefault(developer, []).append(model)
        by_key: dict[tuple[str, str], AIModel] = {}
        existing = list(AIModel.objects.select_related("provider"))
        by_slug = {m.slug: m for m in existing}
        by_api_id: dict[tuple[str, str], AIModel] = {}
        for m in existing:
            for api_id in m.api_ids or []:
                by_api_id.setdefault((m.provider.slug, str(api_id).lower()), m)
        prices: dict[tuple[int, str], dict[dt.date, Price]] = {}
        for price in Price.objects.filter(currency="USD").order_by():
            prices.setdefault((price.model_id, price.tier), {})[price.as_of] = price
        dataset_sources = {s.pk for s in self.sources.values()}
        claims = {
            (c.model_id, c.source_id): c
            for c in Claim.objects.filter(key=self.context_key, model__isnull=False).filter(
                source_id__in=dataset_sources, scope_surface=Claim.Surface.ANY
            )
        }
        # The catalogue's own context-window claims, to mark a disagreement as disputed.
        self.other_windows: dict[int, list[Claim]] = {}
        theirs = (
            Claim.objects.filter(key=self.context_key, model__isnull=False)
            .exclude(source_id__in=dataset_sources)
            .select_related("source")
        )
        for c in theirs:
            self.other_windows.setdefault(c.model_id, []).append(c)
        priced: set[tuple[int, str]] = set()
        windowed: set[int] = set()

        for record, platform, model, developer, ref, variant, is_own in rows:
            if developer is None:
                self.report.skipped["developer not mapped"] += 1
                continue
            source = self.sources[record.id]
            matched = model if is_own else None
            if matched is None:
                matched = next((m for m in own_models.get(developer, []) if m.is_match(ref)), None)
            key_ref = matched.id.lower() if matched is not None else ref
            atlas = by_key.get((developer, key_ref))
            if atlas is None:
                atlas = self.find_model(developer, key_ref, matched, by_slug, by_api_id)
                if atlas is None:
                    atlas = self.create_model(developer, key_ref, matched or model, by_slug)
                by_key[(developer, key_ref)] = atlas
            tier = platform.own_tier if is_own else platform.label
            if variant:
                tier = f"{tier} ({variant})".strip()
            if (atlas.pk, tier) in priced:
                self.report.skipped["same model and platform listed twice"] += 1
            else:
                priced.add((atlas.pk, tier))
                self.load_prices(atlas, tier, model, source, prices, dataset_sources)
            if model.context_window and atlas.pk not in windowed:
                windowed.add(atlas.pk)
                self.load_context_window(atlas, model, source, claims)

    def find_model(
        self,
        developer: str,
        ref: str,
        matched: Any,
        by_slug: dict[str, AIModel],
        by_api_id: dict[tuple[str, str], AIModel],
    ) -> AIModel | None:
        if (developer, ref) in by_api_id:
            return by_api_id[(developer, ref)]
        if matched is not None:
            for (slug, api_id), model in by_api_id.items():
                if slug == developer and matched.is_match(api_id):
                    return model
        found = by_slug.get(_slug_base(ref))
        if found is not None and found.provider.slug == developer:
            return found
        return None

    def create_model(
        self, developer: str, ref: str, listing: Any, by_slug: dict[str, AIModel]
    ) -> AIModel:
        base = _slug_base(ref)
        slug = base if base not in by_slug else f"{developer}-{base}"[:100]
        number = 2
        while slug in by_slug:
            slug = f"{developer}-{base}"[:96] + f"-{number}"
            number += 1
        name = one_line(listing.name or listing.id)
        if ": " in name:  # OpenRouter's "Anthropic: Claude 3.5 Sonnet"
            name = name.split(": ", 1)[1]
        model = AIModel(
            provider=self.provider(developer),
            slug=slug,
            name=name[:200],
            api_ids=[ref],
            context_window=listing.context_window,
        )
        self.save(model, "AI models", created=True)
        by_slug[slug] = model
        return model

    def load_prices(
        self,
        model: AIModel,
        tier: str,
        listing: Any,
        source: Source,
        prices: dict[tuple[int, str], dict[dt.date, Price]],
        dataset_sources: set[int],
    ) -> None:
        from genai_prices.types import StartDateConstraint

        entries = price_entries(listing)
        # Every dated price, announced ones too: the rows follow the dataset alone, whatever
        # the day of reading (pages show a price only from its date).
        wanted: list[tuple[dt.date | None, Any]] = [
            (c.start_date, p) for c, p in entries if isinstance(c, StartDateConstraint)
        ]
        begun = any(as_of <= self.today for as_of, _ in wanted)
        undated = [p for c, p in entries if c is None]
        # An undated price is the one in force only while no dated price has begun; after
        # that it is history whose start the dataset does not give, so it is not imported.
        if undated and not begun:
            wanted.append((None, undated[0]))
        mine = prices.setdefault((model.pk, tier), {})
        for as_of, entry in wanted:
            input_price = _money(entry.input_mtok)
            if input_price is None:
                self.report.skipped["not priced per token"] += 1
                continue
            values = {"input_per_mtok": input_price, "output_per_mtok": _money(entry.output_mtok)}
            if as_of is None:
                # Compared with the dataset's price in force, not with an announced one.
                ours = [
                    mine[d]
                    for d in sorted(mine)
                    if d <= self.today and mine[d].source_id in dataset_sources
                ]
                if ours and all(getattr(ours[-1], k) == v for k, v in values.items()):
                    self.report.unchanged["prices"] += 1
                    continue
                as_of = self.today
            found = mine.get(as_of)
            if found is not None and found.source_id not in dataset_sources:
                # The catalogue's own price for that day stands; the files own it.
                self.report.unchanged["prices"] += 1
                continue
            if found is None:
                price = Price(model=model, tier=tier, as_of=as_of, currency="USD", source=source)
                for k, v in values.items():
                    setattr(price, k, v)
                self.save(price, "prices", created=True)
                mine[as_of] = price
            elif any(getattr(found, k) != v for k, v in values.items()) or (
                found.source_id != source.pk
            ):
                for k, v in values.items():
                    setattr(found, k, v)
                found.source = source
                self.save(found, "prices", created=False)
            else:
                self.report.unchanged["prices"] += 1

    def load_context_window(
        self,
        model: AIModel,
        listing: Any,
        source: Source,
        claims: dict[tuple[int, int], Claim],
    ) -> None:
        window = listing.context_window
        if model.slug not in self.owned_by_files and model.context_window != window:
            model.context_window = window
            self.save(model, "AI models", created=False)
        checked = self.version_dates[source.pk]
        quote = context_line(listing.id, window)
        claim = claims.get((model.pk, source.pk))
        if claim is None:
            claim = Claim(
                model=model,
                key=self.context_key,
                source=source,
                value_number=Decimal(window),
                value_unit=self.context_key.unit or "tokens",
                evidence_quote=quote,
                checked_at=checked,
            )
            self.save(claim, "claims", created=True)
            claims[(model.pk, source.pk)] = claim
            self.dispute(claim)
            return
        changed = claim.value_number != window or claim.evidence_quote != quote
        if changed:
            claim.value_number = Decimal(window)
            claim.evidence_quote = quote
        # A date moves only when a text was read: forward, to the stored version's date.
        if checked > claim.checked_at:
            claim.checked_at = checked
            changed = True
        if changed:
            self.save(claim, "claims", created=False)
        else:
            self.report.unchanged["claims"] += 1
        self.dispute(claim)

    def dispute(self, claim: Claim) -> None:
        """Where another source gives the model another context window, both claims stand,
        marked disputed; the dataset's claim carries a note naming the other figure (the
        catalogue's own claim keeps the note its file gives it, which the loader rewrites).
        A claim a curator or a check has already set apart is left as it is."""
        others = [
            c for c in self.other_windows.get(claim.model_id, []) if c.value_number is not None
        ]
        for one, other in [(claim, c) for c in others] + [(c, claim) for c in others]:
            if one.value_number == other.value_number or one.status != Claim.Status.CURRENT:
                continue
            one.status = Claim.Status.DISPUTED
            if one is claim:
                one.note = (
                    f"Another source gives {other.value_number.normalize():f} tokens: "
                    f"{other.source.title}."
                )[:1000]
            self.save(one, "claims", created=False)
