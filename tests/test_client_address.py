"""Client addresses behind trusted proxies: one rule for the sign-in lock-out, the review and
report limits and the API's anonymous rate limit."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from assessments.models import Review
from atlas.client_address import client_address
from catalog.models import Provider
from tests.factories import PASSWORD
from tests.test_settings import GOOD_KEY, SETUP, _run

PROXY = "10.0.0.2"


def _request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


@pytest.fixture
def behind_proxy(settings):
    settings.ATLAS_TRUSTED_PROXIES = ["10.0.0.0/24"]


def test_without_trusted_proxies_the_connecting_address_is_the_client(settings):
    settings.ATLAS_TRUSTED_PROXIES = []
    assert client_address(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_behind_a_trusted_proxy_the_address_it_saw_is_the_client(behind_proxy):
    assert client_address(_request(PROXY, "198.51.100.1")) == "198.51.100.1"


def test_addresses_the_client_wrote_itself_are_never_believed(behind_proxy):
    # The client sent "X-Forwarded-For: 192.0.2.66"; the proxy appended what it saw.
    assert client_address(_request(PROXY, "192.0.2.66, 198.51.100.1")) == "198.51.100.1"


def test_trusted_hops_are_skipped_from_the_right(behind_proxy):
    forwarded = "192.0.2.66, 198.51.100.1, 10.0.0.7"
    assert client_address(_request(PROXY, forwarded)) == "198.51.100.1"


def test_a_header_from_an_untrusted_peer_is_ignored(behind_proxy):
    assert client_address(_request("203.0.113.9", "198.51.100.1")) == "203.0.113.9"


def test_a_proxy_that_does_not_say_for_whom_leaves_its_own_address(behind_proxy):
    assert client_address(_request(PROXY)) == PROXY
    assert client_address(_request(PROXY, "not an address")) == PROXY


def test_ipv6_and_ports_as_proxies_write_them(settings):
    settings.ATLAS_TRUSTED_PROXIES = ["10.0.0.0/24", "fd00::/8"]
    assert client_address(_request("fd00::2", "[2001:db8::7]:4711")) == "2001:db8::7"
    assert client_address(_request(PROXY, "198.51.100.1:5555")) == "198.51.100.1"
    assert client_address(_request("::ffff:10.0.0.2", "198.51.100.1")) == "198.51.100.1"


@pytest.mark.parametrize("value", ["10.0.0.0/33", "proxy.internal", "10.0.0.1;10.0.0.2"])
def test_a_bad_trusted_proxies_value_stops_start_up_naming_the_variable(value):
    result = _run(SETUP, SECRET_KEY=GOOD_KEY, ATLAS_TRUSTED_PROXIES=f"10.0.0.1,{value}")
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    last = result.stderr.splitlines()[-1]
    assert "ATLAS_TRUSTED_PROXIES" in last
    assert repr(value) in last


def test_failed_sign_ins_behind_the_proxy_lock_out_one_client_not_everyone(
    client, reviewer, settings, behind_proxy
):
    login = reverse("accounts:login")
    attacker = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(login, {"username": reviewer.username, "password": "wrong"}, **attacker)
    locked = client.post(login, {"username": reviewer.username, "password": PASSWORD}, **attacker)
    assert locked.status_code == 429

    owner = {"REMOTE_ADDR": PROXY, "HTTP_X_FORWARDED_FOR": "203.0.113.20"}
    response = client.post(login, {"username": reviewer.username, "password": PASSWORD}, **owner)
    assert response.status_code == 302, "the account's owner, elsewhere, still signs in"


def test_the_review_limit_behind_the_proxy_is_per_client(client, db, settings, behind_proxy):
    settings.ATLAS_REVIEWS_PER_IP_PER_HOUR = 1
    provider = Provider.objects.create(slug="acme-ai", name="Acme AI", kind="model_developer")

    def post(email: str, address: str):
        return client.post(
            reverse("assessments:reviews", args=[provider.slug]),
            {
                "rating": "4",
                "title": "Solid API",
                "body": "The API worked well for our pilot.",
                "author_name": "Dana",
                "email": email,
                "website": "",
            },
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=address,
        )

    assert post("one@example.net", "198.51.100.1").status_code == 302
    assert post("two@example.net", "198.51.100.1").status_code == 429
    assert post("three@example.net", "203.0.113.20").status_code == 302
    assert set(Review.objects.values_list("client_ip", flat=True)) == {
        "198.51.100.1",
        "203.0.113.20",
    }


def test_the_report_limit_behind_the_proxy_is_per_client(client, db, settings, behind_proxy):
    settings.ATLAS_REPORTS_PER_IP_PER_HOUR = 1
    provider = Provider.objects.create(slug="acme-ai", name="Acme AI", kind="model_developer")
    review = Review.objects.create(
        provider=provider,
        rating=4,
        title="Solid API",
        body="The API worked well for our pilot.",
        author_name="Dana",
        email="dana@example.net",
        status=Review.Status.PUBLISHED,
        confirmed_at=timezone.now(),
    )
    url = reverse("assessments:review_report", args=[review.pk])

    def report(address: str):
        client.post(
            url, {"reason": "Spam"}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address, follow=True
        )
        return review.reports.count()

    assert report("198.51.100.1") == 1
    assert report("198.51.100.1") == 1, "the second report from one client is refused"
    assert report("203.0.113.20") == 2, "another client behind the same proxy may report"


def test_the_api_rate_limit_behind_the_proxy_is_per_client(settings, db, behind_proxy):
    from django.core.cache import cache

    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "2/minute", "client": "4/minute"},
    }
    cache.clear()
    api = APIClient()

    def get(address: str) -> int:
        return api.get(
            "/api/v1/licences", REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=address
        ).status_code

    try:
        assert [get("198.51.100.1") for _ in range(3)] == [200, 200, 429]
        assert get("203.0.113.20") == 200, "another client has its own bucket"
        # A client cannot get a fresh bucket by writing its own X-Forwarded-For.
        assert get("192.0.2.1, 198.51.100.1") == 429
    finally:
        cache.clear()
