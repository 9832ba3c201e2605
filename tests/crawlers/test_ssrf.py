"""Server-side request forgery: every hostile URL is refused before any connection is made.

The resolver seam answers from a fixed table (no real DNS), and every way of opening a
TCP connection is recorded, so each test proves no connection was even attempted.
"""

from __future__ import annotations

import socket

import pytest

from crawlers import fetch
from crawlers.errors import CrawlerError
from crawlers.fetch import addresses
from tests.crawlers.server import Page

DNS = {
    "localhost": ["127.0.0.1", "::1"],
    "metadata.google.internal": ["169.254.169.254"],
    "internal.example.com": ["10.1.2.3"],
    "mixed.example.com": ["93.184.216.34", "192.168.0.1"],
    "rebind.example.com": ["::1"],
    "cgnat.example.com": ["100.64.12.1"],
    "mapped.example.com": ["::ffff:10.0.0.1"],
    "public.example.com": ["93.184.216.34"],
}

HOSTILE = [
    # loopback, in every spelling resolvers accept
    "http://127.0.0.1/",
    "https://127.0.0.1:443/",
    "http://localhost/",
    "http://LOCALHOST./",
    "http://2130706433/",
    "http://017700000001/",
    "http://0x7f000001/",
    "http://0x7f.0.0.1/",
    "http://0x7f.0x0.0x0.0x1/",
    "http://0177.0.0.1/",
    "http://127.000.000.001/",
    "http://127.1/",
    "http://0x7f.1/",
    "http://127.0.1/",
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::1%25lo]/",
    # unspecified
    "http://0/",
    "http://0.0.0.0/",
    "http://0.0.0.0:8000/",
    "http://[::]/",
    # IPv4 inside IPv6
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[0:0:0:0:0:ffff:127.0.0.1]/",
    "http://[::127.0.0.1]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:a9fe:a9fe::]/",
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",
    # private, link-local, metadata, carrier-grade NAT, benchmarking, protocol ranges
    "http://10.0.0.1/",
    "http://172.16.0.1/",
    "http://192.168.1.1/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fd00:ec2::254]/latest/meta-data/",
    "http://100.64.0.1/",
    "http://100.100.100.200/latest/meta-data/",
    "http://198.18.0.1/",
    "http://192.0.0.1/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    # multicast and reserved
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://240.0.0.1/",
    "http://255.255.255.255/",
    # DNS names that resolve to refused addresses
    "http://metadata.google.internal/computeMetadata/v1/",
    "http://internal.example.com/",
    "http://mixed.example.com/",
    "http://rebind.example.com/",
    "http://cgnat.example.com/",
    "http://mapped.example.com/",
    # URL tricks
    "http://example.com@127.0.0.1/",
    "http://user:pass@public.example.com/",
    "http:///no-host",
    "http://999.1.1.1/",
    # schemes other than http and https
    "ftp://public.example.com/",
    "file:///etc/passwd",
    "gopher://public.example.com:70/_stats",
    "dict://public.example.com:11211/stat",
    "ldap://public.example.com/",
    "javascript:alert(1)",
    "data:text/html,hello",
    # odd ports on a public host
    "http://public.example.com:22/",
    "http://public.example.com:25/",
    "http://public.example.com:6379/",
    "http://public.example.com:0/",
]


@pytest.fixture
def dialled(monkeypatch, settings):
    """No allow-list, a fixed DNS, and a record of every connection attempt."""
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = []
    attempts: list = []

    def fake_resolve(host: str, port: int) -> list[str]:
        if host not in DNS:
            raise socket.gaierror(f"unknown host {host}")
        return DNS[host]

    def refuse_create_connection(address, *args, **kwargs):
        attempts.append(address)
        raise AssertionError(f"a connection to {address} was attempted")

    real_connect = socket.socket.connect

    def recording_connect(self, address):
        attempts.append(address)
        return real_connect(self, address)

    monkeypatch.setattr(addresses, "resolve", fake_resolve)
    monkeypatch.setattr(socket, "create_connection", refuse_create_connection)
    monkeypatch.setattr(socket.socket, "connect", recording_connect)
    return attempts


def test_the_suite_holds_at_least_forty_hostile_urls():
    assert len(set(HOSTILE)) == len(HOSTILE) >= 40


@pytest.mark.parametrize("url", HOSTILE)
def test_a_hostile_url_is_refused_before_any_connection(url, dialled):
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(url)
    assert raised.value.permanent is True, raised.value
    assert dialled == []


def test_a_public_name_on_a_standard_port_passes_the_checks(dialled):
    target = addresses.vet("https://public.example.com/terms")
    assert str(target.address) == "93.184.216.34"
    assert target.host == "public.example.com" and target.port == 443
    assert dialled == []


def test_the_refusal_names_the_address_and_the_reason(dialled):
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch("http://metadata.google.internal/computeMetadata/v1/")
    assert "169.254.169.254" in str(raised.value)
    assert "link-local" in str(raised.value)


def test_the_allow_list_opens_only_what_it_lists(settings, dialled):
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["10.1.2.0/24"]
    assert str(addresses.vet("http://internal.example.com:9000/").address) == "10.1.2.3"
    with pytest.raises(CrawlerError):
        addresses.vet("http://10.1.3.1/")
    with pytest.raises(CrawlerError):
        addresses.vet("http://127.0.0.1/")


PRIVATE_HOPS = [
    "http://169.254.169.254/latest/meta-data/",
    "http://127.0.0.2/",
    "http://[::1]/",
    "http://10.0.0.7/",
    "http://metadata.google.internal/",
    "http://internal.example.com/",
    "http://0x0a000001/",
    "http://[::ffff:192.168.0.1]/",
    "file:///etc/passwd",
    "ftp://public.example.com/",
]


@pytest.mark.parametrize("hop", PRIVATE_HOPS)
def test_a_redirect_chain_into_a_refused_address_stops_before_connecting(
    hop, server, settings, monkeypatch
):
    # Only the fixture server is allowed; the chain passes through it twice, then turns.
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    monkeypatch.setattr(addresses, "resolve", lambda host, port: DNS[host])
    dialled = []
    real = socket.create_connection

    def recording(address, *args, **kwargs):
        dialled.append(address)
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", recording)
    server.route("/robots.txt", Page("", status=404))
    server.route("/start", Page(status=302, headers={"Location": "/middle"}))
    server.route("/middle", Page(status=307, headers={"Location": hop}))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(server.url("/start"))
    assert raised.value.permanent is True
    assert [h["to"] for h in raised.value.redirects] == [server.url("/middle"), hop]
    assert {address[0] for address in dialled} == {"127.0.0.1"}


def test_a_dns_lookup_that_hangs_is_abandoned_at_the_connect_timeout(settings, monkeypatch):
    import threading
    import time

    settings.ATLAS_CRAWLER_CONNECT_TIMEOUT = 1
    release = threading.Event()
    monkeypatch.setattr(addresses, "resolve", lambda host, port: release.wait(10) and [])
    started = time.monotonic()
    try:
        with pytest.raises(CrawlerError, match="took longer than 1 s") as raised:
            addresses.vet("https://slow-dns.example.com/")
    finally:
        release.set()
    assert raised.value.permanent is False
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://[::1]/", "a loopback address"),
        ("http://[0:0:0:0:0:0:0:1]/", "a loopback address"),
        ("http://[::]/", "an unspecified address"),
        ("http://rebind.example.com/", "a loopback address"),
        ("http://[::127.0.0.1]/", "an IPv4-compatible IPv6 address"),
    ],
)
def test_ipv6_loopback_and_unspecified_are_refused_for_what_they_are(url, reason, dialled):
    with pytest.raises(CrawlerError) as raised:
        addresses.vet(url)
    assert reason in str(raised.value)
    assert dialled == []
