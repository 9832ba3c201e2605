"""Importing an Open Terms Archive versions repository: dated texts, history kept, claims
re-verified as of each text's date, bad input refused whole."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from catalog.models import Claim, Source, Verification
from crawlers.models import Check, CrawlSettings, Version
from tests.factories import LONG_AGO, make_claim, make_source, shared_dir

pytestmark = pytest.mark.django_db

TERMS_URL = "https://example.ai/terms"
PRIVACY_URL = "https://example.ai/privacy"
AUP_URL = "https://example.ai/aup"
QUOTE = "We do not train our models on your inputs."
TERMS_V1 = "# Terms\n\nThese terms apply to the service.\n"
TERMS_V2 = TERMS_V1 + "\nYou own your outputs.\n"
TERMS_V3 = TERMS_V2 + "\nDisputes go to the courts of Paris.\n"
PRIVACY_V1 = f"# Privacy\n\nWe collect your e-mail address. {QUOTE}\n"
PRIVACY_V2 = f"# Privacy\n\nWe collect your e-mail address and name. {QUOTE}\n"
AUP_V1 = "# Acceptable use\n\nDo not use the service to harm anyone.\n"


def _when(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(f"{day}T10:00:00+00:00")


class OtaRepo:
    """An OTA-shaped versions repository in ``tmp_path``: ``<service>/<document>.md`` files,
    one commit per recorded version, and a ``documents.tsv`` beside it."""

    def __init__(self, root: Path) -> None:
        self.path = root / "versions"
        self.path.mkdir()
        self.git("init", "-q", "-b", "main")
        self.documents = root / "documents.tsv"
        self.documents_write(
            [
                ("Example", "Example", "Terms of Service", TERMS_URL),
                ("Example", "Example", "Privacy Policy", PRIVACY_URL),
                ("Example", "Example", "Acceptable Use Policy", AUP_URL),
            ]
        )

    def git(self, *args: str, day: str = "2024-01-01") -> str:
        stamp = _when(day).isoformat()
        env = {
            **os.environ,
            "GIT_AUTHOR_NAME": "OTA",
            "GIT_AUTHOR_EMAIL": "ota@example.org",
            "GIT_COMMITTER_NAME": "OTA",
            "GIT_COMMITTER_EMAIL": "ota@example.org",
            "GIT_AUTHOR_DATE": stamp,
            "GIT_COMMITTER_DATE": stamp,
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.path.parent),
        }
        done = subprocess.run(
            ["git", "-C", str(self.path), *args], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def record(self, day: str, document: str, text: str) -> str:
        """Commit ``text`` as ``Example/<document>.md`` on ``day``; returns the commit."""
        file = self.path / "Example" / f"{document}.md"
        file.parent.mkdir(exist_ok=True)
        file.write_text(text, encoding="utf-8")
        self.git("add", "-A")
        self.git("commit", "-q", "-m", f"Record new changes of Example {document}", day=day)
        return self.git("rev-parse", "HEAD")

    def documents_write(self, rows, header=("service_folder", "service_name", "terms_type", "url")):
        with self.documents.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)

    def bundle(self, name: str = "versions.bundle") -> Path:
        path = self.path.parent / name
        self.git("bundle", "create", "-q", str(path), "HEAD", "main")
        return path


@pytest.fixture
def repo(tmp_path) -> OtaRepo:
    repo = OtaRepo(tmp_path)
    repo.commits = {
        "t1": repo.record("2024-02-01", "Terms of Service", TERMS_V1),
        "p1": repo.record("2024-02-01", "Privacy Policy", PRIVACY_V1),
        "a1": repo.record("2024-02-02", "Acceptable Use Policy", AUP_V1),
        "t2": repo.record("2024-05-10", "Terms of Service", TERMS_V2),
        "p2": repo.record("2024-06-15", "Privacy Policy", PRIVACY_V2),
    }
    return repo


@pytest.fixture
def sources(provider) -> dict[str, Source]:
    """Sources for the terms and the privacy policy; none for the acceptable-use policy."""
    return {
        "terms": make_source(TERMS_URL, provider=provider),
        "privacy": make_source(PRIVACY_URL, provider=provider),
    }


def run(*args, **options) -> str:
    out = io.StringIO()
    call_command("import_ota", *[str(a) for a in args], stdout=out, **options)
    return out.getvalue()


def _versions(source: Source) -> list[Version]:
    return list(Version.objects.filter(source=source).order_by("number"))


def test_it_stores_each_dated_version_oldest_first_under_the_source_at_its_address(repo, sources):
    output = run(repo.bundle())

    terms = _versions(sources["terms"])
    assert [v.text for v in terms] == [TERMS_V1, TERMS_V2]
    assert [v.number for v in terms] == [1, 2]
    assert [v.created_at for v in terms] == [_when("2024-02-01"), _when("2024-05-10")]
    assert [v.origin_commit for v in terms] == [repo.commits["t1"], repo.commits["t2"]]
    assert {v.cause for v in terms} == {Version.Cause.OTA_IMPORT}
    assert [v.text for v in _versions(sources["privacy"])] == [PRIVACY_V1, PRIVACY_V2]
    # The newest text is each source's current one.
    crawl = CrawlSettings.objects.get(source=sources["terms"])
    assert crawl.current_version == terms[-1]
    assert "documents matched to sources: 2" in output
    assert "documents without a source: 1" in output
    assert "versions stored: 4" in output
    assert "Texts updated: 4 version(s) stored" in output


def test_a_clone_folder_imports_as_the_bundle_does(repo, sources):
    run(repo.path)
    assert len(_versions(sources["terms"])) == 2
    assert len(_versions(sources["privacy"])) == 2


def test_a_second_import_stores_nothing_and_verifies_nothing_again(
    repo, sources, provider, claim_key
):
    make_claim(source=sources["privacy"], provider=provider, key=claim_key, quote=QUOTE)
    bundle = repo.bundle()
    run(bundle)
    versions = list(Version.objects.values_list("pk", "number", "content_hash"))
    verifications = Verification.objects.count()
    assert verifications == 1

    output = run(bundle)

    assert list(Version.objects.values_list("pk", "number", "content_hash")) == versions
    assert Verification.objects.count() == verifications
    assert "versions stored: 0" in output
    assert "already verified against the newest text: 1" in output
    assert "Texts unchanged: 0 version(s) stored" in output


def test_a_claim_whose_quote_was_edited_since_is_verified_again(repo, sources, provider, claim_key):
    claim = make_claim(
        source=sources["privacy"], provider=provider, key=claim_key, quote="We sell your data."
    )
    bundle = repo.bundle()
    run(bundle)
    assert claim.verifications.get().outcome == Verification.Outcome.CONTRADICTED
    Claim.objects.filter(pk=claim.pk).update(evidence_quote=QUOTE)

    output = run(bundle)

    latest = claim.verifications.order_by("-id").first()
    assert claim.verifications.count() == 2
    assert latest.outcome == Verification.Outcome.CONFIRMED
    assert "versions stored: 0" in output and "quote found 1" in output


def test_a_newer_dataset_adds_only_its_new_versions_and_keeps_the_history(repo, sources):
    run(repo.bundle("first.bundle"))
    before = {v.pk: (v.number, v.created_at, v.origin_commit) for v in _versions(sources["terms"])}
    t3 = repo.record("2024-09-01", "Terms of Service", TERMS_V3)

    output = run(repo.bundle("second.bundle"))

    terms = _versions(sources["terms"])
    assert {v.pk: (v.number, v.created_at, v.origin_commit) for v in terms[:2]} == before
    assert (terms[2].number, terms[2].text, terms[2].origin_commit) == (3, TERMS_V3, t3)
    assert terms[2].created_at == _when("2024-09-01")
    assert len(_versions(sources["privacy"])) == 2
    assert "versions stored: 1" in output
    assert CrawlSettings.objects.get(source=sources["terms"]).current_version == terms[2]


def test_numbering_continues_after_the_versions_a_check_stored(repo, sources):
    crawled = Version.objects.create(
        source=sources["terms"],
        number=1,
        content_hash="0" * 64,
        text="Terms as a check read them.",
        cause=Version.Cause.FIRST,
        created_at=_when("2023-01-01"),
        raw_body=Version.compress(b"<p>Terms</p>"),
        raw_size=12,
        extractor_revision=2,
    )
    run(repo.bundle())
    terms = _versions(sources["terms"])
    assert terms[0] == crawled and crawled.origin_commit == ""
    assert [v.number for v in terms] == [1, 2, 3]
    assert [v.origin_commit for v in terms[1:]] == [repo.commits["t1"], repo.commits["t2"]]


def test_a_text_that_comes_back_reuses_its_version_and_dates_claims_by_its_return(
    repo, sources, provider, claim_key
):
    terms_claim = make_claim(
        source=sources["terms"], provider=provider, key=claim_key, quote="These terms apply"
    )
    repo.record("2024-10-01", "Terms of Service", TERMS_V1)  # the change is undone

    run(repo.bundle())

    terms = _versions(sources["terms"])
    assert [v.text for v in terms] == [TERMS_V1, TERMS_V2]
    assert CrawlSettings.objects.get(source=sources["terms"]).current_version == terms[0]
    terms_claim.refresh_from_db()
    assert terms_claim.checked_at == dt.date(2024, 10, 1)


def test_claims_are_dated_by_the_text_they_were_found_in_never_today_never_backwards(
    repo, sources, provider, claim_key
):
    old = make_claim(source=sources["privacy"], provider=provider, key=claim_key, quote=QUOTE)
    recent = make_claim(source=sources["privacy"], provider=provider, key=claim_key, quote=QUOTE)
    Claim.objects.filter(pk=recent.pk).update(checked_at=dt.date(2025, 1, 1))

    output = run(repo.bundle())

    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.checked_at == dt.date(2024, 6, 15) != timezone.localdate()
    assert recent.checked_at == dt.date(2025, 1, 1)
    newest = _versions(sources["privacy"])[-1]
    verification = old.verifications.get()
    assert verification.outcome == Verification.Outcome.CONFIRMED
    assert verification.method == Verification.Method.SOURCE_CHECK
    assert verification.found_in == newest
    assert verification.checked_at == _when("2024-06-15")
    assert newest.text[verification.quote_start : verification.quote_end] == QUOTE
    assert verification.evidence["commit"] == repo.commits["p2"]
    assert "quote found 2, not found 0, without a quote 0" in output


def test_a_quote_not_found_is_reported_and_follows_the_source_check_rules(
    repo, sources, provider, claim_key
):
    missing = make_claim(
        source=sources["terms"],
        provider=provider,
        key=claim_key,
        quote="Your inputs are deleted after thirty days.",
    )
    unquoted = make_claim(source=sources["terms"], provider=provider, key=claim_key, quote="x")
    Claim.objects.filter(pk=unquoted.pk).update(evidence_quote="")

    output = run(repo.bundle())

    missing.refresh_from_db()
    unquoted.refresh_from_db()
    assert missing.checked_at == LONG_AGO == unquoted.checked_at
    assert missing.status == Claim.Status.NEEDS_REVIEW
    assert missing.verifications.get().outcome == Verification.Outcome.CONTRADICTED
    assert unquoted.status == Claim.Status.CURRENT
    assert unquoted.verifications.get().outcome == Verification.Outcome.INCONCLUSIVE
    assert "quote found 0, not found 1, without a quote 1" in output
    assert f"quote not found (contradicted): claim {missing.pk}" in output


def test_a_source_a_check_read_more_recently_keeps_its_text_and_its_claims(
    repo, sources, provider, claim_key
):
    claim = make_claim(source=sources["privacy"], provider=provider, key=claim_key, quote=QUOTE)
    crawled = Version.objects.create(
        source=sources["privacy"],
        number=1,
        content_hash="1" * 64,
        text="Read by a check.",
        cause=Version.Cause.FIRST,
        created_at=_when("2026-01-01"),
        raw_body=Version.compress(b"x"),
        raw_size=1,
        extractor_revision=2,
    )
    now = _when("2026-01-01")
    Check.objects.create(
        source=sources["privacy"],
        status=Check.Status.DONE,
        outcome=Check.Outcome.FIRST,
        url=PRIVACY_URL,
        queued_at=now,
        finished_at=now,
        version=crawled,
    )
    CrawlSettings.objects.filter(source=sources["privacy"]).update(current_version=crawled)

    output = run(repo.bundle())

    assert CrawlSettings.objects.get(source=sources["privacy"]).current_version == crawled
    assert len(_versions(sources["privacy"])) == 3
    assert not claim.verifications.exists()
    assert "read more recently by a check, claims left to it: Example/Privacy Policy" in output


def test_an_imported_current_text_is_not_re_extracted_when_selectors_change(repo, sources):
    from crawlers.services import crawl_settings_update

    run(repo.bundle())
    crawl_settings_update(
        source=sources["terms"],
        keep_selectors="main",
        remove_selectors="",
        interval_hours=24,
        enabled=True,
    )
    assert [v.text for v in _versions(sources["terms"])] == [TERMS_V1, TERMS_V2]
    assert not Check.objects.exists()


def test_a_new_document_copied_from_another_does_not_take_its_history(tmp_path, provider):
    repo = OtaRepo(tmp_path)
    repo.record("2024-01-01", "Terms of Service", TERMS_V2)
    repo.record("2024-02-01", "Terms of Service", TERMS_V3)
    repo.record("2024-03-01", "Privacy Policy", TERMS_V3)  # first record: a copy
    privacy = make_source(PRIVACY_URL, provider=provider)

    run(repo.bundle())

    assert [(v.created_at, v.text) for v in _versions(privacy)] == [(_when("2024-03-01"), TERMS_V3)]


def test_a_renamed_document_keeps_its_history(tmp_path, provider):
    repo = OtaRepo(tmp_path)
    first = repo.record("2024-01-01", "Terms of Use", TERMS_V2)
    repo.git("mv", "Example/Terms of Use.md", "Example/Terms of Service.md")
    repo.git("commit", "-q", "-m", "Rename", day="2024-02-01")
    last = repo.record("2024-03-01", "Terms of Service", TERMS_V3)
    terms = make_source(TERMS_URL, provider=provider)

    run(repo.bundle())

    assert [v.origin_commit for v in _versions(terms)] == [first, last]


def test_several_documents_at_one_address_go_to_the_one_the_source_title_names(repo, provider):
    repo.documents_write(
        [
            ("Example", "Example", "Terms of Service", TERMS_URL),
            ("Example", "Example", "Privacy Policy", TERMS_URL),
        ]
    )
    source = make_source(TERMS_URL, provider=provider)
    Source.objects.filter(pk=source.pk).update(title="Example Privacy Policy")
    run(repo.bundle())
    assert [v.text for v in _versions(source)] == [PRIVACY_V1, PRIVACY_V2]

    Version.objects.all().delete()
    Source.objects.filter(pk=source.pk).update(title="Example legal page")
    output = run(repo.bundle())
    assert not Version.objects.exists()
    assert "the source's title names none of them" in output


def test_sections_of_one_page_each_take_their_own_document(repo, provider):
    # One legal page holds two documents; each source is one section of it (a fragment).
    repo.documents_write(
        [
            ("Example", "Example", "Terms of Service", TERMS_URL),
            ("Example", "Example", "Privacy Policy", TERMS_URL),
        ]
    )
    terms = make_source(f"{TERMS_URL}#terms", provider=provider)
    privacy = make_source(f"{TERMS_URL}#privacy", provider=provider)
    elsewhere = make_source(f"{PRIVACY_URL}#privacy", provider=provider)
    Source.objects.filter(pk=terms.pk).update(title="Example Terms of Service")
    Source.objects.filter(pk=privacy.pk).update(title="Example Privacy Policy")
    Source.objects.filter(pk=elsewhere.pk).update(title="Example Privacy Policy")

    run(repo.bundle())

    assert [v.text for v in _versions(terms)] == [TERMS_V1, TERMS_V2]
    assert [v.text for v in _versions(privacy)] == [PRIVACY_V1, PRIVACY_V2]
    assert not _versions(elsewhere)


# --- bad input ----------------------------------------------------------------------------------


def _refused(*args, **options) -> str:
    with pytest.raises(CommandError) as refused:
        run(*args, **options)
    assert not Version.objects.exists()
    assert not Verification.objects.exists()
    return str(refused.value)


def test_a_folder_that_is_not_a_repository_is_refused(tmp_path, sources):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "Example").mkdir()
    (tmp_path / "documents.tsv").write_text("service_folder\tterms_type\turl\n")
    message = _refused(folder)
    assert "plain: not a git repository" in message and "Nothing was written" in message


def test_a_file_that_is_not_a_bundle_is_refused(tmp_path, repo, sources):
    fake = tmp_path / "fake.bundle"
    fake.write_bytes(b"not a bundle")
    assert "fake.bundle: not a git bundle" in _refused(fake)


def test_a_missing_path_is_refused(tmp_path, sources):
    assert "no such repository or bundle" in _refused(tmp_path / "nowhere.bundle")


def test_a_documents_file_without_the_needed_columns_is_refused(repo, sources):
    repo.documents_write([("Example", TERMS_URL)], header=("service_folder", "address"))
    message = _refused(repo.bundle())
    assert "documents.tsv: missing column(s) terms_type, url" in message


def test_an_unreadable_documents_file_is_refused(repo, sources):
    repo.documents.write_bytes(b"service_folder\tterms_type\turl\n\xff\xfe\x00bad\n")
    assert "documents.tsv: cannot be read as UTF-8" in _refused(repo.bundle())


def test_a_documents_file_with_a_short_row_is_refused_naming_its_line(repo, sources):
    repo.documents_write([("Example", "Example", "Terms of Service", TERMS_URL), ("Example",)])
    assert "documents.tsv: line 3: 1 field(s), the header has 4" in _refused(repo.bundle())


def test_a_documents_file_named_with_the_option_is_read(repo, sources, tmp_path):
    elsewhere = tmp_path / "elsewhere.tsv"
    elsewhere.write_text(
        f"service_folder\tterms_type\turl\nExample\tTerms of Service\t{TERMS_URL}\n"
    )
    repo.documents.unlink()
    run(repo.bundle(), documents=str(elsewhere))
    assert len(_versions(sources["terms"])) == 2
    assert not _versions(sources["privacy"])


def test_one_text_that_is_not_utf8_refuses_the_whole_import(repo, sources):
    (repo.path / "Example" / "Privacy Policy.md").write_bytes(b"Privacy \xff\xfe")
    repo.git("commit", "-q", "-am", "Broken", day="2024-07-01")
    message = _refused(repo.bundle())
    assert "Example/Privacy Policy at commit" in message and "not UTF-8" in message


# --- settings and pages -----------------------------------------------------------------------


def test_without_a_path_it_imports_the_dataset_the_settings_name(repo, sources, settings):
    settings.ATLAS_OTA_DATASET = ""
    assert "ATLAS_OTA_DATASET is not set" in run()
    assert not Version.objects.exists()

    settings.ATLAS_OTA_DATASET = str(repo.bundle())
    run()
    assert len(_versions(sources["terms"])) == 2


def test_pages_credit_open_terms_archive_where_its_text_is_shown(
    client, repo, sources, provider, claim_key
):
    claim = make_claim(source=sources["privacy"], provider=provider, key=claim_key, quote=QUOTE)
    run(repo.bundle())
    credit = (
        "Text from Open Terms Archive (ODC-BY 1.0), recorded "
        f'<time datetime="2024-06-15T10:00:00+00:00">2024-06-15</time>, '
        f"commit <code>{repo.commits['p2']}</code>"
    )

    version_page = client.get(f"/sources/{sources['privacy'].pk}/versions/2/").content.decode()
    claim_page = client.get(f"/claims/{claim.pk}/").content.decode()
    source_page = client.get(f"/sources/{sources['privacy'].pk}/").content.decode()

    assert credit in version_page
    assert credit in claim_page and "Found in version 2 of" in claim_page
    assert credit in source_page


def test_a_claim_whose_source_has_no_stored_text_says_where_it_was_read_and_how_to_store_it(
    client, sources, provider, claim_key
):
    claim = make_claim(source=sources["terms"], provider=provider, key=claim_key, quote=QUOTE)
    page = " ".join(client.get(f"/claims/{claim.pk}/").content.decode().split())
    assert "Atlas keeps no text of this source yet" in page
    assert f'at <a href="{TERMS_URL}"' in page
    assert f"last checked on {LONG_AGO:%Y-%m-%d}" in page
    assert "python manage.py import_ota" in page and "import_licence_texts" in page


# --- the real dataset ----------------------------------------------------------------------------


def test_the_shared_open_terms_archive_bundle_imports_for_the_sources_at_its_addresses(
    provider, claim_key
):
    dataset = shared_dir("ota-genai")
    rows = list(
        csv.DictReader(
            (dataset / "documents.tsv").open(encoding="utf-8"),
            delimiter="\t",
            quoting=csv.QUOTE_NONE,
        )
    )
    wanted = {("Claude.ai", "Terms of Service"), ("Grok", "Acceptable Use Policy")}
    urls = [r["url"] for r in rows if (r["service_folder"], r["terms_type"]) in wanted][:2]
    sources = [make_source(url, provider=provider) for url in urls]

    first = run(dataset / "versions.bundle")

    assert "documents matched to sources: 2" in first
    for source in sources:
        versions = _versions(source)
        assert len(versions) >= 2
        assert [v.created_at for v in versions] == sorted(v.created_at for v in versions)
        assert all(len(v.origin_commit) == 40 and v.text.strip() for v in versions)
    claude_terms = _versions(sources[0])[-1]
    line = next(line for line in claude_terms.text.splitlines() if len(line.split()) > 20)
    sentence = " ".join(line.split()[:20])
    claim = make_claim(source=sources[0], provider=provider, key=claim_key, quote=sentence)

    second = run(dataset / "versions.bundle")

    assert "versions stored: 0" in second
    claim.refresh_from_db()
    assert claim.checked_at == timezone.localdate(claude_terms.created_at)
    assert claim.verifications.get().found_in == claude_terms
