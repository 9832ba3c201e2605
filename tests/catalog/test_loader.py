"""The catalogue loader: complete, idempotent, all-or-nothing, and precise about errors."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.core.management.base import CommandError

from assessments.models import Assessment, Rating, RatingEvidence
from catalog.catalogue_file import SEED_CATALOGUE
from catalog.loader import CatalogueError, catalogue_load
from catalog.models import FAQ, AIModel, Claim, Licence, Price, Provider, Source

HISTORIES = [Provider, Licence, AIModel, Source, Claim, Price, FAQ, Assessment, Rating]


def _counts() -> dict[str, int]:
    counts = {m.__name__: m.objects.count() for m in HISTORIES}
    counts |= {f"history:{m.__name__}": m.history.count() for m in HISTORIES}
    return counts


def _seed() -> dict:
    return yaml.safe_load(SEED_CATALOGUE.read_text(encoding="utf-8"))


def _write(tmp_path: Path, data: dict | str) -> Path:
    path = tmp_path / "catalogue.yaml"
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_it_loads_mistral_and_the_providers_it_is_compared_with(seeded_catalogue):
    slugs = set(Provider.objects.values_list("slug", flat=True))
    assert slugs == {
        "mistral",
        "anthropic",
        "alibaba-qwen",
        "amazon-bedrock",
        "openai",
        "openrouter",
        "litellm",
    }
    mistral = Provider.objects.get(slug="mistral")
    assert mistral.headquarters_country == "FR"
    assert mistral.founded_year == 2023
    assert mistral.faqs.count() >= 1


def test_it_loads_every_mistral_model_the_seeds_name(seeded_catalogue):
    names = set(AIModel.objects.filter(provider__slug="mistral").values_list("name", flat=True))
    for expected in [
        "Mistral 7B",
        "Mixtral 8x7B",
        "Mixtral 8x22B",
        "Mistral Large 3",
        "Mistral Small 4",
        "Codestral",
        "Devstral 2",
        "Voxtral Small",
        "Ministral 3 14B",
        "Ministral 3 8B",
        "Ministral 3 3B",
        "Mistral Nemo 12B",
        "Magistral Medium 1.2",
    ]:
        assert expected in names
    assert len(names) >= 20


def test_it_keeps_the_seed_figures(seeded_catalogue):
    mixtral = AIModel.objects.get(slug="mixtral-8x7b")
    assert mixtral.architecture == AIModel.Architecture.MOE
    assert str(mixtral.total_params_b) == "46.70"
    assert str(mixtral.active_params_b) == "12.90"
    assert mixtral.licence.spdx_id == "Apache-2.0"
    assert mixtral.weights == AIModel.Weights.OPEN
    large = Price.objects.get(model__slug="mistral-large")
    assert (str(large.input_per_mtok), str(large.output_per_mtok)) == ("2.0000", "6.0000")
    assert AIModel.objects.get(slug="mistral-large").context_window == 128000
    assert AIModel.objects.get(slug="codestral").context_window == 32000


def test_every_claim_and_rating_has_a_source_and_a_check_date(seeded_catalogue):
    claims = Claim.objects.all()
    assert claims.count() > 50
    for claim in claims:
        assert claim.source_id is not None, claim
        assert isinstance(claim.checked_at, dt.date), claim
    ratings = Rating.objects.filter(assessment__status=Assessment.Status.PUBLISHED)
    assert ratings.count() == 8
    for rating in ratings:
        evidence = list(rating.evidence.all())
        assert evidence, rating
        assert all(e.source_id and isinstance(e.read_on, dt.date) for e in evidence), rating
    for price in Price.objects.all():
        assert price.source_id and price.as_of


def test_the_seed_claims_carry_their_seed_dates(seeded_catalogue):
    commercial = Claim.objects.get(provider__slug="mistral", key__key="commercial_use_allowed")
    assert commercial.checked_at == dt.date(2026, 4, 18)
    assert commercial.value_flag == "yes"
    training = Claim.objects.get(
        provider__slug="mistral",
        key__key="training_use_of_input",
        source__slug="mistral-terms-of-use",
        scope_surface="api",
    )
    assert training.value_flag == "no"


def test_it_keeps_both_sides_of_a_disagreement_as_disputed(seeded_catalogue):
    image = Claim.objects.filter(model__slug="mistral-large", key__key="image_input")
    assert {c.value_flag for c in image} == {"yes", "no"}
    assert {c.status for c in image} == {Claim.Status.DISPUTED}
    assert len({c.source_id for c in image}) == 2
    residency = Claim.objects.filter(provider__slug="mistral", key__key="eu_data_residency")
    assert {c.status for c in residency} == {Claim.Status.DISPUTED}


def test_the_gdpr_assessment_is_published_with_a_conditional_verdict(seeded_catalogue):
    assessment = Assessment.objects.get(provider__slug="mistral", status="published")
    assert assessment.verdict == Assessment.Verdict.CONDITIONAL
    ratings = {r.criterion.slug: r.value for r in assessment.ratings.select_related("criterion")}
    assert ratings["on-prem"] == "supported"
    assert ratings["dpa"] == "supported"
    assert ratings["no-training"] == "partial"
    assert ratings["eu-saas"] == "partial"
    assert assessment.strengths and assessment.weaknesses


def test_a_second_run_changes_nothing(seeded_catalogue):
    before = _counts()
    report = catalogue_load(path=SEED_CATALOGUE)
    assert not report.changed
    assert _counts() == before


def test_an_edited_file_updates_records_in_place_with_history(seeded_catalogue, tmp_path):
    data = _seed()
    data["providers"][0]["summary"] = "A shorter summary."
    data["models"][0]["context_window"] = 33000
    before = _counts()
    report = catalogue_load(path=_write(tmp_path, data))
    after = _counts()
    assert report.updated["providers"] == 1
    assert Provider.objects.get(slug="mistral").summary == "A shorter summary."
    assert AIModel.objects.get(slug="mistral-7b").context_window == 33000
    assert after["Provider"] == before["Provider"]
    assert after["history:Provider"] == before["history:Provider"] + 1
    assert after["history:AIModel"] == before["history:AIModel"] + 1
    assert after["history:Claim"] == before["history:Claim"]
    change = Provider.history.filter(slug="mistral").first()
    assert "catalogue file" in change.history_change_reason


def test_it_never_moves_a_check_date_backwards_or_resets_a_review(seeded_catalogue):
    claim = Claim.objects.get(provider__slug="mistral", key__key="dpa_available")
    Claim.objects.filter(pk=claim.pk).update(
        checked_at=dt.date(2026, 10, 1), status=Claim.Status.NEEDS_REVIEW
    )
    catalogue_load(path=SEED_CATALOGUE)
    claim.refresh_from_db()
    assert claim.checked_at == dt.date(2026, 10, 1)
    assert claim.status == Claim.Status.NEEDS_REVIEW


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (
            lambda d: d["models"][1].update(licence="apache-3"),
            "models[1] (slug=mixtral-8x7b): field 'licence': unknown licence 'apache-3'",
        ),
        (
            lambda d: d["models"][0].update(contxt_window=1),
            "models[0] (slug=mistral-7b): field 'contxt_window': unknown field",
        ),
        (
            lambda d: d["providers"][0]["claims"][0].update(value="maybe"),
            "providers[0] (slug=mistral).claims[0] (key=commercial_use_allowed): "
            "field 'value_flag'",
        ),
        (
            lambda d: d["providers"][0]["claims"][0].update(checked="last spring"),
            "field 'checked': expected a date as YYYY-MM-DD, got 'last spring'",
        ),
        (
            lambda d: d["models"][3]["prices"][0].update(input=-1),
            "models[3] (slug=mistral-small).prices[0]: record: violates a database constraint",
        ),
        (
            lambda d: d["providers"][1].update(kind="bakery"),
            "providers[1] (slug=anthropic): field 'kind'",
        ),
        (
            lambda d: d["assessments"][0]["ratings"].pop(),
            "assessments[0] (provider=mistral): field 'ratings': no rating for criteria "
            "['open-source-path']",
        ),
        (
            lambda d: d.update(version=7),
            "version: unsupported format version 7",
        ),
    ],
)
def test_a_bad_file_is_rejected_naming_record_and_field_and_nothing_is_written(
    seeded_catalogue, tmp_path, edit, expected
):
    data = _seed()
    data["providers"][0]["summary"] = "This edit must not land."
    edit(data)
    before = _counts()
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(path=_write(tmp_path, data))
    message = str(caught.value)
    assert expected in message
    assert "catalogue.yaml" in message
    assert _counts() == before
    assert Provider.objects.get(slug="mistral").summary != "This edit must not land."


def test_a_bad_file_on_an_empty_database_writes_nothing(db, tmp_path):
    data = _seed()
    data["models"][0]["licence"] = "no-such-licence"
    with pytest.raises(CatalogueError):
        catalogue_load(path=_write(tmp_path, data))
    assert Provider.objects.count() == 0
    assert Source.objects.count() == 0


def test_broken_yaml_is_reported_with_its_line(db, tmp_path):
    path = _write(tmp_path, "version: 1\nproviders:\n\t- slug: x\n")
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(path=path)
    assert "line 3" in str(caught.value)
    assert "not valid YAML" in str(caught.value)


def test_a_missing_file_is_reported(db, tmp_path):
    with pytest.raises(CatalogueError, match="file not found"):
        catalogue_load(path=tmp_path / "nope.yaml")


def test_the_command_loads_and_reports_errors(db, tmp_path, capsys):
    call_command("load_catalogue", str(SEED_CATALOGUE))
    assert "Catalogue updated" in capsys.readouterr().out
    call_command("load_catalogue", str(SEED_CATALOGUE))
    assert "Catalogue unchanged" in capsys.readouterr().out
    with pytest.raises(CommandError, match="unknown section"):
        call_command("load_catalogue", str(_write(tmp_path, "version: 1\nproviderz: []\n")))


def test_rating_evidence_is_not_duplicated_by_reloading(seeded_catalogue):
    count = RatingEvidence.objects.count()
    catalogue_load(path=SEED_CATALOGUE)
    assert RatingEvidence.objects.count() == count


def _folder(tmp_path: Path, files: dict[str, dict | str]) -> Path:
    folder = tmp_path / "data"
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
        path.write_text(text, encoding="utf-8")
    return folder


def _extra_provider(slug: str = "acme-ai") -> dict:
    return {
        "version": 1,
        "providers": [
            {
                "slug": slug,
                "name": "Acme AI",
                "kind": "model_developer",
                "website": "https://acme.example/",
                "sources": [
                    {
                        "slug": f"{slug}-terms",
                        "url": "https://acme.example/terms",
                        "title": "Acme terms",
                        "publisher": "Acme AI",
                        "doc_type": "terms",
                    }
                ],
                "claims": [
                    {
                        "key": "commercial_use_allowed",
                        "value": "yes",
                        "source": f"{slug}-terms",
                        "checked": "2025-06-01",
                    }
                ],
            }
        ],
        "models": [{"slug": f"{slug}-one", "provider": slug, "name": "Acme One"}],
    }


def test_a_folder_is_read_as_one_catalogue_whose_files_refer_to_each_other(db, tmp_path):
    folder = _folder(
        tmp_path, {"catalogue.yaml": _seed(), "providers/acme.yaml": _extra_provider()}
    )
    catalogue_load(path=folder)
    acme = Provider.objects.get(slug="acme-ai")
    # The claim key and the vocabularies come from the seed file, the provider from its own.
    assert acme.claims.get().key.key == "commercial_use_allowed"
    assert AIModel.objects.get(slug="acme-ai-one").provider == acme
    assert Provider.objects.filter(slug="mistral").exists()
    assert not catalogue_load(path=folder).changed


def test_a_bad_record_in_a_folder_is_named_by_its_file_and_nothing_is_written(db, tmp_path):
    broken = _extra_provider()
    broken["models"][0]["licence"] = "no-such-licence"
    folder = _folder(tmp_path, {"catalogue.yaml": _seed(), "providers/acme.yaml": broken})
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(path=folder)
    assert "providers/acme.yaml: models[0] (slug=acme-ai-one): field 'licence'" in str(caught.value)
    assert Provider.objects.count() == 0


def test_the_same_slug_in_two_files_is_refused_naming_both(db, tmp_path):
    folder = _folder(
        tmp_path,
        {
            "catalogue.yaml": _seed(),
            "a.yaml": _extra_provider(),
            "b.yaml": _extra_provider(),
        },
    )
    with pytest.raises(CatalogueError) as caught:
        catalogue_load(path=folder)
    message = str(caught.value)
    assert "b.yaml: providers[0] (slug=acme-ai)" in message
    assert "first at a.yaml: providers[0]" in message
    assert Provider.objects.count() == 0


def test_broken_yaml_in_a_folder_names_its_file(db, tmp_path):
    folder = _folder(
        tmp_path, {"catalogue.yaml": _seed(), "bad.yaml": "version: 1\nproviders:\n\t- x\n"}
    )
    with pytest.raises(CatalogueError, match=r"bad\.yaml: line 3"):
        catalogue_load(path=folder)


def test_an_empty_folder_is_refused(db, tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(CatalogueError, match=r"no \*\.yaml file"):
        catalogue_load(path=tmp_path / "empty")


def test_rating_evidence_may_carry_the_words_relied_on_and_the_day_they_were_read(db, tmp_path):
    data = _seed()
    rating = data["assessments"][0]["ratings"][0]
    source = rating["evidence"][0]
    rating["evidence"][0] = {"source": source, "quote": "Self-deploy.", "read_on": "2025-01-02"}
    catalogue_load(path=_write(tmp_path, data))
    evidence = RatingEvidence.objects.get(
        rating__criterion__slug=rating["criterion"], source__slug=source
    )
    assert evidence.quote == "Self-deploy."
    assert evidence.read_on == dt.date(2025, 1, 2)


def test_rating_evidence_with_an_unknown_field_is_refused(db, tmp_path):
    data = _seed()
    rating = data["assessments"][0]["ratings"][0]
    rating["evidence"][0] = {"source": rating["evidence"][0], "qoute": "typo"}
    with pytest.raises(CatalogueError, match="field 'qoute': unknown field"):
        catalogue_load(path=_write(tmp_path, data))
    assert RatingEvidence.objects.count() == 0


def test_two_quotes_from_one_source_in_one_rating_are_refused(db, tmp_path):
    data = _seed()
    rating = data["assessments"][0]["ratings"][0]
    source = rating["evidence"][0]
    rating["evidence"] = [{"source": source, "quote": "One."}, {"source": source, "quote": "Two."}]
    with pytest.raises(CatalogueError, match=r"evidence\[1\].*defined twice"):
        catalogue_load(path=_write(tmp_path, data))
    assert RatingEvidence.objects.count() == 0
