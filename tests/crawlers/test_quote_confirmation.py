"""A quote is confirmed only when its words are there: real pages edited one word at a time,
and pages written here with typographic quotes, apostrophes and invisible characters."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.matching import find_quote
from tests.crawlers.server import Page
from tests.factories import corpus_page, make_claim, make_source, run_check

pytestmark = pytest.mark.django_db

OPENAI_TERMS = ("openai/terms-of-service/2024-12-18.html", "main", 'select[name="Locale Select"]')
ANTHROPIC_TERMS = ("anthropic/terms-of-service/2025-08-29.html", "main", "")

# (page, quote, fragment of the page, its one-word edit, (quote's word, page's word))
EDITS = {
    "negation removed": (
        OPENAI_TERMS,
        "If you do not want us to use your Content to train our models, you have the option "
        "to opt out by updating your account settings.",
        "If you do not want us", "If you do want us", ("not", ""),
    ),
    "negation removed after a modal": (
        OPENAI_TERMS,
        "You may not share your account credentials or make your account available to anyone "
        "else and are responsible for all activities that occur under your account.",
        "You may not share your account", "You may share your account", ("not", ""),
    ),
    "modal changed": (
        OPENAI_TERMS,
        "We can use your Content worldwide to provide, maintain, develop, and improve our "
        "Services, comply with applicable law, enforce our terms and policies and keep our "
        "Services safe.",
        "We can use your Content worldwide", "We will use your Content worldwide",
        ("can", "will"),
    ),
    "modal changed before a negation": (
        OPENAI_TERMS,
        "Unless we specify otherwise, you will not receive a refund or service credit for any "
        "days between the day you cancel and the last day of the subscription period you "
        "have paid for.",
        "you will not receive a refund", "you may not receive a refund", ("will", "may"),
    ),
    "number changed": (
        OPENAI_TERMS,
        "We will give you at least 30 days advance notice of changes that materially "
        "adversely impact you and the date that they will come into force either via email "
        "or an in-product notification.",
        "at least 30 days advance notice", "at least 3 days advance notice", ("30", "3"),
    ),
    "date changed": (
        ANTHROPIC_TERMS,
        "This policy is effective on September 28, 2025 or the date you acknowledge these "
        "updated Terms within our Services (if earlier).",
        "effective on September 28, 2025", "effective on September 18, 2025", ("28", "18"),
    ),
    "currency changed": (
        ANTHROPIC_TERMS,
        "(a) the amount you paid to us for access to or use of the Services in the six months "
        "prior to the event giving rise to the liability, and (b) £100.",
        "and (b) £100", "and (b) $100", ("£", "$"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_one_word_change_to_a_quoted_sentence_on_a_real_page_is_not_confirmed(
    edit, server, provider, claim_key
):
    (snapshot, keep, remove), quote, fragment, edited, difference = EDITS[edit]
    original = corpus_page(snapshot)
    assert fragment.encode() in original
    server.route("/terms", Page(original))
    source = make_source(server.url("/terms"), keep=keep, remove=remove, provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=quote)
    run_check(source)
    claim.refresh_from_db()
    assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED
    assert claim.status == Claim.Status.CURRENT

    server.route("/terms", Page(original.replace(fragment.encode(), edited.encode())))
    check = run_check(source)

    claim.refresh_from_db()
    last = claim.verifications.first()
    assert last.evidence["check_id"] == check.pk
    assert last.outcome == Verification.Outcome.CHANGED_WORDING, last.note
    assert claim.status == Claim.Status.NEEDS_REVIEW
    quote_word, page_word = difference
    assert {"quote": quote_word, "page": page_word} in last.evidence["differences"]
    assert page_word in last.evidence["passage"]
    assert last.match_score < 1


PAGE = """<!doctype html><html><body><main><h1>Privacy</h1>
<p>{sentence}</p><p>Outputs belong to you.</p></main></body></html>"""
SENTENCE = "We do not use your content to train our models."


def read_claim(server, provider, claim_key, *, sentence: str, quote: str) -> Verification:
    """A page holding ``sentence`` read once by a claim quoting ``quote``: its verification."""
    server.route("/privacy", Page(PAGE.format(sentence=sentence)))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=quote)
    run_check(source)
    claim.refresh_from_db()
    return claim.verifications.get()


@pytest.mark.parametrize(
    "sentence",
    [
        "We do use your content to train our models.",
        "We do not use your content to train our large models.",
        "We never use your content to train our models.",
        "We do not use your content to train our models,",
    ],
)
def test_the_sentence_with_one_word_or_mark_changed_is_not_confirmed(
    sentence, server, provider, claim_key
):
    verification = read_claim(server, provider, claim_key, sentence=sentence, quote=SENTENCE)
    assert verification.outcome != Verification.Outcome.CONFIRMED
    assert verification.claim.status == Claim.Status.NEEDS_REVIEW
    assert verification.claim.checked_at != timezone.localdate()


def test_a_contraction_that_became_a_yes_is_not_confirmed():
    quote = (
        "We don't sell, rent or share your personal data with advertisers, data brokers or any "
        "other third parties for their own marketing purposes, whatever changes in our "
        "business or in its ownership in the years to come."
    )
    match = find_quote(quote, "Hello. " + quote.replace("don't", "do") + " Goodbye.")
    assert not match.found
    assert match.near_miss and ("don ' t", "do") in match.differences


@pytest.mark.parametrize(
    "sentence, quote",
    [
        (SENTENCE, f"\u201c{SENTENCE}\u201d"),
        (SENTENCE, f'"{SENTENCE}"'),
        ("We don\u02bct use your content to train our models.", "We don\u2019t use your content"),
        ("We don\u00b4t use your content to train our models.", "We don't use your content"),
        ("We do\u00a0not use your\u202fcontent to train our models.", SENTENCE),
        ("We do not\u2060 use your con\u200btent to train our models.", SENTENCE),
        ("We do not use your con\u00adtent to train our models.", SENTENCE),
        ("We do not use your con-\ntent to train our models.", SENTENCE),
        ("WE DO NOT USE YOUR CONTENT TO TRAIN OUR MODELS.", SENTENCE),
    ],
)
def test_a_quote_equal_up_to_typography_and_invisible_characters_is_confirmed(
    sentence, quote, server, provider, claim_key
):
    verification = read_claim(server, provider, claim_key, sentence=sentence, quote=quote)
    assert verification.outcome == Verification.Outcome.CONFIRMED, verification.note
    assert verification.match_score == 1.0
    assert verification.claim.checked_at == timezone.localdate()


def test_a_changed_wording_shows_the_passage_and_the_words_on_the_claim_page(
    client, server, provider, claim_key
):
    verification = read_claim(
        server, provider, claim_key, sentence="We do use your content to train our models.",
        quote=SENTENCE,
    )  # fmt: skip
    assert verification.evidence["differences"] == [{"quote": "not", "page": ""}]
    page = client.get(f"/claims/{verification.claim_id}/", secure=True).text
    assert "Changed wording" in page
    assert "Passage found: “we do use your content to train our models .”" in page
    assert "<del>not</del> missing" in page


def test_an_unreadable_page_is_never_a_refutation(server, provider, claim_key):
    server.route("/privacy", Page("gone", status=404))
    source = make_source(server.url("/privacy"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=SENTENCE)
    run_check(source)
    claim.refresh_from_db()
    assert claim.verifications.get().outcome == Verification.Outcome.INCONCLUSIVE
    assert claim.status == Claim.Status.CURRENT
