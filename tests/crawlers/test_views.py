"""Source pages and the curators' triage list."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from crawlers.models import Check
from tests.crawlers.server import Page
from tests.crawlers.test_fetch import CANCEL_QUOTE, KEPT_QUOTE, REMOVED, TERMS
from tests.factories import make_claim, make_source, run_check

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed_source(server, provider, claim_key):
    """A source read twice: the second read removed the clause one claim quotes."""
    server.route("/terms", Page(TERMS))
    source = make_source(server.url("/terms"), provider=provider)
    flagged = make_claim(source=source, provider=provider, key=claim_key, quote=CANCEL_QUOTE)
    kept = make_claim(source=source, provider=provider, key=claim_key, quote=KEPT_QUOTE)
    run_check(source)
    server.route("/terms", Page(REMOVED))
    run_check(source)
    return source, flagged, kept


def user(*perms: str):
    account = get_user_model().objects.create_user(f"user{len(perms)}", password="pw")
    for perm in perms:
        app, codename = perm.split(".")
        account.user_permissions.add(
            Permission.objects.get(content_type__app_label=app, codename=codename)
        )
    return account


def get(client, url):
    return client.get(url, secure=True)


def test_the_source_list_shows_each_source_and_its_state(client, changed_source):
    source, _, _ = changed_source
    response = get(client, "/sources/")
    assert response.status_code == 200
    assert source.title in response.text
    assert "Read" in response.text


def test_the_source_page_shows_history_versions_and_claim_checks(client, changed_source):
    source, _flagged, _kept = changed_source
    response = get(client, f"/sources/{source.pk}/")
    text = response.text
    assert response.status_code == 200
    assert "Version 2" in text and "Version 1" in text
    assert "Text changed" in text and "First version" in text
    assert CANCEL_QUOTE in text and KEPT_QUOTE in text
    assert "Needs review" in text
    assert "Contradicted" in text and "Confirmed" in text
    assert "Read it now" not in text  # anonymous visitors cannot queue reads


def test_the_compare_page_shows_the_removed_clause(client, changed_source):
    source, _, _ = changed_source
    response = get(client, f"/sources/{source.pk}/compare/?from=1&to=2")
    assert response.status_code == 200
    assert f"<del>-{CANCEL_QUOTE}</del>" in response.text


def test_the_compare_page_explains_a_bad_version_number(client, changed_source):
    source, _, _ = changed_source
    missing = get(client, f"/sources/{source.pk}/compare/?from=1&to=9")
    assert missing.status_code == 404
    assert "There is no version 9." in missing.text
    garbled = get(client, f"/sources/{source.pk}/compare/?from=one")
    assert garbled.status_code == 400
    assert "Versions are given by number." in garbled.text


def test_a_version_page_shows_its_text(client, changed_source):
    source, _, _ = changed_source
    response = get(client, f"/sources/{source.pk}/versions/1/")
    assert CANCEL_QUOTE in response.text


def test_the_triage_list_shows_the_diff_and_exactly_the_affected_claims(client, changed_source):
    source, _flagged, _kept = changed_source
    client.force_login(user("catalog.change_claim"))
    response = get(client, "/sources/triage/")
    text = response.text
    assert response.status_code == 200
    assert source.title in text
    assert f"“{CANCEL_QUOTE}”" in text
    assert f"“{KEPT_QUOTE}”" not in text
    assert f"<del>-{CANCEL_QUOTE}</del>" in text


def test_the_triage_list_is_for_curators_only(client, changed_source):
    assert get(client, "/sources/triage/").status_code == 302
    client.force_login(user())
    assert get(client, "/sources/triage/").status_code == 403


def test_a_curator_can_queue_a_read_and_others_cannot(client, changed_source):
    source, _, _ = changed_source
    url = f"/sources/{source.pk}/check/"
    assert client.post(url, secure=True).status_code == 403
    client.force_login(user("crawlers.change_crawlsettings"))
    response = client.post(url, secure=True)
    assert response.status_code == 302
    assert Check.objects.filter(source=source, reason__startswith="web:").exists()
