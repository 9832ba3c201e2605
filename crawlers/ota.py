"""Reading an Open Terms Archive versions repository: its documents and their dated texts.

An Open Terms Archive dataset is a git repository with one folder per service and one
Markdown file per document (``<service>/<document type>.md``); every commit that touches a
file is one recorded version of that document, dated the day the change was seen. Beside it,
``documents.tsv`` gives each document's addresses (columns ``service_folder``, ``terms_type``,
``url``; others are ignored): a document made of several pages has a row per page, and one
page may hold several documents. A repository may come as a clone folder or as a git bundle,
which is cloned into a temporary folder for the import and removed after.

``ota_import`` reads the whole dataset first (any problem raises ``DatasetError`` naming it)
and then hands the documents whose address is a source's to ``crawlers.text_import``.
Texts from Open Terms Archive are distributed under ODC-BY 1.0: every page that shows one
credits "Open Terms Archive contributors".
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

DOCUMENTS_FILE = "documents.tsv"
REQUIRED_COLUMNS = ("service_folder", "terms_type", "url")
OCCASION = "Open Terms Archive import"
GIT_TIMEOUT = 300


@dataclass(frozen=True)
class OtaDocument:
    service: str
    terms_type: str
    url: str

    @property
    def name(self) -> str:
        return f"{self.service}/{self.terms_type}"

    @property
    def path(self) -> str:
        return f"{self.service}/{self.terms_type}.md"


def documents_read(path: Path) -> list[OtaDocument]:
    """The rows of a ``documents.tsv``, one per document and address: a document made of
    several pages is listed once per page, and one page may hold several documents. Raises
    ``DatasetError`` naming the problem (unreadable file, missing columns, a short row, an
    empty field)."""
    rows, problems = tsv_rows(path, columns=REQUIRED_COLUMNS, what="documents file")
    documents: list[OtaDocument] = []
    seen: set[OtaDocument] = set()
    for line, values in rows:
        empty = [name for name, value in values.items() if not value]
        if empty:
            problems.append(f"line {line}: empty {', '.join(empty)}")
            continue
        document = OtaDocument(values["service_folder"], values["terms_type"], values["url"])
        if document in seen:
            continue  # the same row twice says nothing new
        seen.add(document)
        documents.append(document)
    if problems:
        raise DatasetError(f"{path}: " + "; ".join(problems[:10]) + ".")
    return documents


def _git(git_dir: Path | None, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git (in ``git_dir``, never a repository above it); raises ``DatasetError``."""
    env = {**os.environ, "LC_ALL": "C", "GIT_TERMINAL_PROMPT": "0"}
    command = ["git"]
    if git_dir is not None:
        # A folder that is not a repository itself must not be read as part of one above it.
        env["GIT_CEILING_DIRECTORIES"] = str(git_dir.resolve().parent)
        command += ["-C", str(git_dir)]
    try:
        done = subprocess.run(
            [*command, *args],
            input=stdin,
            capture_output=True,
            env=env,
            timeout=GIT_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DatasetError(f"git could not be run: {exc}") from None
    if done.returncode != 0:
        message = " ".join(done.stderr.decode("utf-8", errors="replace").split())
        raise DatasetError(message[:300] or f"git {args[0]} failed")
    return done.stdout


@contextmanager
def repository_open(path: Path) -> Iterator[Path]:
    """A readable git directory holding ``path``'s history: the folder itself, or a temporary
    clone of a bundle (removed on exit). Raises ``DatasetError`` for anything else."""
    if not path.exists():
        raise DatasetError(f"{path}: no such repository or bundle.")
    with tempfile.TemporaryDirectory(prefix="atlas-ota-") as scratch:
        git_dir = path
        if path.is_file():
            git_dir = Path(scratch) / "versions.git"
            try:
                _git(None, "clone", "--quiet", "--bare", "--", str(path.resolve()), str(git_dir))
            except DatasetError as exc:
                raise DatasetError(f"{path}: not a git bundle ({exc}).") from None
        try:
            _git(git_dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
        except DatasetError as exc:
            raise DatasetError(
                f"{path}: not a git repository with recorded versions ({exc})."
            ) from None
        yield git_dir


def _histories(git_dir: Path, paths: list[str]) -> dict[str, list[tuple[str, dt.datetime, str]]]:
    """``(commit, date, blob)`` for each version of each of ``paths``, oldest first.

    What ``git log --follow -- <path>`` lists for each path, renames followed back, but not
    copies: ``--follow`` also takes a new document's first record for a copy of a similar
    document and lists that one's history as its own (in the GenAI collection, ChatGPT's
    Commercial Terms would inherit the versions of DALL·E's Platform to Business Notice), which
    would date a text to days it did not exist. A commit that deletes the file holds no text and
    is left out. Read from one ``git log`` of the whole history, not one process per document.
    """
    out = _git(git_dir, "log", "-z", "--raw", "-M", "--no-abbrev", "--format=%H %aI", "HEAD")
    found: dict[str, list[tuple[str, dt.datetime, str]]] = {path: [] for path in paths}
    watched: dict[str, list[str]] = {}
    for path in paths:
        watched.setdefault(path, []).append(path)
    tokens = iter(out.decode("utf-8", errors="surrogateescape").split("\0"))
    commit: tuple[str, dt.datetime] | None = None
    for token in tokens:
        token = token.strip("\n")
        if not token:
            continue
        if not token.startswith(":"):
            sha, _, date = token.partition(" ")
            try:
                commit = (sha, dt.datetime.fromisoformat(date))
            except ValueError:
                raise DatasetError(f"commit {sha} has no readable date.") from None
            continue
        fields = token[1:].split()
        status, blob = fields[4], fields[3]
        old = new = next(tokens, "")
        if status[:1] in ("R", "C"):
            new = next(tokens, "")
        if commit is None or new not in watched:
            continue
        targets = watched.pop(new)
        if status[:1] != "D":
            for target in targets:
                found[target].append((commit[0], commit[1], blob))
        # Going back in time, a renamed file is followed under its earlier name.
        watched.setdefault(old if status[:1] == "R" else new, []).extend(targets)
    for history in found.values():
        history.reverse()
    return found


def _blobs(git_dir: Path, blobs: list[str]) -> dict[str, bytes]:
    """The contents of ``blobs``, read by one ``git cat-file --batch``."""
    unique = list(dict.fromkeys(blobs))
    if not unique:
        return {}
    out = _git(git_dir, "cat-file", "--batch", stdin="".join(f"{b}\n" for b in unique).encode())
    contents: dict[str, bytes] = {}
    position = 0
    for blob in unique:
        end = out.index(b"\n", position)
        header = out[position:end].split()
        if len(header) != 3 or header[1] != b"blob":
            raise DatasetError(f"object {blob} is missing from the repository.")
        size = int(header[2])
        contents[blob] = out[end + 1 : end + 1 + size]
        position = end + 1 + size + 1
    return contents


def document_texts(git_dir: Path, documents: list[OtaDocument]) -> dict[str, list[DatedText]]:
    """Each document's dated texts, oldest first, by document name (empty: not in the
    repository). Raises ``DatasetError`` for a text that is not UTF-8."""
    by_path = _histories(git_dir, [d.path for d in documents])
    histories = {d.name: by_path[d.path] for d in documents}
    contents = _blobs(git_dir, [blob for h in histories.values() for _, _, blob in h])
    texts: dict[str, list[DatedText]] = {}
    for name, history in histories.items():
        texts[name] = []
        for commit, date, blob in history:
            raw = contents[blob]
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise DatasetError(f"{name} at commit {commit}: the text is not UTF-8.") from None
            texts[name].append(DatedText(text=text, recorded_at=date, commit=commit, raw=raw))
    return texts


def ota_import(*, path: Path, documents_file: Path | None = None) -> ImportReport:
    """Import the Open Terms Archive repository or bundle at ``path`` (see the module).

    ``documents_file`` defaults to the ``documents.tsv`` beside ``path``. Returns the report;
    raises ``DatasetError`` (nothing written) when the dataset cannot be read whole.
    """
    if not path.exists():
        raise DatasetError(f"{path}: no such repository or bundle.")
    documents = documents_read(documents_file or path.resolve().parent / DOCUMENTS_FILE)
    with repository_open(path) as git_dir:
        report = ImportReport()
        pending = [Document(name=d.name, url=d.url) for d in documents]
        matched = documents_match(
            documents=pending,
            report=report,
            title_names={d.name: d.terms_type for d in documents},
        )
        by_name = {d.name: d for d in documents}
        wanted = list(dict.fromkeys(document.name for document, _ in matched))
        texts = document_texts(git_dir, [by_name[name] for name in wanted])
    stored = []
    for document, source in matched:
        document.texts = texts[document.name]
        if not document.texts:
            report.refused.append(f"{document.name}: not in the repository")
            continue
        stored.append((document, source))
    report.refused = list(dict.fromkeys(report.refused))
    return texts_store(
        matched=stored, cause=VersionCause.OTA_IMPORT, occasion=OCCASION, report=report
    )
