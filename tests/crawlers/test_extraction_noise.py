"""Extraction without noise: what a page's source does without changing what it says (line
breaks, consent dialogs, breadcrumbs) makes no version."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.extract import content_hash, extract
from crawlers.models import Check, CrawlSettings, Version
from tests.crawlers.server import Page
from tests.factories import make_claim, make_source, run_check

pytestmark = pytest.mark.django_db

WRAPPED = """<!doctype html><html><body><main><h1>Terms of use</h1>
<p>We do not train our models
on your prompts.</p>
<p>You may cancel your subscription
at any time.</p>{extra}</main></body></html>"""
REWRAPPED = """<!doctype html><html><body><main>
  <h1>Terms
      of use</h1>
  <p>We do not train
     our models on your
     prompts.</p>
  <p>You may cancel your subscription at any
     time.</p>{extra}
</main></body></html>"""
TRAINING_QUOTE = "We do not train our models on your prompts."
CANCEL_QUOTE = "You may cancel your subscription at any time."


def versions(source) -> int:
    return Version.objects.filter(source=source).count()


def test_a_rewrapped_page_makes_no_version(server, provider, claim_key):
    server.route("/terms", Page(WRAPPED.format(extra="")))
    source = make_source(server.url("/terms"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=CANCEL_QUOTE)
    first = run_check(source)
    assert first.version.text == (
        "Terms of use\nWe do not train our models on your prompts.\n" + CANCEL_QUOTE
    )

    server.route("/terms", Page(REWRAPPED.format(extra="")))
    check = run_check(source)

    assert check.outcome == Check.Outcome.UNCHANGED
    assert versions(source) == 1
    assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED


def test_the_first_check_after_an_extractor_change_makes_no_version_from_line_breaks(
    server, provider, claim_key
):
    # A version read by the earlier extractor, which kept the source's line breaks inside
    # paragraphs as line breaks of the text.
    raw = WRAPPED.format(extra="").encode()
    source = make_source(server.url("/terms"), provider=provider)
    old_text = (
        "Terms of use\nWe do not train our models\non your prompts.\n"
        "You may cancel your subscription\nat any time."
    )
    stored = Version.objects.create(
        source=source,
        number=1,
        content_hash=content_hash(old_text),
        text=old_text,
        cause=Version.Cause.FIRST,
        created_at=timezone.now(),
        fetched_url=source.url,
        raw_body=Version.compress(raw),
        raw_size=len(raw),
        raw_hash="0" * 64,
        raw_content_type="text/html",
        raw_encoding="utf-8",
        extractor_revision=1,
    )
    CrawlSettings.objects.filter(source=source).update(current_version=stored)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=TRAINING_QUOTE)
    server.route("/terms", Page(REWRAPPED.format(extra="")))

    first, second = run_check(source), run_check(source)

    assert (first.outcome, second.outcome) == (Check.Outcome.UNCHANGED, Check.Outcome.UNCHANGED)
    assert list(Version.objects.filter(source=source)) == [stored]
    # The earlier text is re-read once with today's rules, not at every check.
    assert Check.objects.filter(source=source, kind=Check.Kind.REEXTRACT).count() <= 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CURRENT
    assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED


COOKIEBOT = """<div id="CybotCookiebotDialog" class="CybotEdge" lang="en">
<h2 id="CybotCookiebotDialogBodyContentTitle">This website uses cookies</h2>
<div id="CybotCookiebotDialogBodyContentText">We use cookies to personalise content and ads.
Consent ID: {nonce}</div>
<a id="CybotCookiebotDialogBodyLevelButtonLevelOptinAllowAll" href="#">Allow all</a></div>"""


def test_a_cookiebot_dialog_makes_no_version(server, provider):
    page = WRAPPED.replace("<main>", "").replace("</main>", "")  # the whole body is read
    server.route("/terms", Page(page.format(extra="")))
    source = make_source(server.url("/terms"), provider=provider)
    run_check(source)

    for nonce in ("a1b2", "c3d4"):
        server.route("/terms", Page(page.format(extra=COOKIEBOT.format(nonce=nonce))))
        assert run_check(source).outcome == Check.Outcome.UNCHANGED
    assert versions(source) == 1


BREADCRUMBS = [
    '<nav aria-label="Breadcrumb"><ol><li><a href="/">Home</a></li><li>Legal</li></ol></nav>',
    '<ol class="breadcrumbs"><li><a href="/">Home</a></li><li>Legal</li></ol>',
    '<div aria-label="breadcrumb"><a href="/">Home</a> &rsaquo; <a href="/legal">Legal</a></div>',
    '<ul class="c-breadcrumb__list"><li><a href="/">Home</a></li><li>Legal</li></ul>',
    '<div role="navigation"><a href="/">Home</a> <a href="/legal">Legal</a></div>',
]


@pytest.mark.parametrize("breadcrumb", BREADCRUMBS)
def test_a_breadcrumb_inside_the_selected_part_makes_no_version(breadcrumb, server, provider):
    page = WRAPPED.replace("<main>", "<main><article>").replace("</main>", "</article></main>")
    server.route("/terms", Page(page.format(extra="")))
    source = make_source(server.url("/terms"), keep="article", provider=provider)
    run_check(source)

    with_breadcrumb = page.replace("<article>", "<article>" + breadcrumb)
    server.route("/terms", Page(with_breadcrumb.format(extra="")))
    assert run_check(source).outcome == Check.Outcome.UNCHANGED
    assert versions(source) == 1


# The consent managers of the web's most visited sites, as their banners are marked up.
CONSENT_BANNERS = {
    "Didomi": '<div id="didomi-host"><div class="didomi-popup-container">We and our '
    "partners use cookies.</div></div>",
    "Usercentrics": '<div id="usercentrics-root">We use cookies. Accept all</div>',
    "TrustArc": '<div id="truste-consent-track"><div id="truste-consent-content">'
    "This site uses cookies.</div></div>",
    "TrustArc overlay": '<div class="truste_box_overlay">Cookie preferences</div>',
    "Quantcast": '<div class="qc-cmp2-container"><p>We value your privacy</p></div>',
    "Osano": '<div class="osano-cm-window"><div class="osano-cm-dialog">This website '
    "stores data such as cookies.</div></div>",
    "Iubenda": '<div id="iubenda-cs-banner">We and selected third parties use cookies.</div>',
    "Cookie Script": '<div id="cookiescript_injected">This website uses cookies.</div>',
    "Complianz": '<div id="cmplz-cookiebanner-container"><div class="cmplz-cookiebanner">'
    "Manage consent</div></div>",
    "CookieYes": '<div class="cky-consent-container"><p>We value your privacy</p></div>',
    "Termly": '<div id="termly-code-snippet-support"><div>We use essential cookies.</div></div>',
    "Klaro": '<div class="klaro"><div class="cookie-notice">We use cookies.</div></div>',
}  # fmt: skip
POLICY = """<main><h1>Cookie policy</h1><section id="cookies"><h2>Cookies</h2>
<p>We use cookies to keep you signed in.</p></section>{banner}</main>"""


@pytest.mark.parametrize("manager", sorted(CONSENT_BANNERS))
def test_a_consent_managers_banner_is_not_part_of_the_text(manager):
    def text(banner: str) -> str:
        page = POLICY.format(banner=banner).encode()
        return extract(page, content_type="text/html", keep=["main"], remove=[]).text

    assert text(CONSENT_BANNERS[manager]) == text("")
    assert "We use cookies to keep you signed in." in text("")  # the policy's own words stay
