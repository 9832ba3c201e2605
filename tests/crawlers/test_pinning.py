"""A found quote is pinned to the stored version it was read in and its place in that text."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Claim, Verification
from crawlers.matching import locate, tokens
from crawlers.models import Version
from tests.crawlers.server import Page
from tests.factories import LONG_AGO, make_claim, make_source, run_check

pytestmark = pytest.mark.django_db

QUOTE = "We don't use your content to train our models."
PAGE = """<!doctype html><html><head><title>Privacy</title></head><body><main>
<h1>Privacy policy</h1>
<p>This policy explains what we collect. We don\u2019t\u00a0use your content to
train our models. Contact us for details.</p>
<p>Prices are listed elsewhere.</p>
</main></body></html>"""
# The provider edits another paragraph: a new version that still holds the quote.
EDITED = PAGE.replace("Prices are listed elsewhere.", "Prices are on the pricing page.")
# The provider drops the sentence.
DROPPED = PAGE.replace("We don\u2019t\u00a0use your content to\ntrain our models. ", "")


def _sliced(verification: Verification) -> str:
    text = verification.found_in.text
    return text[verification.quote_start : verification.quote_end]


def _page(client, claim: Claim) -> str:
    response = client.get(f"/claims/{claim.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def _flat(html: str) -> str:
    return re.sub(r"\s+", " ", html)


# --- locate ---------------------------------------------------------------------------------------


def test_locate_gives_offsets_into_the_text_as_stored_not_a_normalised_copy():
    text = "Intro.\n\nWe do\u00a0NOT use your  con\u00adtent\u2060 to train “our” models. More."
    span = locate(text, '“We do not use your content to train "our" models.”')
    assert span is not None
    start, end = span
    assert text[start:end] == "We do\u00a0NOT use your  con\u00adtent\u2060 to train “our” models."


def test_locate_maps_back_through_characters_that_normalise_to_several():
    text = "The \ufb01le is caf\u0065\u0301 ready\u2026 now."
    start, end = locate(text, "file is café ready...")
    assert text[start:end] == "\ufb01le is caf\u0065\u0301 ready\u2026"


def test_locate_finds_nothing_for_a_near_miss_or_an_empty_quote():
    text = "We do not use your content to train our models."
    assert locate(text, "We do use your content to train our models.") is None
    assert locate(text, "We do not use your content to train our model.") is None
    assert locate(text, "“ ”") is None


# --- the check records where it found the quote ---------------------------------------------------


def test_a_check_that_finds_the_quote_points_at_the_version_and_the_quote_in_its_text(
    server, provider, claim_key
):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)

    check = run_check(source)

    verification = claim.verifications.get()
    assert verification.outcome == Verification.Outcome.CONFIRMED
    assert verification.found_in == check.version
    sliced = _sliced(verification)
    assert sliced.startswith("We don\u2019t") and sliced.endswith("our models.")
    assert tokens(sliced) == tokens(QUOTE)


def test_a_quote_not_found_points_at_no_version(server, provider, claim_key):
    server.route("/privacy", Page(DROPPED))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)

    run_check(source)

    verification = claim.verifications.get()
    assert verification.outcome == Verification.Outcome.CONTRADICTED
    assert verification.found_in is None
    assert verification.quote_start is None and verification.quote_end is None


def test_offsets_without_a_version_or_out_of_order_are_refused(server, provider, claim_key):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    run_check(source)
    verification = claim.verifications.get()
    for changes in ({"found_in": None}, {"quote_end": verification.quote_start}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Verification.objects.filter(pk=verification.pk).update(**changes)


# --- the claim page -------------------------------------------------------------------------------


def test_the_claim_page_shows_the_version_and_the_sentence_with_the_quote_marked(
    client, server, provider, claim_key
):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    check = run_check(source)

    html = _page(client, claim)

    read = check.finished_at.astimezone().date().isoformat()
    assert f"Found in version 1 of {source.title}, read" in _flat(html)
    assert f">{read}</time>" in html
    # The quote is its whole sentence here: nothing of the neighbouring sentences is shown.
    sentence = re.search(r'<blockquote class="context">(.*?)</blockquote>', html, re.S).group(1)
    marked = re.fullmatch(r"<mark>(.*)</mark>", sentence, re.S).group(1)
    assert marked.startswith("We don\u2019t") and tokens(marked) == tokens(QUOTE)
    assert "It also stood in" not in html
    assert "has not been found" not in html


def test_after_the_page_changes_both_versions_holding_the_quote_are_listed(
    client, server, provider, claim_key
):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    run_check(source)
    server.route("/privacy", Page(EDITED))
    second = run_check(source)
    assert second.version.number == 2

    found = [v.found_in.number for v in claim.verifications.order_by("-checked_at", "-id")]
    assert found == [2, 1]
    html = _flat(_page(client, claim))
    assert f"Found in version 2 of {source.title}" in html
    assert "It also stood in:" in html
    assert "<li>version 1, stored" in html


def test_after_the_quote_is_dropped_the_page_keeps_where_it_stood_and_says_it_is_gone(
    client, server, provider, claim_key
):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    run_check(source)
    server.route("/privacy", Page(DROPPED))
    run_check(source)

    html = _flat(_page(client, claim))
    assert f"Found in version 1 of {source.title}" in html
    assert "The newest check that read the source, on" in html and "did not find it." in html


def test_a_quote_never_found_says_so_and_a_claim_without_a_quote_says_nothing_of_versions(
    client, server, provider, claim_key
):
    server.route("/privacy", Page(DROPPED))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    unquoted = make_claim(source=source, provider=provider, key=claim_key, quote="x")
    Claim.objects.filter(pk=unquoted.pk).update(evidence_quote="")
    run_check(source)

    html = _flat(_page(client, claim))
    assert "This quote has not been found in any stored text of its source." in html
    assert "Found in version" not in html

    html = _page(client, unquoted)
    assert "Found in version" not in html
    assert "has not been found" not in html
    assert 'id="found-in"' not in html


def test_a_quote_not_yet_sought_or_confirmed_before_versions_were_recorded_is_not_called_missing(
    client, server, provider, claim_key
):
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)

    html = _flat(_page(client, claim))
    assert "Atlas keeps no text of this source yet, so this quote has not been sought" in html
    assert "has not been found" not in html

    Verification.objects.create(
        claim=claim,
        checked_at=dt.datetime.combine(LONG_AGO, dt.time(12), tzinfo=dt.UTC),
        method=Verification.Method.SOURCE_CHECK,
        outcome=Verification.Outcome.CONFIRMED,
    )
    html = _flat(_page(client, claim))
    assert f"Confirmed on {LONG_AGO:%Y-%m-%d} by a check made before Atlas recorded" in html
    assert "has not been found" not in html


def test_the_claim_page_reads_one_window_of_text_whatever_the_number_of_versions(
    client, server, provider, claim_key, django_assert_num_queries
):
    server.route("/privacy", Page(PAGE))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=QUOTE)
    for number in range(13):
        server.route("/privacy", Page(PAGE.replace("elsewhere", f"elsewhere ({number})")))
        run_check(source)
    assert Version.objects.filter(source=source).count() == 13

    # The claim with its source and subject, its verifications with their versions (the
    # texts left out), then the window of the newest text around the quote.
    with django_assert_num_queries(3):
        html = _flat(_page(client, claim))
    assert "Found in version 13 of" in html
    assert html.count("<li>version ") == 10
    assert "Showing 10 of 12 other versions" in html
    assert "<li>version 12," in html and "<li>version 2," not in html
