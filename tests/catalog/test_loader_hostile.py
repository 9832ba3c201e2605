"""A hostile or mistaken catalogue file is a problem list naming the record and field, never a
traceback, and writes nothing: duplicate records, impossible dates, deep nesting, aliases and
text no database can store."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from catalog.catalogue_file import MAX_YAML_DEPTH, SEED_CATALOGUE
from catalog.loader import CatalogueError, catalogue_load
from catalog.models import FAQ, AIModel, Claim, Licence, Price, Provider, Source

TABLES = [Provider, Licence, AIModel, Source, Claim, Price, FAQ]


def _counts() -> dict[str, int]:
    counts = {m.__name__: m.objects.count() for m in TABLES}
    counts |= {f"history:{m.__name__}": m.history.count() for m in TABLES}
    return counts


def _seed() -> dict:
    return yaml.safe_load(SEED_CATALOGUE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "catalogue.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def _problems(path: Path) -> list[str]:
    before = _counts()
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(path=path)
    assert _counts() == before
    return caught.value.errors


def test_a_provider_defined_twice_is_reported_naming_both_records(seeded_catalogue, tmp_path):
    data = _seed()
    second = dict(copy.deepcopy(data["providers"][0]), name="Overwritten")
    data["providers"].append(second)
    where = len(data["providers"]) - 1
    slug = second["slug"]
    problems = _problems(_write(tmp_path, data))
    assert (
        f"providers[{where}] (slug={slug}): field 'slug': {slug!r} is defined twice, first at "
        f"providers[0] (slug={slug}); each record must be distinct, or the later would "
        "overwrite the earlier"
    ) in problems
    assert Provider.objects.get(slug=slug).name != "Overwritten"


@pytest.mark.parametrize("section", ["licences", "models", "modalities", "claim_keys", "criteria"])
def test_a_duplicate_in_any_section_is_reported(seeded_catalogue, tmp_path, section):
    data = _seed()
    data[section].append(copy.deepcopy(data[section][0]))
    problems = _problems(_write(tmp_path, data))
    assert any(
        p.startswith(f"{section}[{len(data[section]) - 1}]") and "first at " + section in p
        for p in problems
    ), problems


def test_a_source_defined_at_the_top_and_under_a_provider_is_reported(seeded_catalogue, tmp_path):
    data = _seed()
    provider = next(p for p in data["providers"] if p.get("sources"))
    data["sources"] = [*(data.get("sources") or []), copy.deepcopy(provider["sources"][0])]
    problems = _problems(_write(tmp_path, data))
    assert any(
        p.startswith("providers[") and "is defined twice, first at sources[" in p for p in problems
    ), problems


def test_the_same_claim_twice_is_reported_naming_both(seeded_catalogue, tmp_path):
    data = _seed()
    provider = next(p for p in data["providers"] if p.get("claims"))
    provider["claims"].append(dict(copy.deepcopy(provider["claims"][0]), value="changed"))
    index = len(provider["claims"]) - 1
    problems = _problems(_write(tmp_path, data))
    duplicate = [p for p in problems if f".claims[{index}]" in p and "defined twice" in p]
    assert duplicate, problems
    assert "fields key=" in duplicate[0]
    assert ".claims[0]" in duplicate[0].split("first at ")[1]


def test_an_impossible_date_is_a_problem_naming_record_and_field(seeded_catalogue, tmp_path):
    data = _seed()
    data["models"][0]["release_date"] = "2026-02-30"
    text = yaml.safe_dump(data, allow_unicode=True).replace("'2026-02-30'", "2026-02-30")
    assert "release_date: 2026-02-30\n" in text  # unquoted: YAML reads it as a date
    problems = _problems(_write(tmp_path, text))
    slug = data["models"][0]["slug"]
    assert (
        f"models[0] (slug={slug}): field 'release_date': expected a date as YYYY-MM-DD, "
        "got '2026-02-30'"
    ) in problems


def test_deep_nesting_is_a_problem_not_a_recursion_error(db, tmp_path):
    path = _write(tmp_path, "version: 1\nproviders: " + "[" * 5000 + "]" * 5000 + "\n")
    (problem,) = _problems(path)
    assert f"nested deeper than {MAX_YAML_DEPTH} levels" in problem
    assert problem.startswith("line 2, column ")


def test_block_style_deep_nesting_is_refused_too(db, tmp_path):
    text = "version: 1\nproviders:\n" + "".join(f"{'  ' * i}- \n" for i in range(200))
    (problem,) = _problems(_write(tmp_path, text))
    assert "nested deeper than" in problem


def test_aliases_are_refused_so_a_small_file_cannot_expand(db, tmp_path):
    lines = ["version: 1", 'a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 8)}]" for i in range(1, 6)]
    lines += ["licences:", "- slug: bomb", "  name: Bomb", "  permissions: *a5"]
    (problem, *_) = _problems(_write(tmp_path, "\n".join(lines) + "\n"))
    assert "aliases (*name) are not allowed" in problem
    assert not Licence.objects.filter(slug="bomb").exists()


@pytest.mark.parametrize(
    ("escaped", "reason"),
    [("\\0", "Contains a NUL character"), ("\\ud800", "Contains a lone surrogate")],
)
def test_text_no_database_can_store_is_a_problem_naming_its_line(db, tmp_path, escaped, reason):
    text = f'version: 1\nproviders:\n- slug: acme\n  name: "Acme{escaped}"\n'
    (problem,) = _problems(_write(tmp_path, text))
    assert problem.startswith("line 4, column 9: ")
    assert reason in problem
