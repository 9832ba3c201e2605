"""Dated texts taken from a published record of them, stored as versions of their sources.

Two datasets feed this (``crawlers.ota`` and ``crawlers.licence_texts`` read them): an Open
Terms Archive versions repository, where every commit is a version of a provider's document,
and a folder of licence texts with the commit each was taken at. Each reader turns its dataset
into ``Document``s (an address and its dated texts, oldest first); here they become
``crawlers.models.Version``s of the ``catalog.Source`` with that address:

- a text the source already has (same SHA-256) reuses its version, so a second import stores
  nothing and a newer dataset adds only its new texts, numbered after the source's others;
- a new text is dated as its record says (``created_at``) and keeps the record's commit; it
  is the dataset's file as it stands (not re-extracted), with no separate raw body;
- the source's current version becomes the document's newest text, unless a check read the
  source more recently; then the claims citing the source are re-verified against that text
  (``crawlers.verify.claims_reverify_imported``), which dates a found quote the day the text
  was recorded, never the day of the import.

Everything happens in one transaction, under the same row lock the crawlers take, and only
after the whole dataset was read: bad input (``DatasetError``) writes nothing.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag

from django.db import transaction
from django.db.models import Max, Q

from catalog.models import Claim, Source, Verification
from crawlers.extract import EXTRACTOR_REVISION, content_hash
from crawlers.models import Check, CrawlSettings, Version
from crawlers.services import raw_hash
from crawlers.verify import claims_reverify_imported

EMPTY_BODY = Version.compress(b"")


class DatasetError(Exception):
    """A dataset that cannot be imported as it is: nothing was written."""


def tsv_rows(
    path: Path, *, columns: tuple[str, ...], what: str
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The rows of a dataset's UTF-8 tab-separated index (``what``: "documents file",
    "manifest") with a header line: each non-blank row as its line number and the named
    ``columns``, stripped, and a problem for each row shorter than the header.

    Raises ``DatasetError`` naming the file when it is missing, unreadable, empty or lacks a
    column; the caller checks the values and reports every problem at once.
    """
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such {what}.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: cannot be read as UTF-8 tab-separated text ({exc}).") from None
    if not rows:
        raise DatasetError(f"{path}: the file is empty; a header line is needed.")
    header = [name.strip() for name in rows[0]]
    missing = [name for name in columns if name not in header]
    if missing:
        raise DatasetError(
            f"{path}: missing column(s) {', '.join(missing)} "
            f"(the header has: {', '.join(header) or 'nothing'})."
        )
    where = {name: header.index(name) for name in columns}
    found, problems = [], []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        if len(row) < len(header):
            problems.append(f"line {line}: {len(row)} field(s), the header has {len(header)}")
            continue
        found.append((line, {name: row[index].strip() for name, index in where.items()}))
    return found, problems


@dataclass(frozen=True)
class DatedText:
    """One recorded state of a document: its text, when it was recorded, and the commit."""

    text: str
    recorded_at: dt.datetime
    commit: str
    raw: bytes


@dataclass
class Document:
    """One document of a dataset: its name there, its address, and its texts, oldest first."""

    name: str
    url: str
    texts: list[DatedText] = field(default_factory=list)


@dataclass
class NotFound:
    """A claim whose quote the newest text does not hold (or holds in other words)."""

    claim_id: int
    label: str
    document: str
    version: int
    outcome: str


@dataclass
class ImportReport:
    documents: int = 0
    matched: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    ambiguous: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    texts_read: int = 0
    versions_stored: int = 0
    current_moved: int = 0
    crawled_newer: list[str] = field(default_factory=list)
    found: int = 0
    not_found: list[NotFound] = field(default_factory=list)
    without_quote: int = 0
    already_verified: int = 0

    @property
    def changed(self) -> bool:
        return bool(
            self.versions_stored
            or self.current_moved
            or self.found
            or self.not_found
            or self.without_quote
        )

    def lines(self) -> list[str]:
        """The report, one line per figure, for the commands to print."""
        lines = [
            f"documents in the dataset: {self.documents}",
            f"documents matched to sources: {len(self.matched)}",
            f"documents without a source: {len(self.unmatched)}",
        ]
        for problem in self.ambiguous:
            lines.append(f"  not matched, the source's title names none of them: {problem}")
        for problem in self.refused:
            lines.append(f"  refused: {problem}")
        lines += [
            f"texts read: {self.texts_read}; versions stored: {self.versions_stored}",
            f"sources whose current text moved to the newest imported one: {self.current_moved}",
        ]
        for name in self.crawled_newer:
            lines.append(f"  read more recently by a check, claims left to it: {name}")
        lines.append(
            f"claims re-verified: quote found {self.found}, not found {len(self.not_found)}, "
            f"without a quote {self.without_quote}; already verified against the newest "
            f"text: {self.already_verified}"
        )
        for miss in self.not_found:
            lines.append(
                f"  quote not found ({miss.outcome}): claim {miss.claim_id}, {miss.label}, "
                f"in {miss.document} version {miss.version}"
            )
        return lines


def sources_by_url(*, urls: list[str]) -> dict[str, list[Source]]:
    """The sources at each of ``urls``, by address. A source whose address is one of them
    with a fragment (``https://example.com/terms/#privacy``: one section of a page holding
    several documents) is at that address too."""
    wanted = {u for u in urls if u}
    found: dict[str, list[Source]] = defaultdict(list)
    bases = {urldefrag(u).url for u in wanted}
    query = Q(url__in=wanted)
    for base in bases:
        query |= Q(url__startswith=f"{base}#")
    for source in Source.objects.filter(query).order_by("url"):
        address = source.url if source.url in wanted else urldefrag(source.url).url
        if address in wanted:
            found[address].append(source)
    return found


def documents_match(
    *, documents: list[Document], report: ImportReport, title_names: dict[str, str]
) -> list[tuple[Document, Source]]:
    """Each source at one of the documents' addresses, paired with its document.

    ``documents`` holds one entry per document and address; a source is at an address when
    its own is that address, or that address with a fragment (``sources_by_url``). A source
    at an address only one document has is that document's. Several documents may share an
    address (a legal page holding several documents): then the one whose name
    (``title_names[document.name]``, e.g. "Privacy Policy") the source's title contains is
    the source's, if exactly one is; otherwise none is, and they are reported as ambiguous
    rather than guessed. The report counts documents by name: matched (to at least one
    source), without a source.
    """
    names = list(dict.fromkeys(d.name for d in documents))
    report.documents = len(names)
    sources = sources_by_url(urls=[d.url for d in documents])
    by_url: dict[str, list[Document]] = defaultdict(list)
    for document in documents:
        by_url[document.url].append(document)
    matched = []
    ambiguous = set()
    for url, group in by_url.items():
        for source in sources.get(url, []):
            chosen = group
            if len({d.name for d in group}) > 1:
                title = source.title.casefold()
                chosen = [d for d in group if title_names.get(d.name, "").casefold() in title]
                if len(chosen) != 1:
                    report.ambiguous.append(
                        f"{url} (source {source.slug}) is the address of "
                        + ", ".join(sorted({d.name for d in group}))
                    )
                    ambiguous.update(d.name for d in group)
                    continue
            matched.append((chosen[0], source))
    found = {d.name for d, _ in matched}
    ambiguous -= found
    report.matched = [name for name in names if name in found]
    report.unmatched = [name for name in names if name not in found and name not in ambiguous]
    return matched


def texts_store(
    *, matched: list[tuple[Document, Source]], cause: str, occasion: str, report: ImportReport
) -> ImportReport:
    """Store the matched documents' texts and re-verify their sources' claims (see above)."""
    if not matched:
        return report
    source_ids = sorted({source.pk for _, source in matched})
    with transaction.atomic():
        for source_id in source_ids:
            CrawlSettings.objects.get_or_create(source_id=source_id)
        # Sorted, so two imports (or an import and a check) take the row locks in one order.
        crawls = {
            crawl.source_id: crawl
            for crawl in CrawlSettings.objects.select_for_update(of=("self",))
            .filter(source_id__in=source_ids)
            .order_by("source_id")
        }
        known: dict[int, dict[str, int]] = defaultdict(dict)
        highest: dict[int, int] = defaultdict(int)
        for source_id, digest, number, pk in Version.objects.filter(
            source_id__in=source_ids
        ).values_list("source_id", "content_hash", "number", "pk"):
            known[source_id][digest] = pk
            highest[source_id] = max(highest[source_id], number)

        new_versions: list[Version] = []
        newest: dict[int, tuple[str, DatedText]] = {}  # source -> (hash, newest text)
        for document, source in matched:
            crawl = crawls[source.pk]
            for dated in document.texts:
                report.texts_read += 1
                digest = content_hash(dated.text)
                newest[source.pk] = (digest, dated)
                if digest in known[source.pk]:
                    continue
                highest[source.pk] += 1
                known[source.pk][digest] = 0  # stored below; its id is read back after
                new_versions.append(
                    Version(
                        source_id=source.pk,
                        number=highest[source.pk],
                        content_hash=digest,
                        text=dated.text,
                        cause=cause,
                        created_at=dated.recorded_at,
                        fetched_url=document.url[:1000],
                        # The text is the dataset's file itself, so no separate body is
                        # kept (compressing one took most of an import's time); its hash
                        # still names the file's bytes.
                        raw_body=EMPTY_BODY,
                        raw_size=0,
                        raw_hash=raw_hash(dated.raw),
                        raw_content_type="text/plain",
                        raw_encoding="utf-8",
                        keep_selectors=crawl.keep_selectors,
                        remove_selectors=crawl.remove_selectors,
                        extractor_revision=EXTRACTOR_REVISION,
                        origin_commit=dated.commit,
                    )
                )
        Version.objects.bulk_create(new_versions, batch_size=200)
        report.versions_stored = len(new_versions)
        _texts_adopt(
            matched=matched, newest=newest, crawls=crawls, occasion=occasion, report=report
        )
    return report


def _texts_adopt(
    *,
    matched: list[tuple[Document, Source]],
    newest: dict[int, tuple[str, DatedText]],
    crawls: dict[int, CrawlSettings],
    occasion: str,
    report: ImportReport,
) -> None:
    """Make each document's newest text its source's current one, unless a check read the
    source since; then re-verify the source's claims against it."""
    ids = {
        (source_id, digest): pk
        for source_id, digest, pk in Version.objects.filter(
            source_id__in=list(newest), content_hash__in=[d for d, _ in newest.values()]
        ).values_list("source_id", "content_hash", "pk")
    }
    crawled = dict(
        Check.objects.filter(
            source_id__in=list(newest),
            kind=Check.Kind.FETCH,
            status=Check.Status.DONE,
            version__isnull=False,
        )
        .values("source_id")
        .annotate(last=Max("finished_at"))
        .values_list("source_id", "last")
    )
    cited = set(
        Claim.objects.filter(source_id__in=list(newest))
        .exclude(status=Claim.Status.RETIRED)
        .values_list("source_id", flat=True)
        .distinct()
    )
    for document, source in matched:
        if source.pk not in newest:
            continue
        digest, dated = newest[source.pk]
        if crawled.get(source.pk) and crawled[source.pk] > dated.recorded_at:
            report.crawled_newer.append(document.name)
            continue
        version_id = ids[(source.pk, digest)]
        crawl = crawls[source.pk]
        if crawl.current_version_id != version_id:
            CrawlSettings.objects.filter(pk=crawl.pk).update(current_version_id=version_id)
            report.current_moved += 1
        if source.pk not in cited:
            continue
        version = Version.objects.defer("raw_body").get(pk=version_id)
        claims = Claim.objects.filter(source_id=source.pk).exclude(status=Claim.Status.RETIRED)
        total = claims.count()
        written = claims_reverify_imported(
            version=version,
            read_at=dated.recorded_at,
            occasion=f"{occasion}, {document.name} of {dated.recorded_at:%Y-%m-%d}",
            evidence={"url": document.url, "commit": dated.commit, "imported": occasion},
        )
        report.already_verified += total - len(written)
        for verification in written:
            if verification.outcome == Verification.Outcome.CONFIRMED:
                report.found += 1
            elif verification.claim.evidence_quote.strip():
                report.not_found.append(
                    NotFound(
                        claim_id=verification.claim_id,
                        label=verification.claim.key.key,
                        document=document.name,
                        version=version.number,
                        outcome=verification.get_outcome_display().lower(),
                    )
                )
            else:
                report.without_quote += 1
