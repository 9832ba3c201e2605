"""Importing a folder of licence texts with its manifest: each text dated by its commit, its
SHA-256 checked, idempotent, a bad manifest refused whole."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import shutil

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.models import Verification
from crawlers.models import Version
from tests.factories import make_claim, make_source, shared_dir

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("import_licence_texts", *[str(a) for a in args], stdout=out)
    return out.getvalue()


@pytest.fixture
def licences():
    folder = shared_dir("licences")
    with (folder / "manifest.tsv").open(encoding="utf-8", newline="") as handle:
        rows = {
            row["id"]: row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        }
    return folder, rows


def test_each_text_is_stored_under_the_source_at_its_address_dated_by_its_commit(
    licences, provider, claim_key
):
    folder, rows = licences
    llama, mit = rows["llama-2-community"], rows["MIT"]
    llama_source = make_source(llama["url"], provider=provider)
    mit_source = make_source(mit["url"], provider=provider)
    text = (folder / "llama-2-community.txt").read_bytes().decode("utf-8")
    sentence = " ".join(next(ln for ln in text.splitlines() if len(ln.split()) > 15).split()[:15])
    claim = make_claim(source=llama_source, provider=provider, key=claim_key, quote=sentence)

    output = run(folder)

    stored = Version.objects.get(source=llama_source)
    assert stored.text == text
    assert stored.cause == Version.Cause.LICENCE_IMPORT
    assert stored.origin_commit == llama["commit"]
    assert stored.created_at.date() == dt.date.fromisoformat(llama["commit_date"])
    assert stored.raw_hash == llama["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    assert Version.objects.get(source=mit_source).origin_commit == mit["commit"]
    claim.refresh_from_db()
    assert claim.checked_at == dt.date.fromisoformat(llama["commit_date"])
    assert claim.verifications.get().found_in == stored
    assert "documents matched to sources: 2" in output
    assert f"documents without a source: {len(rows) - 2}" in output
    assert "versions stored: 2" in output

    again = run(folder)

    assert Version.objects.count() == 2 and Verification.objects.count() == 1
    assert "versions stored: 0" in again and "Texts unchanged" in again


def test_a_text_whose_bytes_do_not_match_the_manifest_is_refused_alone(
    licences, tmp_path, provider
):
    folder, rows = licences
    copy = tmp_path / "licences"
    shutil.copytree(folder, copy)
    (copy / "MIT.txt").chmod(0o644)
    (copy / "MIT.txt").write_bytes((folder / "MIT.txt").read_bytes() + b"\nAmended.")
    mit_source = make_source(rows["MIT"]["url"], provider=provider)
    apache_source = make_source(rows["Apache-2.0"]["url"], provider=provider)

    output = run(copy)

    assert not Version.objects.filter(source=mit_source).exists()
    assert Version.objects.filter(source=apache_source).count() == 1
    assert "refused: MIT.txt: its SHA-256 is" in output
    assert f"the manifest says {rows['MIT']['sha256']}" in output


@pytest.mark.parametrize(
    ("manifest", "problem"),
    [
        ("id\tname\turl\nMIT\tMIT\thttps://x\n", "missing column(s) commit, commit_date, sha256"),
        (
            "id\tname\tcommit\tcommit_date\turl\tsha256\n"
            f"MIT\tMIT\t{'a' * 40}\tyesterday\thttps://x\t{'b' * 64}\n",
            "line 2: commit_date 'yesterday' is not a date",
        ),
        (
            "id\tname\tcommit\tcommit_date\turl\tsha256\n"
            f"MIT\tMIT\tabc\t2024-01-01\thttps://x\t{'b' * 64}\n",
            "line 2: commit 'abc' is not 40 hex digits",
        ),
    ],
)
def test_a_manifest_that_cannot_be_read_whole_is_refused_whole(
    tmp_path, provider, manifest, problem
):
    (tmp_path / "manifest.tsv").write_text(manifest, encoding="utf-8")
    (tmp_path / "MIT.txt").write_text("MIT", encoding="utf-8")
    make_source("https://x", provider=provider)
    with pytest.raises(CommandError) as refused:
        run(tmp_path)
    assert problem in str(refused.value) and "Nothing was written" in str(refused.value)
    assert not Version.objects.exists()


def test_a_folder_without_a_manifest_is_refused(tmp_path):
    with pytest.raises(CommandError, match=r"manifest\.tsv: no such manifest"):
        run(tmp_path)


def test_the_version_page_names_the_repository_and_commit(client, licences, provider):
    folder, rows = licences
    source = make_source(rows["MIT"]["url"], provider=provider)
    run(folder)
    page = client.get(f"/sources/{source.pk}/versions/1/").content.decode()
    assert f"commit <code>{rows['MIT']['commit']}</code>" in page
    assert "Open Terms Archive" not in page


def test_without_a_path_it_imports_the_folder_the_settings_name(licences, provider, settings):
    folder, rows = licences
    source = make_source(rows["MIT"]["url"], provider=provider)
    settings.ATLAS_LICENCE_TEXTS = ""
    assert "ATLAS_LICENCE_TEXTS is not set" in run()
    assert not Version.objects.exists()

    settings.ATLAS_LICENCE_TEXTS = str(folder)
    run()
    assert Version.objects.get(source=source).origin_commit == rows["MIT"]["commit"]
