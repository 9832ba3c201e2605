"""robots.txt as RFC 9309 reads it, through the crawler's real fetch against a local server."""

from __future__ import annotations

import pytest

from crawlers import fetch
from crawlers.errors import CrawlerError
from tests.crawlers.server import Page

PAGE = Page("the terms", content_type="text/plain")


def robots_txt(text: str, **kwargs) -> Page:
    return Page(text, content_type="text/plain", **kwargs)


def test_a_wildcard_rule_anchored_at_the_end_stops_the_pdf_and_nothing_else(server):
    server.route("/robots.txt", robots_txt("User-agent: *\nDisallow: /*.pdf$\n"))
    for path in ("/terms.pdf", "/terms.html"):
        server.route(path, PAGE)
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/terms.pdf"))
    assert raised.value.permanent is True
    assert "disallows" in str(raised.value)
    assert server.hits("/terms.pdf") == 0
    # "$" anchors the end of the path and query: with a query the rule no longer matches.
    assert fetch.fetch(server.url("/terms.pdf?x")).status_code == 200
    assert fetch.fetch(server.url("/terms.html")).status_code == 200


def test_the_longest_matching_rule_wins_whatever_the_order(server):
    server.route(
        "/robots.txt", robots_txt("User-agent: *\nDisallow: /legal/\nAllow: /legal/terms\n")
    )
    server.route("/legal/terms", PAGE)
    server.route("/legal/drafts", PAGE)
    assert fetch.fetch(server.url("/legal/terms")).status_code == 200
    with pytest.raises(CrawlerError):
        fetch.fetch(server.url("/legal/drafts"))
    assert server.hits("/legal/drafts") == 0


def test_the_group_naming_the_crawlers_product_token_is_the_one_followed(server):
    server.route(
        "/robots.txt",
        robots_txt(
            "User-agent: *\nDisallow: /\n\n"
            "User-agent: atlassourcechecker\nDisallow: /private\n\n"
            "User-agent: OtherBot\nDisallow: /terms\n"
        ),
    )
    server.route("/terms", PAGE)
    server.route("/private", PAGE)
    assert fetch.fetch(server.url("/terms")).status_code == 200
    with pytest.raises(CrawlerError):
        fetch.fetch(server.url("/private"))


def test_a_robots_txt_answering_4xx_allows_everything(server):
    server.route("/robots.txt", robots_txt("gone", status=410))
    server.route("/terms", PAGE)
    assert fetch.fetch(server.url("/terms")).status_code == 200


def test_a_robots_txt_answering_5xx_disallows_everything_for_now(server):
    server.route("/robots.txt", robots_txt("busy", status=503, headers={"Retry-After": "120"}))
    server.route("/terms", PAGE)
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/terms"))
    assert raised.value.permanent is False
    assert raised.value.retry_after == 120
    assert server.hits("/terms") == 0


def test_an_unreachable_robots_txt_disallows_everything_for_now(server):
    def hang_up(request):
        request.close_connection = True
        request.wfile.flush()

    server.route("/robots.txt", hang_up)
    server.route("/terms", PAGE)
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/terms"))
    assert raised.value.permanent is False
    assert server.hits("/terms") == 0
