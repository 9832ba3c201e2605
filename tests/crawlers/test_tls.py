"""HTTPS through the address-pinning fetch: the connection goes to the checked address, while
SNI and certificate verification use the host name.

A real TLS server on 127.0.0.1 holds certificates from a test CA (trustme); the resolver seam
answers the test's host name with 127.0.0.1, and every lookup and connection is recorded.
"""

from __future__ import annotations

import socket
import ssl

import httpx
import pytest
import trustme

from catalog.models import Verification
from crawlers import fetch, services
from crawlers.errors import CrawlerError
from crawlers.fetch import addresses, http
from crawlers.models import Check, Version
from tests.crawlers.server import FixtureServer, Page
from tests.factories import make_claim, make_source

HOST = "terms.atlas-test.example"
DNS = {
    HOST: ["127.0.0.1"],
    "internal.atlas-test.example": ["10.1.2.3"],
}
TERMS = "<html><body><main><p>Outputs belong to you.</p></main></body></html>"


def server_context(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(context)
    return context


@pytest.fixture(scope="session")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="session")
def ca_file(ca, tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("tls") / "test-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


@pytest.fixture(scope="session")
def tls_fixture_server():
    server = FixtureServer(tls=True)
    yield server
    server.stop()


@pytest.fixture
def tls_server(tls_fixture_server, ca):
    """The TLS server, emptied, serving a certificate for HOST from the test CA."""
    server = tls_fixture_server
    server.routes.clear()
    server.counts.clear()
    server.requests.clear()
    server.server_names.clear()
    server.use_certificate(server_context(ca, HOST))
    return server


@pytest.fixture
def network(monkeypatch):
    """A fixed DNS at the resolver seam; records its lookups, system lookups and connections."""
    record: dict[str, list] = {"resolved": [], "getaddrinfo": [], "dialled": []}

    def fake_resolve(host: str, port: int) -> list[str]:
        record["resolved"].append(host)
        if host not in DNS:
            raise socket.gaierror(f"unknown host {host}")
        return DNS[host]

    real_getaddrinfo = socket.getaddrinfo
    real_create_connection = socket.create_connection

    def recording_getaddrinfo(host, *args, **kwargs):
        record["getaddrinfo"].append(host)
        return real_getaddrinfo(host, *args, **kwargs)

    def recording_create_connection(address, *args, **kwargs):
        record["dialled"].append(address)
        return real_create_connection(address, *args, **kwargs)

    monkeypatch.setattr(addresses, "resolve", fake_resolve)
    monkeypatch.setattr(socket, "getaddrinfo", recording_getaddrinfo)
    monkeypatch.setattr(socket, "create_connection", recording_create_connection)
    return record


def test_a_page_is_read_over_https_with_the_host_name_as_sni_and_host_header(
    tls_server, network, ca_file
):
    tls_server.route("/terms", Page(TERMS))
    url = tls_server.url("/terms", host=HOST)
    result = fetch.fetch(url, ca_file=ca_file)
    assert result.status_code == 200
    assert result.final_url == url
    assert b"Outputs belong to you." in result.body
    # robots.txt, then the page: each handshake named the host, not the address.
    assert tls_server.server_names == [HOST, HOST]
    assert [path for path, _ in tls_server.requests] == ["/robots.txt", "/terms"]
    assert {headers["Host"] for _, headers in tls_server.requests} == {f"{HOST}:{tls_server.port}"}


def test_the_https_connection_goes_to_the_checked_address_without_a_second_lookup(
    tls_server, network, ca_file
):
    tls_server.route("/terms", Page(TERMS))
    fetch.fetch(tls_server.url("/terms", host=HOST), ca_file=ca_file)
    assert network["resolved"] == [HOST]
    assert HOST not in network["getaddrinfo"]
    assert network["dialled"] and set(network["dialled"]) == {("127.0.0.1", tls_server.port)}


def test_a_certificate_for_another_name_is_a_clear_permanent_failure(
    tls_server, network, ca, ca_file
):
    tls_server.use_certificate(server_context(ca, "other.atlas-test.example"))
    tls_server.route("/terms", Page(TERMS))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(tls_server.url("/terms", host=HOST), ca_file=ca_file)
    error = raised.value
    assert error.permanent is True
    assert f"certificate of {HOST} did not verify" in str(error)
    assert f"not valid for '{HOST}'" in str(error)
    assert error.final_url == tls_server.url("/terms", host=HOST)
    # One handshake: the failed robots.txt ends the fetch; the page is not tried again.
    assert tls_server.server_names == [HOST]
    assert tls_server.requests == []


def test_a_certificate_from_an_unknown_ca_is_a_clear_permanent_failure(
    tls_server, network, ca_file
):
    tls_server.use_certificate(server_context(trustme.CA(), HOST))
    tls_server.route("/terms", Page(TERMS))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(tls_server.url("/terms", host=HOST), ca_file=ca_file)
    assert raised.value.permanent is True
    assert f"certificate of {HOST} did not verify" in str(raised.value)
    assert "unable to get local issuer certificate" in str(raised.value)
    assert tls_server.server_names == [HOST]
    assert tls_server.requests == []


def test_without_a_ca_file_the_default_bundle_does_not_trust_the_test_ca(tls_server, network):
    tls_server.route("/terms", Page(TERMS))
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(tls_server.url("/terms", host=HOST))
    assert raised.value.permanent is True
    assert "did not verify" in str(raised.value)
    assert tls_server.requests == []


def test_an_extra_ca_file_is_trusted_besides_the_default_bundle(ca_file):
    default = httpx.create_ssl_context().cert_store_stats()["x509_ca"]
    both = http.ssl_context("", ca_file).cert_store_stats()["x509_ca"]
    assert default > 100  # the public CAs are still there
    assert both == default + 1


@pytest.mark.django_db
def test_a_source_behind_a_private_ca_is_read_once_that_ca_is_trusted(
    tls_server, network, provider, claim_key, ca_file, settings
):
    settings.ATLAS_CRAWLER_EXTRA_CA_FILE = ca_file
    tls_server.route("/terms", Page(TERMS))
    source = make_source(tls_server.url("/terms", host=HOST), provider=provider)
    claim = make_claim(
        source=source, provider=provider, key=claim_key, quote="Outputs belong to you."
    )
    queued = services.check_queue(source=source, reason="test")
    check = services.check_run(check_id=queued.pk)
    assert check.status == Check.Status.DONE and check.outcome == Check.Outcome.FIRST
    assert "Outputs belong to you." in check.version.text
    assert claim.verifications.get().outcome == Verification.Outcome.CONFIRMED
    assert tls_server.server_names == [HOST, HOST]


def test_a_ca_file_that_cannot_be_loaded_is_named_in_a_permanent_error(
    tls_server, network, tmp_path
):
    missing = str(tmp_path / "missing.pem")
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(tls_server.url("/terms", host=HOST), ca_file=missing)
    assert raised.value.permanent is True
    assert f"The CA bundle {missing!r} could not be loaded" in str(raised.value)
    assert network["dialled"] == []


@pytest.mark.django_db
def test_a_check_meeting_a_bad_certificate_fails_at_once_without_a_retry(
    tls_server, network, provider, claim_key
):
    # The default bundle does not trust this certificate, as for any site with a bad one.
    tls_server.route("/terms", Page(TERMS))
    source = make_source(tls_server.url("/terms", host=HOST), provider=provider)
    claim = make_claim(
        source=source, provider=provider, key=claim_key, quote="Outputs belong to you."
    )
    queued = services.check_queue(source=source, reason="test")
    # Not the final attempt: a transient error would be re-raised for the task to retry.
    check = services.check_run(check_id=queued.pk, final_attempt=False)
    assert check is not None
    check.refresh_from_db()
    assert check.status == Check.Status.FAILED
    assert check.error_permanent is True
    assert check.attempts == 1
    assert "did not verify" in check.error
    assert not Version.objects.filter(source=source).exists()
    verification = claim.verifications.get()
    assert verification.outcome == Verification.Outcome.INCONCLUSIVE
    assert verification.evidence["failure"] == "permanent, no usable answer"
    assert tls_server.server_names == [HOST]


@pytest.mark.parametrize(
    "hop",
    [
        "http://10.0.0.7/admin",
        "https://10.0.0.7/admin",
        "https://internal.atlas-test.example/",
        "https://169.254.169.254/latest/meta-data/",
        "https://[::1]/",
    ],
)
def test_an_https_redirect_to_a_private_address_is_refused_before_connecting(
    hop, tls_server, network, ca_file
):
    tls_server.route("/start", Page(status=302, headers={"Location": hop}))
    start = tls_server.url("/start", host=HOST)
    with pytest.raises(CrawlerError) as raised:
        fetch.fetch(start, ca_file=ca_file)
    error = raised.value
    assert error.permanent is True
    assert "not fetched" in str(error)
    assert error.redirects == [{"status": 302, "from": start, "to": hop}]
    assert error.final_url == hop
    assert set(network["dialled"]) == {("127.0.0.1", tls_server.port)}
