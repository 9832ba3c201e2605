"""The triage entry keeps the check and the diff that sent a claim to review."""

from __future__ import annotations

import pytest

from crawlers.selectors import triage_entries
from tests.crawlers.server import Page
from tests.crawlers.test_fetch import CANCEL_QUOTE, KEPT_QUOTE, REMOVED, TERMS, TRAINING_QUOTE
from tests.crawlers.test_views import user
from tests.factories import make_claim, make_source, run_check

pytestmark = pytest.mark.django_db


def test_the_triage_diff_survives_two_more_unchanged_checks(client, server, provider, claim_key):
    server.route("/terms", Page(TERMS))
    source = make_source(server.url("/terms"), provider=provider)
    make_claim(source=source, provider=provider, key=claim_key, quote=CANCEL_QUOTE)
    make_claim(source=source, provider=provider, key=claim_key, quote=KEPT_QUOTE)
    run_check(source)
    server.route("/terms", Page(REMOVED))
    changed = run_check(source)
    later = [run_check(source), run_check(source)]  # the next two daily checks

    [entry] = triage_entries()
    assert entry.check == changed
    assert f"-{CANCEL_QUOTE}" in entry.diff.splitlines()
    [(_claim, cause, latest)] = entry.flagged
    assert cause.evidence["check_id"] == changed.pk
    assert latest.evidence["check_id"] == later[-1].pk
    client.force_login(user("catalog.change_claim"))
    page = client.get("/sources/triage/", secure=True).text
    assert f"<del>-{CANCEL_QUOTE}</del>" in page
    assert "version 1 → 2" in page


QUOTE = "We do not use your content to train our models."


def test_a_changed_wording_is_triaged_with_its_diff_passage_and_words(
    client, server, provider, claim_key
):
    terms = TERMS.replace(TRAINING_QUOTE, QUOTE)
    server.route("/terms", Page(terms))
    source = make_source(server.url("/terms"), provider=provider)
    make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    run_check(source)
    server.route("/terms", Page(terms.replace("We do not use", "We do use")))
    changed = run_check(source)
    run_check(source)
    run_check(source)

    [entry] = triage_entries()
    assert entry.check == changed
    client.force_login(user("catalog.change_claim"))
    page = client.get("/sources/triage/", secure=True).text
    assert "Changed wording" in page
    assert "<del>not</del> missing" in page
    assert "<ins>+We do use your content to train our models.</ins>" in page
