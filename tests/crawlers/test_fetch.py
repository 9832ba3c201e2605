"""Checks against a real local server: every kind of answer ends as it should, loses no history."""

from __future__ import annotations

import gzip
import socket
import threading
import time

import pytest
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers import fetch, services
from crawlers.errors import CrawlerError
from crawlers.fetch import robots
from crawlers.fetch.deadline import Watchdog
from crawlers.models import Check, CrawlSettings, Version
from crawlers.selectors import version_diff
from tests.crawlers.server import Page
from tests.factories import LONG_AGO, make_claim, make_source, run_check

TERMS = """<!doctype html><html><head><title>Terms</title></head><body>
<nav><a href="/">Home</a> <a href="/pricing">Pricing</a></nav>
<main><h1>Terms of use</h1>
<p>We do not train our models on your prompts.</p>
<p>You may cancel your subscription at any time.</p>
<p>Outputs belong to you.</p>
</main><footer>Copyright</footer></body></html>"""
REWORDED = TERMS.replace(
    "We do not train our models on your prompts.",
    "We may train our models on your prompts unless you opt out.",
)
REMOVED = TERMS.replace("<p>You may cancel your subscription at any time.</p>", "")
KEPT_QUOTE = "Outputs belong to you."
TRAINING_QUOTE = "We do not train our models on your prompts."
CANCEL_QUOTE = "You may cancel your subscription at any time."


@pytest.fixture
def history(server, provider, claim_key):
    """A source read once (one version) with three confirmed claims; returns (source, claims)."""
    server.route("/terms", Page(TERMS))
    source = make_source(server.url("/terms"), provider=provider)
    claims = [
        make_claim(source=source, provider=provider, key=claim_key, quote=quote)
        for quote in (TRAINING_QUOTE, CANCEL_QUOTE, KEPT_QUOTE)
    ]
    first = run_check(source)
    assert first.outcome == Check.Outcome.FIRST, first.error
    Claim.objects.filter(source=source).update(checked_at=LONG_AGO)
    return source, claims


def assert_history_intact(source, claims, check) -> None:
    """A failed check: recorded, one version kept, claims untouched but told inconclusive."""
    assert check.status == Check.Status.FAILED
    assert check.error
    assert check.finished_at is not None
    assert Version.objects.filter(source=source).count() == 1
    assert CrawlSettings.objects.get(source=source).current_version.number == 1
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status == Claim.Status.CURRENT
        assert claim.checked_at == LONG_AGO
        last = claim.verifications.first()
        assert last.outcome == Verification.Outcome.INCONCLUSIVE
        assert last.evidence["check_id"] == check.pk


@pytest.mark.django_db
def test_an_unchanged_page_stores_no_new_version_and_confirms_its_claims(server, history):
    source, claims = history
    check = run_check(source)
    assert check.outcome == Check.Outcome.UNCHANGED
    assert check.http_status == 200
    assert check.duration_ms is not None and check.bytes_received > 0
    assert Version.objects.filter(source=source).count() == 1
    for claim in claims:
        claim.refresh_from_db()
        assert claim.checked_at == timezone.localdate()
        assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED


@pytest.mark.django_db
def test_a_reworded_clause_is_one_new_version_with_a_readable_diff(server, history):
    source, claims = history
    server.route("/terms", Page(REWORDED))
    check = run_check(source)
    assert check.outcome == Check.Outcome.CHANGED
    assert check.version.number == 2 and check.previous_version.number == 1
    assert check.version.cause == Version.Cause.PROVIDER_CHANGE
    diff = version_diff(old=check.previous_version, new=check.version)
    assert f"-{TRAINING_QUOTE}" in diff.splitlines()
    assert "+We may train our models on your prompts unless you opt out." in diff.splitlines()
    training, cancel, kept = (Claim.objects.get(pk=c.pk) for c in claims)
    assert training.status == Claim.Status.NEEDS_REVIEW
    assert training.checked_at == LONG_AGO
    assert cancel.status == Claim.Status.CURRENT and cancel.checked_at == timezone.localdate()
    assert kept.status == Claim.Status.CURRENT
    # A second identical check changes nothing more.
    assert run_check(source).outcome == Check.Outcome.UNCHANGED
    assert Version.objects.filter(source=source).count() == 2


@pytest.mark.django_db
def test_a_removed_clause_sends_only_its_claim_to_review(server, history):
    source, claims = history
    server.route("/terms", Page(REMOVED))
    check = run_check(source)
    assert check.outcome == Check.Outcome.CHANGED
    training, cancel, kept = (Claim.objects.get(pk=c.pk) for c in claims)
    assert cancel.status == Claim.Status.NEEDS_REVIEW
    verification = cancel.verifications.first()
    assert verification.outcome == Verification.Outcome.CONTRADICTED
    assert verification.match_score is not None and verification.match_score < 0.95
    assert training.status == Claim.Status.CURRENT
    assert kept.status == Claim.Status.CURRENT


@pytest.mark.django_db
def test_a_cookie_banner_that_changes_on_every_request_is_not_a_change(server, provider):
    counter = iter(range(1000))

    def banner(request):
        from tests.crawlers.server import write

        token = next(counter)
        body = TERMS.replace(
            "<main>",
            f'<div id="cookie-banner">We use cookies. Session {token}-{time.time()}</div>'
            f'<div class="consent-banner">Accept ({token})</div><main>',
        )
        write(request, Page(body))

    server.route("/banner", banner)
    source = make_source(server.url("/banner"), provider=provider)
    outcomes = [run_check(source).outcome for _ in range(3)]
    assert outcomes == [Check.Outcome.FIRST, Check.Outcome.UNCHANGED, Check.Outcome.UNCHANGED]
    assert "cookies" not in Version.objects.get(source=source).text


@pytest.mark.django_db
def test_a_404_is_recorded_as_a_permanent_failure_and_falsifies_nothing(server, history):
    source, claims = history
    server.route("/terms", Page("gone", status=404, content_type="text/plain"))
    check = run_check(source)
    assert check.http_status == 404
    assert check.error_permanent is True
    assert_history_intact(source, claims, check)
    assert CrawlSettings.objects.get(source=source).consecutive_failures == 1


@pytest.mark.django_db
def test_a_source_failing_every_day_tells_each_claim_only_when_the_failure_starts_or_changes(
    server, history
):
    source, claims = history

    def verifications(claim) -> list[str]:
        return list(claim.verifications.order_by("id").values_list("outcome", flat=True))

    server.route("/terms", Page("gone", status=404, content_type="text/plain"))
    gone = [run_check(source) for _ in range(3)]
    server.route("/terms", Page("oops", status=500, content_type="text/plain"))
    broken = [run_check(source) for _ in range(2)]
    server.route("/terms", Page(TERMS))
    assert run_check(source).outcome == Check.Outcome.UNCHANGED
    server.route("/terms", Page("oops", status=500, content_type="text/plain"))
    again = run_check(source)

    # Every failed read is recorded as a check...
    assert all(c.status == Check.Status.FAILED for c in [*gone, *broken, again])
    assert CrawlSettings.objects.get(source=source).consecutive_failures == 1
    # ...but a claim hears of the failure when it starts, when its kind changes, and when it
    # starts again after a successful read: not once a day.
    confirmed, inconclusive = Verification.Outcome.CONFIRMED, Verification.Outcome.INCONCLUSIVE
    for claim in claims:
        assert verifications(claim) == [
            confirmed, inconclusive, inconclusive, confirmed, inconclusive
        ]  # fmt: skip
        told = claim.verifications.filter(outcome=inconclusive).order_by("id")
        assert [v.evidence["check_id"] for v in told] == [gone[0].pk, broken[0].pk, again.pk]
        assert told[0].evidence["failure"] == "permanent, HTTP 404"
        assert told[1].evidence["failure"] == "transient, HTTP 500"


@pytest.mark.django_db
def test_a_500_then_200_is_retried_and_then_read(server, history):
    source, _claims = history
    server.route("/terms", [Page("oops", status=500, content_type="text/plain"), Page(REWORDED)])
    check = services.check_queue(source=source, reason="test")
    with pytest.raises(CrawlerError) as raised:
        services.check_run(check_id=check.pk, final_attempt=False)
    assert raised.value.permanent is False
    check.refresh_from_db()
    assert check.status == Check.Status.QUEUED
    assert "500" in check.error
    assert Version.objects.filter(source=source).count() == 1
    services.check_run(check_id=check.pk, final_attempt=True)
    check.refresh_from_db()
    assert check.status == Check.Status.DONE and check.outcome == Check.Outcome.CHANGED
    assert check.attempts == 2


@pytest.mark.django_db
def test_a_500_on_the_last_attempt_fails_without_touching_claims(server, history):
    source, claims = history
    server.route("/terms", Page("oops", status=500, content_type="text/plain"))
    check = run_check(source, final_attempt=True)
    assert check.error_permanent is False
    assert_history_intact(source, claims, check)


@pytest.mark.django_db
def test_a_429_reports_its_retry_after_and_pushes_the_next_check_back(server, history):
    source, claims = history
    server.route(
        "/terms", Page("slow down", status=429, content_type="text/plain",
                       headers={"Retry-After": "120"})
    )  # fmt: skip
    check = services.check_queue(source=source, reason="test")
    with pytest.raises(CrawlerError) as raised:
        services.check_run(check_id=check.pk, final_attempt=False)
    assert raised.value.retry_after == 120
    services.check_run(check_id=check.pk, final_attempt=True)
    check.refresh_from_db()
    assert_history_intact(source, claims, check)
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.next_check_at >= timezone.now() + timezone.timedelta(seconds=110)


def _drip(request):
    """Promise 1,000 bytes and send one every 0.2 s: far longer than any deadline here."""
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    request.send_header("Content-Length", "1000")
    request.end_headers()
    for _ in range(1000):
        request.wfile.write(b"a")
        request.wfile.flush()
        time.sleep(0.2)


def test_a_slow_drip_body_is_cut_off_at_the_deadline(server, settings):
    settings.ATLAS_CRAWLER_TOTAL_TIMEOUT = 1

    server.route("/drip", _drip)
    started = time.monotonic()
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/drip"))
    assert time.monotonic() - started < 2.5
    assert "within 1 s" in str(raised.value)
    assert raised.value.permanent is False


def test_a_deadline_is_kept_while_fetches_with_later_ones_are_in_flight(server, settings):
    settings.ATLAS_CRAWLER_TOTAL_TIMEOUT = 1
    # One thread keeps every deadline: one registered earlier but due later must not hide
    # the drip's.
    later = Watchdog(time.monotonic() + 3600)

    server.route("/drip", _drip)
    try:
        with pytest.raises(CrawlerError) as raised:
            fetch.fetch(server.url("/drip"))
    finally:
        later.cancel()
    assert "within 1 s" in str(raised.value)
    assert not later.fired


def test_slowly_dripped_headers_are_cut_off_at_the_deadline(server, settings):
    settings.ATLAS_CRAWLER_TOTAL_TIMEOUT = 1

    def drip_headers(request):
        request.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for i in range(1000):
            request.wfile.write(f"X-Drip-{i}: x\r\n".encode())
            request.wfile.flush()
            time.sleep(0.2)

    server.route("/drip-headers", drip_headers)
    started = time.monotonic()
    with pytest.raises(CrawlerError):
        fetch.fetch(server.url("/drip-headers"))
    assert time.monotonic() - started < 2.5


def _endless(request, *, announce: bool):
    request.send_response(200)
    request.send_header("Content-Type", "text/html")
    if announce:
        request.send_header("Content-Length", str(50 * 1024 * 1024))
    else:
        request.send_header("Connection", "close")
    request.end_headers()
    chunk = b"<p>" + b"x" * (1024 * 1024 - 7) + b"</p>\n"
    for _ in range(50):
        request.wfile.write(chunk)
    request.close_connection = True


@pytest.mark.parametrize("announce", [True, False], ids=["with-length", "without-length"])
def test_a_50_mb_body_is_refused_at_the_byte_cap(server, settings, announce):
    settings.ATLAS_CRAWLER_MAX_BYTES = 1024 * 1024
    server.route("/huge", lambda request: _endless(request, announce=announce))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/huge"))
    assert raised.value.permanent is True
    assert "1048576-byte limit" in str(raised.value)
    if not announce:
        assert raised.value.bytes_received <= 1024 * 1024 + 64 * 1024


def test_a_gzip_bomb_stops_at_the_byte_cap_after_decompression(server, settings):
    settings.ATLAS_CRAWLER_MAX_BYTES = 1024 * 1024
    bomb = gzip.compress(b"<p>" + b"\0" * (50 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100 * 1024
    server.route(
        "/bomb", Page(bomb, content_type="text/html", headers={"Content-Encoding": "gzip"})
    )
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/bomb"))
    assert "once decompressed" in str(raised.value)


def test_a_gzipped_page_is_read(server):
    server.route(
        "/gz",
        Page(gzip.compress(TERMS.encode()), headers={"Content-Encoding": "gzip"}),
    )
    assert fetch.fetch(server.url("/gz")).body == TERMS.encode()


def test_a_redirect_loop_is_refused_with_its_chain(server):
    server.route("/loop-a", Page(status=302, headers={"Location": "/loop-b"}))
    server.route("/loop-b", Page(status=302, headers={"Location": "/loop-a"}))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/loop-a"))
    assert "Redirect loop" in str(raised.value)
    assert [hop["to"] for hop in raised.value.redirects] == [
        server.url("/loop-b"),
        server.url("/loop-a"),
    ]


def test_too_many_redirects_are_refused(server, settings):
    settings.ATLAS_CRAWLER_MAX_REDIRECTS = 3
    for i in range(6):
        server.route(f"/hop{i}", Page(status=301, headers={"Location": f"/hop{i + 1}"}))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/hop0"))
    assert "More than 3 redirects" in str(raised.value)


@pytest.mark.django_db
def test_a_followed_redirect_is_recorded_on_the_check(server, provider):
    server.route("/old", Page(status=301, headers={"Location": "/new"}))
    server.route("/new", Page(TERMS))
    source = make_source(server.url("/old"), provider=provider)
    check = run_check(source)
    assert check.outcome == Check.Outcome.FIRST
    assert check.final_url == server.url("/new")
    assert check.redirects == [{"status": 301, "from": server.url("/old"),
                                "to": server.url("/new")}]  # fmt: skip


@pytest.mark.django_db
def test_a_redirect_to_a_private_address_is_refused_before_connecting(server, history, monkeypatch):
    source, claims = history
    dialled = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        dialled.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    server.route("/terms", Page(status=302, headers={"Location": "http://10.0.0.7/admin"}))
    check = run_check(source)
    assert "10.0.0.7" in check.error and "private" in check.error
    assert check.redirects[0]["to"] == "http://10.0.0.7/admin"
    assert all(host == "127.0.0.1" for host, _port in dialled)
    assert_history_intact(source, claims, check)


def _pdf(text: str) -> bytes:
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


@pytest.mark.django_db
def test_a_pdf_is_read_and_its_quote_confirmed(server, provider, claim_key):
    server.route("/licence.pdf", Page(_pdf("The weights may be used commercially."),
                                      content_type="application/pdf"))  # fmt: skip
    source = make_source(server.url("/licence.pdf"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key,
                       quote="weights may be used commercially")  # fmt: skip
    check = run_check(source)
    assert check.outcome == Check.Outcome.FIRST, check.error
    assert check.version.text == "The weights may be used commercially."
    assert claim.verifications.first().outcome == Verification.Outcome.CONFIRMED


@pytest.mark.django_db
def test_a_corrupt_pdf_is_a_clear_failure(server, provider):
    server.route("/broken.pdf", Page(b"%PDF-1.4 nonsense", content_type="application/pdf"))
    check = run_check(make_source(server.url("/broken.pdf"), provider=provider))
    assert check.status == Check.Status.FAILED
    assert "PDF" in check.error


LATIN = "<html><body><main><p>Données traitées à Paris, où résident nos équipes.</p></main>"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (LATIN.encode("latin-1"), "text/html; charset=ISO-8859-1"),
        (
            b'<html><head><meta charset="iso-8859-1"></head>' + LATIN.encode("latin-1"),
            "text/html",
        ),
        (LATIN.encode("utf-16"), "text/html"),
        (LATIN.encode("utf-16"), "text/html; charset=utf-16"),
    ],
    ids=["latin-1-header", "latin-1-meta", "utf-16-bom", "utf-16-header"],
)
def test_odd_encodings_are_decoded(server, provider, body, content_type):
    server.route("/enc", Page(body, content_type=content_type))
    check = run_check(make_source(server.url("/enc"), provider=provider))
    assert check.outcome == Check.Outcome.FIRST, check.error
    assert check.version.text == "Données traitées à Paris, où résident nos équipes."


@pytest.mark.django_db
def test_malformed_html_is_read(server, provider):
    body = (
        "<html><body><main><p>Unclosed <b>bold <i>text</p></div></span>"
        "<p>Second & stray < sign<table><td>cell</main></html></body>\x00"
    )
    server.route("/malformed", Page(body))
    check = run_check(make_source(server.url("/malformed"), provider=provider))
    assert check.outcome == Check.Outcome.FIRST, check.error
    assert "Unclosed bold text" in check.version.text
    assert "Second & stray < sign" in check.version.text


@pytest.mark.django_db
def test_html_nested_ten_thousand_deep_does_not_crash(server, provider):
    body = "<html><body>" + "<div>" * 10_000 + "deep text" + "</div>" * 10_000 + "</body></html>"
    server.route("/deep", Page(body))
    check = run_check(make_source(server.url("/deep"), provider=provider))
    assert check.outcome == Check.Outcome.FIRST, check.error
    assert check.version.text == "deep text"


@pytest.mark.django_db
def test_an_empty_page_is_a_failure_not_an_empty_version(server, history):
    source, claims = history
    server.route("/terms", Page("<html><body></body></html>"))
    check = run_check(source)
    assert "no readable text" in check.error
    assert_history_intact(source, claims, check)


@pytest.mark.django_db
def test_an_etag_makes_the_next_check_conditional(server, provider, claim_key):
    server.route("/etag", Page(TERMS, headers={"ETag": '"v1"'}))
    source = make_source(server.url("/etag"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=KEPT_QUOTE)
    assert run_check(source).outcome == Check.Outcome.FIRST
    Claim.objects.filter(pk=claim.pk).update(checked_at=LONG_AGO)
    second = run_check(source)
    assert second.outcome == Check.Outcome.NOT_MODIFIED
    assert second.http_status == 304
    assert server.requests[-1][1].get("If-None-Match") == '"v1"'
    claim.refresh_from_db()
    assert claim.checked_at == timezone.localdate()


def test_a_content_type_other_than_html_text_or_pdf_is_refused(server):
    server.route("/bin", Page(b"\x00\x01", content_type="application/octet-stream"))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/bin"))
    assert "application/octet-stream" in str(raised.value)


def test_robots_txt_is_honoured_and_the_user_agent_is_sent(server, settings):
    server.route("/robots.txt", Page("User-agent: *\nDisallow: /private\n",
                                     content_type="text/plain"))  # fmt: skip
    server.route("/private/terms", Page(TERMS))
    server.route("/public", Page(TERMS))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/private/terms"))
    assert "robots.txt" in str(raised.value)
    assert server.hits("/private/terms") == 0
    fetch.fetch(server.url("/public"))
    assert server.requests[-1][1]["User-Agent"] == settings.ATLAS_CRAWLER_USER_AGENT


@pytest.mark.parametrize("encoding", ["identity", "gzip"])
def test_a_robots_txt_over_the_limit_is_read_up_to_the_limit_not_ignored(server, encoding):
    rules = "User-agent: *\nDisallow: /private\n"
    padding = "# " + "x" * 1000 + "\n"
    body = (rules + padding * (robots.MAX_BYTES // len(padding) + 100)).encode()
    assert len(body) > robots.MAX_BYTES
    headers = {}
    if encoding == "gzip":
        body = gzip.compress(body)
        headers = {"Content-Encoding": "gzip"}
    server.route("/robots.txt", Page(body, content_type="text/plain", headers=headers))
    server.route("/private/terms", Page(TERMS))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/private/terms"))
    assert "robots.txt" in str(raised.value) and "disallows" in str(raised.value)
    assert server.hits("/private/terms") == 0


def test_requests_to_one_host_respect_the_concurrency_limit(server, settings):
    settings.ATLAS_CRAWLER_PER_HOST_CONCURRENCY = 2
    server.route("/robots.txt", Page("", status=404))
    server.route("/page", Page(TERMS))
    fetch.fetch(server.url("/page"))  # robots.txt is now cached
    server.latency = 0.3
    server.max_in_flight = 0
    errors = []

    def one():
        try:
            fetch.fetch(server.url("/page"))
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=one) for _ in range(6)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert server.max_in_flight == 2
    assert time.monotonic() - started >= 0.85  # three rounds of 0.3 s


def test_requests_to_one_host_are_spaced_by_the_politeness_delay(server, settings):
    settings.ATLAS_CRAWLER_POLITENESS_MS = 250
    server.route("/page", Page(TERMS))
    started = time.monotonic()
    for _ in range(3):
        fetch.fetch(server.url("/page"))
    # robots.txt and three pages: three gaps of at least 0.25 s.
    assert time.monotonic() - started >= 0.75
