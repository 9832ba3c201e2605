"""Roles that work: an appointed curator opens every curator page without being a superuser,
an admin is also a curator and a reviewer, and a refusal is a page of the site."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from assessments.permissions import CURATOR_PERMISSIONS
from assessments.services.roles import user_role_set
from tests.factories import build_catalogue, make_user

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def cat():
    return build_catalogue(models_per_provider=1, providers=1)


def _granted(group: Group) -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}"
        for p in group.permissions.select_related("content_type")
    }


def test_the_migrated_curator_and_admin_groups_hold_the_curator_pages_permissions():
    for name in ("curator", "admin"):
        assert _granted(Group.objects.get(name=name)) >= set(CURATOR_PERMISSIONS), name


def test_a_curator_appointed_by_an_admin_opens_triage_probes_and_reads_sources(client, cat):
    Group.objects.get(name="curator").permissions.clear()  # as before the data migration
    admin = make_user("ada-admin", is_superuser=True)
    curator = make_user("cleo")
    user_role_set(user=curator, role="curator", granted=True, actor=admin)
    assert not curator.is_superuser and not curator.is_staff
    client.force_login(curator)
    claim, source = cat.claims[0], cat.sources[0]
    assert client.get(reverse("crawlers:triage")).status_code == 200
    assert client.get(reverse("crawlers:unverifiable")).status_code == 200
    assert client.get(reverse("inference:claim-probes", args=[claim.pk])).status_code == 200
    assert "Read it now" in _html(client.get(reverse("crawlers:source", args=[source.pk])))
    for path in ("queue", "dashboard"):
        assert client.get(reverse(f"assessments:{path}")).status_code == 200


def test_a_curators_navigation_links_the_queue_and_triage(client, curator):
    client.force_login(curator)
    nav = _html(client.get(reverse("assessments:dashboard"))).split('aria-label="Main"')[1]
    nav = nav.split("</nav>")[0]
    assert f'href="{reverse("assessments:queue")}"' in nav
    assert f'href="{reverse("crawlers:triage")}"' in nav


@pytest.mark.parametrize("kind", ["superuser", "admin group"])
def test_an_admin_is_also_a_curator_and_a_reviewer(client, cat, kind):
    if kind == "superuser":
        admin = make_user("ada-admin", is_superuser=True, is_staff=True)
    else:
        admin = make_user("ada-admin", "admin")
    client.force_login(admin)
    claim = cat.claims[0]
    for url in (
        reverse("assessments:dashboard"),
        reverse("assessments:queue"),
        reverse("assessments:correct", args=[claim.pk]),
        reverse("crawlers:triage"),
        reverse("inference:claim-probes", args=[claim.pk]),
    ):
        assert client.get(url).status_code == 200, url
    nav = _html(client.get(reverse("assessments:dashboard"))).split('aria-label="Main"')[1]
    assert ">Moderation queue</a>" in nav.split("</nav>")[0]


def test_an_admin_appoints_curators_by_the_admin_group_alone(client, cat):
    admin = make_user("ada-admin", "admin")
    someone = make_user("sam")
    user_role_set(user=someone, role="curator", granted=True, actor=admin)
    assert someone.groups.filter(name="curator").exists()


def test_a_refusal_is_a_page_of_the_site_saying_what_to_do_next(client, outsider):
    client.force_login(outsider)
    response = client.get(reverse("assessments:queue"))
    assert response.status_code == 403
    html = _html(response)
    assert '<nav aria-label="Main">' in html
    assert "Only curators may do this." in html
    assert "ask an admin" in html
    assert "Sign out and sign in with another account" in html
    client.logout()
    response = client.get(reverse("inference:claim-probes", args=[1]))
    assert response.status_code == 403
    html = _html(response)
    assert '<nav aria-label="Main">' in html
    assert f'href="{reverse("accounts:login")}?next=' in html
    assert "become a reviewer" in html


def test_a_missing_page_is_a_page_of_the_site_saying_what_to_do_next(client):
    response = client.get("/no/such/page/")
    assert response.status_code == 404
    html = _html(response)
    assert '<nav aria-label="Main">' in html
    assert "searching the catalogue" in html


def test_a_refused_form_is_a_page_of_the_site_saying_what_to_do_next(db):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("accounts:login"), {"username": "x", "password": "y"})
    assert response.status_code == 403
    html = _html(response)
    assert '<nav aria-label="Main">' in html
    assert "reload the page and send the form again" in html
