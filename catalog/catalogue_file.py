"""The catalogue data file: where it is, what it may contain, and how it is read.

The loader (``catalog.loader``) applies a parsed file to the database; this module says what a
file may hold, so an unknown section or field is reported instead of ignored.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError

from atlas.storable_text import unstorable_text

# The catalogue ships as a folder of YAML files, read as one: the seed file holds the
# vocabularies and the first catalogue (Mistral AI); the other files add providers and models.
DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "data"
# The seed alone: the vocabularies and the first catalogue's facts, which tests build on.
SEED_CATALOGUE = DEFAULT_CATALOGUE / "catalogue.yaml"
SUPPORTED_VERSIONS = {1}
# The file nests a few levels; the bound stops a hostile file from exhausting the recursion of
# the YAML composer.
MAX_YAML_DEPTH = 64


class CatalogueError(Exception):
    """The data file cannot be loaded; ``errors`` lists every problem found."""

    def __init__(self, path: Path, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        listing = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{path}: {len(errors)} problem(s), nothing was written:\n{listing}")


class _CatalogueYAML(yaml.SafeLoader):
    """YAML's safe loader, bounded for a file anyone may propose: nesting deeper than
    ``MAX_YAML_DEPTH`` and aliases (``*name``, which can repeat a value exponentially many
    times) are refused, as is text no database can store; an impossible date (``2026-02-30``)
    is read as text, so the loader reports it with its record and field."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            raise ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in the catalogue file; write the value out",
                self.peek_event().start_mark,
            )
        self.depth += 1
        try:
            if self.depth > MAX_YAML_DEPTH:
                raise ComposerError(
                    None,
                    None,
                    f"nested deeper than {MAX_YAML_DEPTH} levels",
                    self.peek_event().start_mark,
                )
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def construct_scalar(self, node):
        value = super().construct_scalar(node)
        if isinstance(value, str) and (reason := unstorable_text(value)):
            raise ConstructorError(None, None, reason.rstrip("."), node.start_mark)
        return value

    def construct_yaml_timestamp(self, node):
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError:
            return self.construct_scalar(node)


_CatalogueYAML.add_constructor(
    "tag:yaml.org,2002:timestamp", _CatalogueYAML.construct_yaml_timestamp
)


class _Record(dict):
    """A top-level record read from one file of a catalogue folder, which problems name by its
    file and its position there."""

    def __init__(self, item: dict, *, origin: str, index: int) -> None:
        super().__init__(item)
        self.origin = origin
        self.index = index


def catalogue_read(path: Path) -> dict:
    """The parsed catalogue at ``path``, a file or a folder of ``*.yaml`` files.

    A folder's files (sorted by name, sub-folders included) are read as one catalogue: each
    section's records are joined, and a problem names the file and the record's position in it.
    Raises ``CatalogueError`` if any file is not a catalogue file.
    """
    if not path.is_dir():
        return _file_read(path)
    files = sorted(p for p in path.rglob("*.yaml") if p.is_file())
    if not files:
        raise CatalogueError(path, ["no *.yaml file in this folder"])
    merged: dict = {}
    problems = []
    for file in files:
        try:
            data = _file_read(file)
        except CatalogueError as exc:
            name = file.relative_to(path)
            problems += [f"{name}: {error}" for error in exc.errors]
            continue
        origin = str(file.relative_to(path))
        for section, items in data.items():
            if section == "version":
                merged["version"] = items
            elif not isinstance(items, list):
                problems.append(f"{origin}: {section}: must be a list of records")
            else:
                merged.setdefault(section, []).extend(
                    _Record(item, origin=origin, index=index) if isinstance(item, dict) else item
                    for index, item in enumerate(items)
                )
    if problems:
        raise CatalogueError(path, problems)
    return merged


def _file_read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(path, [f"cannot be read: {exc}"]) from None
    try:
        data = yaml.load(text, Loader=_CatalogueYAML)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise CatalogueError(path, [f"{where}not valid YAML ({problem})"]) from None
    if not isinstance(data, dict):
        raise CatalogueError(path, ["the top level must be a mapping of sections"])
    version = data.get("version")
    if version not in SUPPORTED_VERSIONS:
        raise CatalogueError(path, [f"version: unsupported format version {version!r}; expected 1"])
    return data


# The fields each section accepts; anything else is reported, so a typo is never ignored.
SECTIONS = {
    "version": None,
    "modalities": {"slug", "name"},
    "claim_keys": {"key", "label", "group", "value_type", "unit", "description"},
    "licences": {
        "slug", "spdx_id", "name", "kind", "url", "summary", "permissions", "conditions",
        "limitations", "commercial_use", "self_hosting", "fine_tuning", "weight_redistribution",
        "attribution_required", "output_restrictions", "user_threshold", "terms",
    },
    "sources": {"slug", "url", "title", "publisher", "doc_type", "language", "provider"},
    "providers": {
        "slug", "name", "kind", "status", "headquarters_country", "headquarters_address",
        "founded_year", "website", "summary", "analysis", "sources", "claims", "faq",
    },
    "models": {
        "slug", "provider", "name", "family", "description", "weights", "licence", "architecture",
        "total_params_b", "active_params_b", "context_window", "modalities", "api_ids",
        "release_date", "deprecation_date", "retirement_date", "successor", "claims", "prices",
    },
    "criteria": {"slug", "name", "description", "position", "active"},
    "assessments": {
        "provider", "status", "verdict", "assessed_on", "conclusion", "data_processing",
        "positives", "negatives", "server_locations", "strengths", "weaknesses", "sources",
        "ratings",
    },
    "comparisons": {"slug", "title", "summary", "providers"},
}  # fmt: skip
CLAIM_FIELDS = {
    "key", "value", "unit", "condition", "scope_plan", "scope_surface", "scope_region", "source",
    "quote", "checked", "status", "note",
}  # fmt: skip
# A licence's AI-specific obligation, in its own words (``catalog.models.LicenceTerm``).
TERM_FIELDS = {"key", "value", "number", "note", "quote", "source", "read_on"}
PRICE_FIELDS = {"input", "output", "currency", "tier", "as_of", "source"}
FAQ_FIELDS = {"question", "answer", "position", "source"}
RATING_FIELDS = {"criterion", "value", "justification", "evidence"}
# A rating's evidence: a source's slug, or a mapping with the words relied on.
EVIDENCE_FIELDS = {"source", "quote", "read_on"}

# The fields that name a record: the loader finds the row to update by them, so two records
# with the same values would be one row, the later silently overwriting the earlier.
NATURAL_KEYS = {
    "modalities": ("slug",),
    "claim_keys": ("key",),
    "licences": ("slug",),
    "sources": ("slug",),
    "providers": ("slug",),
    "models": ("slug",),
    "criteria": ("slug",),
    "assessments": ("provider", "assessed_on"),
    "comparisons": ("slug",),
    "claims": ("key", "source", "scope_plan", "scope_surface", "scope_region"),
    "prices": ("currency", "tier", "as_of"),
    "faq": ("question",),
    "ratings": ("criterion",),
    "terms": ("key",),
}
# What the loader reads an absent field of a natural key as.
KEY_DEFAULTS = {"scope_surface": "any", "currency": "USD"}


def record_where(section: str, index: int, item: Any) -> str:
    """How problems name a record: its section, position and handle, ``providers[2]
    (slug=acme)``."""
    label = ""
    if isinstance(item, _Record):
        section, index = f"{item.origin}: {section}", item.index
    if isinstance(item, dict):
        for handle in ("slug", "key", "question", "criterion", "provider"):
            if item.get(handle):
                label = f" ({handle}={item[handle]})"
                break
    return f"{section}[{index}]{label}"


def _records(items: Any, label: str) -> list[tuple[str, dict]]:
    if not isinstance(items, list):
        return []
    return [
        (record_where(label, index, item), item)
        for index, item in enumerate(items)
        if isinstance(item, dict)
    ]


def _duplicates(records: list[tuple[str, dict]], fields: tuple[str, ...]) -> list[str]:
    first: dict[tuple[str, ...], str] = {}
    problems = []
    for where, item in records:
        key = tuple(str(item.get(f) or KEY_DEFAULTS.get(f, "")).strip() for f in fields)
        if not any(key):
            continue  # a record without its key is reported by the loader
        if key not in first:
            first[key] = where
            continue
        if len(fields) == 1:
            named = f"field {fields[0]!r}: {key[0]!r}"
        else:
            named = "fields " + ", ".join(f"{f}={v!r}" for f, v in zip(fields, key, strict=True))
        problems.append(
            f"{where}: {named} is defined twice, first at {first[key]}; each record must be "
            "distinct, or the later would overwrite the earlier"
        )
    return problems


def catalogue_duplicates(data: dict) -> list[str]:
    """Every record whose natural key (``NATURAL_KEYS``) another record of its section already
    has, naming both; a provider's own sources share the top-level sources' slugs."""
    problems = []
    providers = _records(data.get("providers"), "providers")
    models = _records(data.get("models"), "models")
    assessments = _records(data.get("assessments"), "assessments")
    for section in ("modalities", "claim_keys", "licences", "providers", "models", "criteria"):
        problems += _duplicates(_records(data.get(section), section), NATURAL_KEYS[section])
    problems += _duplicates(assessments, NATURAL_KEYS["assessments"])
    problems += _duplicates(_records(data.get("comparisons"), "comparisons"), ("slug",))
    sources = _records(data.get("sources"), "sources")
    for where, provider in providers:
        sources += _records(provider.get("sources"), f"{where}.sources")
    problems += _duplicates(sources, NATURAL_KEYS["sources"])
    for where, assessment in assessments:
        for r_where, rating in _records(assessment.get("ratings"), f"{where}.ratings"):
            evidence = rating.get("evidence")
            if not isinstance(evidence, list):
                continue
            entries = [
                (f"{r_where}.evidence[{index}]", {"source": entry})
                if not isinstance(entry, dict)
                else (f"{r_where}.evidence[{index}]", entry)
                for index, entry in enumerate(evidence)
            ]
            # One row per rating and source: a second quote from the same source would
            # overwrite the first.
            problems += _duplicates(entries, ("source",))
    licences = _records(data.get("licences"), "licences")
    nested = [(providers, ("claims", "faq")), (models, ("claims", "prices"))]
    nested.append((licences, ("terms",)))
    nested.append((assessments, ("ratings",)))
    for parents, sections in nested:
        for where, parent in parents:
            for section in sections:
                records = _records(parent.get(section), f"{where}.{section}")
                problems += _duplicates(records, NATURAL_KEYS[section])
    return problems
