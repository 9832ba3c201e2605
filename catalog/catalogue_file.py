"""The catalogue data file: where it is, what it may contain, and how it is read.

The loader (``catalog.loader``) applies a parsed file to the database; this module says what a
file may hold, so an unknown section or field is reported instead of ignored.
"""

from __future__ import annotations

from pathlib import Path

import yaml

DEFAULT_CATALOGUE = Path(__file__).resolve().parent / "data" / "catalogue.yaml"
SUPPORTED_VERSIONS = {1}


class CatalogueError(Exception):
    """The data file cannot be loaded; ``errors`` lists every problem found."""

    def __init__(self, path: Path, errors: list[str]) -> None:
        self.path = path
        self.errors = errors
        listing = "\n".join(f"  - {e}" for e in errors)
        super().__init__(f"{path}: {len(errors)} problem(s), nothing was written:\n{listing}")


def catalogue_read(path: Path) -> dict:
    """The parsed file at ``path``; raises ``CatalogueError`` if it is not a catalogue file."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CatalogueError(path, ["file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CatalogueError(path, [f"cannot be read: {exc}"]) from None
    try:
        data = yaml.safe_load(text)
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
        "attribution_required", "output_restrictions", "user_threshold",
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
PRICE_FIELDS = {"input", "output", "currency", "tier", "as_of", "source"}
FAQ_FIELDS = {"question", "answer", "position", "source"}
RATING_FIELDS = {"criterion", "value", "justification", "evidence"}
