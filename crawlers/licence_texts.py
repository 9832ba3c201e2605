"""Reading a folder of licence texts with its ``manifest.tsv``, and importing it.

The manifest has one row per text (``<id>.txt`` in the folder) with the repository, commit,
commit date and public address the text was taken from, and its SHA-256. Each text is stored
by ``crawlers.text_import`` as a version of the source whose address is the row's ``url``,
dated by ``commit_date`` and keeping ``commit``. A manifest that cannot be read whole (missing
columns, a malformed date or commit) is refused whole with ``DatasetError``; a text that is
missing, not UTF-8 or whose bytes do not have the stated SHA-256 is refused alone, and named
in the report.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from pathlib import Path

from crawlers.models import VersionCause
from crawlers.text_import import (
    DatasetError,
    DatedText,
    Document,
    ImportReport,
    documents_match,
    texts_store,
    tsv_rows,
)

MANIFEST_FILE = "manifest.tsv"
REQUIRED_COLUMNS = ("id", "name", "commit", "commit_date", "url", "sha256")
OCCASION = "Licence texts import"
_COMMIT = re.compile(r"[0-9a-f]{40}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]*")


def manifest_read(folder: Path) -> list[dict[str, str]]:
    """The manifest's rows as dicts of the required columns; raises ``DatasetError`` naming
    every problem found (file, column, line)."""
    path = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise DatasetError(f"{folder}: no such folder of licence texts.")
    rows, problems = tsv_rows(path, columns=REQUIRED_COLUMNS, what="manifest")
    entries, seen = [], set()
    for line, entry in rows:
        if not _ID.fullmatch(entry["id"]):
            problems.append(f"line {line}: id {entry['id']!r} is not a file name")
        elif entry["id"] in seen:
            problems.append(f"line {line}: id {entry['id']} is listed twice")
        if not _COMMIT.fullmatch(entry["commit"]):
            problems.append(f"line {line}: commit {entry['commit']!r} is not 40 hex digits")
        if not _SHA256.fullmatch(entry["sha256"]):
            problems.append(f"line {line}: sha256 {entry['sha256']!r} is not 64 hex digits")
        if not entry["url"]:
            problems.append(f"line {line}: empty url")
        try:
            dt.date.fromisoformat(entry["commit_date"])
        except ValueError:
            problems.append(
                f"line {line}: commit_date {entry['commit_date']!r} is not a date (YYYY-MM-DD)"
            )
        seen.add(entry["id"])
        entries.append(entry)
    if problems:
        raise DatasetError(f"{path}: " + "; ".join(problems[:10]) + ".")
    return entries


def _text(folder: Path, entry: dict[str, str]) -> DatedText | str:
    """The entry's dated text, or why its file is refused."""
    name = f"{entry['id']}.txt"
    try:
        raw = (folder / name).read_bytes()
    except OSError as exc:
        return f"{name}: cannot be read ({exc.strerror or exc})"
    digest = hashlib.sha256(raw).hexdigest()
    if digest != entry["sha256"]:
        return (
            f"{name}: its SHA-256 is {digest}, the manifest says {entry['sha256']}; "
            "the file is not the text the manifest describes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return f"{name}: not UTF-8 text"
    date = dt.date.fromisoformat(entry["commit_date"])
    return DatedText(
        text=text,
        recorded_at=dt.datetime.combine(date, dt.time(), tzinfo=dt.UTC),
        commit=entry["commit"],
        raw=raw,
    )


def licence_texts_import(*, folder: Path) -> ImportReport:
    """Import the licence texts in ``folder`` (see the module). Returns the report; raises
    ``DatasetError`` (nothing written) when the manifest cannot be read whole."""
    entries = manifest_read(folder)
    report = ImportReport()
    documents = [Document(name=e["id"], url=e["url"]) for e in entries]
    matched = documents_match(
        documents=documents, report=report, title_names={e["id"]: e["name"] for e in entries}
    )
    texts = {entry["id"]: _text(folder, entry) for entry in entries}
    report.refused = [problem for problem in texts.values() if isinstance(problem, str)]
    stored = []
    for document, source in matched:
        text = texts[document.name]
        if isinstance(text, DatedText):
            document.texts = [text]
            stored.append((document, source))
    return texts_store(
        matched=stored, cause=VersionCause.LICENCE_IMPORT, occasion=OCCASION, report=report
    )
