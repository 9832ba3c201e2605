"""Licences that decide: each AI-specific term with the licence's own words and its source,
loaded from the catalogue file, refused when malformed, and true to the shipped texts."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import yaml

from catalog.catalogue_file import DEFAULT_CATALOGUE, catalogue_read
from catalog.loader import CatalogueError, catalogue_load
from catalog.models import AIModel, Licence, LicenceTerm
from crawlers.matching import locate
from tests.factories import shared_dir

SOURCE = {
    "slug": "example-licence-text",
    "url": "https://example.org/licence.txt",
    "title": "Example Model Licence",
    "publisher": "Example Labs",
    "doc_type": "licence_text",
}
QUOTE = "You may use the Model for research purposes only."


def _licence(**term) -> dict:
    return {
        "slug": "example-research-licence",
        "name": "Example Research Licence",
        "kind": "research_only",
        "commercial_use": "no",
        "terms": [
            {
                "key": "research_only",
                "value": "yes",
                "quote": QUOTE,
                "source": "example-licence-text",
                "read_on": "2024-05-01",
            }
            | term
        ],
    }


def _write(tmp_path: Path, **term) -> Path:
    path = tmp_path / "catalogue.yaml"
    data = {"version": 1, "sources": [SOURCE], "licences": [_licence(**term)]}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def _refusal(tmp_path: Path, **term) -> str:
    with pytest.raises(CatalogueError) as refused:
        catalogue_load(path=_write(tmp_path, **term))
    assert not LicenceTerm.objects.exists()
    assert len(refused.value.errors) == 1
    return refused.value.errors[0]


def test_it_loads_a_licence_term_with_its_quote_and_source_and_reloads_unchanged(db, tmp_path):
    path = _write(tmp_path, number=None, note="Research only.")
    catalogue_load(path=path)
    term = LicenceTerm.objects.get()
    assert term.licence.slug == "example-research-licence"
    assert term.key == LicenceTerm.Key.RESEARCH_ONLY
    assert term.value == "yes"
    assert term.quote == QUOTE
    assert term.source.url == SOURCE["url"]
    assert str(term.read_on) == "2024-05-01"
    assert term.note == "Research only."
    report = catalogue_load(path=path)
    assert not report.changed
    assert term.history.count() == 1


def test_it_refuses_an_unknown_field_in_a_term(db, tmp_path):
    problem = _refusal(tmp_path, clause="4.b")
    assert "licences[0] (slug=example-research-licence).terms[0] (key=research_only)" in problem
    assert "field 'clause': unknown field" in problem


def test_it_refuses_an_unknown_term_key(db, tmp_path):
    problem = _refusal(tmp_path, key="royalties")
    assert "field 'key'" in problem and "royalties" in problem


def test_it_refuses_a_value_outside_the_vocabulary(db, tmp_path):
    problem = _refusal(tmp_path, value="partial")
    assert "field 'value'" in problem and "partial" in problem


def test_it_refuses_a_term_citing_an_unknown_source(db, tmp_path):
    problem = _refusal(tmp_path, source="nowhere")
    assert "field 'source': unknown source 'nowhere'" in problem


def test_it_refuses_a_stated_term_without_the_licences_words(db, tmp_path):
    problem = _refusal(tmp_path, quote="")
    assert "licence_term_quoted" in problem


def test_it_refuses_a_term_without_the_date_it_was_read(db, tmp_path):
    problem = _refusal(tmp_path, read_on="2024-02-30")
    assert "field 'read_on': expected a date" in problem


def test_it_refuses_the_same_term_twice_for_one_licence(db, tmp_path):
    path = tmp_path / "catalogue.yaml"
    licence = _licence()
    licence["terms"].append(dict(licence["terms"][0]))
    data = {"version": 1, "sources": [SOURCE], "licences": [licence]}
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CatalogueError, match="field 'key': 'research_only' is defined twice"):
        catalogue_load(path=path)
    assert not Licence.objects.exists()


# --- the shipped data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    return catalogue_read(DEFAULT_CATALOGUE)


def _manifest() -> dict[str, dict]:
    with (shared_dir("licences") / "manifest.tsv").open(encoding="utf-8") as f:
        return {row["url"]: row for row in csv.DictReader(f, delimiter="\t")}


def _sources(data: dict) -> dict[str, dict]:
    found = {s["slug"]: s for s in data.get("sources", [])}
    for provider in data.get("providers", []):
        found |= {s["slug"]: s for s in provider.get("sources") or []}
    return found


def test_the_shipped_licences_quote_at_least_fifteen_ai_licences(shipped):
    licences = shipped["licences"]
    quoted = [lic for lic in licences if any(t.get("quote") for t in lic.get("terms", []))]
    assert len(quoted) >= 15


def test_every_shipped_licence_quote_stands_in_the_text_its_source_names(shipped):
    manifest, sources = _manifest(), _sources(shipped)
    checked = 0
    for licence in shipped["licences"]:
        for term in licence.get("terms", []):
            source = sources[term["source"]]
            row = manifest[source["url"]]
            assert source["doc_type"] == "licence_text"
            assert str(term["read_on"]) == row["commit_date"], (licence["slug"], term["key"])
            if term.get("quote"):
                text = (shared_dir("licences") / f"{row['id']}.txt").read_text(encoding="utf-8")
                assert locate(text, term["quote"]) is not None, (licence["slug"], term["key"])
                checked += 1
    assert checked >= 80


def test_every_open_weight_model_in_the_shipped_data_has_a_licence(db):
    catalogue_load(path=DEFAULT_CATALOGUE)
    unlicensed = AIModel.objects.filter(weights=AIModel.Weights.OPEN, licence__isnull=True)
    assert list(unlicensed.values_list("slug", flat=True)) == []
    research = AIModel.objects.filter(licence__kind=Licence.Kind.RESEARCH_ONLY)
    assert {"opt-175b", "qwen-1-8b-chat", "sdxl-turbo", "mistral-large-instruct-2407"} <= set(
        research.values_list("slug", flat=True)
    )
    assert LicenceTerm.objects.filter(licence__slug="llama-3-1-community-licence").count() >= 6


def test_the_shipped_terms_agree_with_the_licences_plain_fields(shipped):
    for licence in shipped["licences"]:
        terms = {t["key"]: t["value"] for t in licence.get("terms", [])}
        if "commercial_use" in terms:
            assert terms["commercial_use"] == licence["commercial_use"], licence["slug"]
        if "research_only" in terms:
            research = licence["kind"] == "research_only"
            assert (terms["research_only"] == "yes") == research, licence["slug"]
        if "weight_redistribution" in terms:
            assert terms["weight_redistribution"] == licence["weight_redistribution"]
