from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Verification


@pytest.fixture
def tester(django_user_model):
    user = django_user_model.objects.create_user(
        username="tess-tester", password="a long test passphrase", is_staff=True
    )
    user.user_permissions.add(Permission.objects.get(codename="run_probe"))
    user.user_permissions.add(Permission.objects.get(codename="view_claim"))
    return user


@pytest.fixture
def endpoint(acme_server, make_endpoint):
    return make_endpoint(acme_server)


def test_a_curator_tests_a_claim_now_and_sees_the_evidence(client, tester, endpoint, acme_claim):
    claim = acme_claim("function_calling")
    client.force_login(tester)
    response = client.post(f"/inference/claims/{claim.pk}/probe/", follow=True)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Probe finished: Confirmed." in html
    assert "get_weather" in html  # the request, shown as evidence
    assert "HTTP 200" in html
    verification = claim.verifications.get()
    assert verification.actor == tester
    assert verification.method == Verification.Method.INFERENCE_PROBE


def test_testing_needs_a_post(client, tester, endpoint, acme_claim):
    claim = acme_claim("json_mode")
    client.force_login(tester)
    assert client.get(f"/inference/claims/{claim.pk}/probe/").status_code == 405
    assert claim.verifications.count() == 0


def test_someone_without_the_permission_cannot_test_or_see(client, outsider, endpoint, acme_claim):
    claim = acme_claim("json_mode")
    client.force_login(outsider)
    assert client.post(f"/inference/claims/{claim.pk}/probe/").status_code == 403
    assert client.get(f"/inference/claims/{claim.pk}/").status_code == 403
    client.logout()
    assert client.post(f"/inference/claims/{claim.pk}/probe/").status_code == 403
    assert claim.verifications.count() == 0


def test_an_untestable_claim_offers_no_button(client, tester, endpoint, acme_claim):
    claim = acme_claim("commercial_use_allowed")
    client.force_login(tester)
    html = client.get(f"/inference/claims/{claim.pk}/").content.decode()
    assert "not testable by calling a model" in html
    assert "Test this claim now" not in html
    response = client.post(f"/inference/claims/{claim.pk}/probe/", follow=True)
    assert "No probe result stored" in response.content.decode()


def test_the_admin_action_tests_the_selected_claims(admin_client, endpoint, acme_claim):
    claims = [acme_claim("json_mode"), acme_claim("streaming")]
    response = admin_client.post(
        "/admin/inference/claimtotest/",
        {"action": "test_claims_now", "_selected_action": [c.pk for c in claims]},
        follow=True,
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f"Claim {claims[0].pk} (json_mode): confirmed" in html
    assert Verification.objects.count() == 2


def test_the_action_is_offered_on_the_catalogue_claim_admin_too(admin_client, endpoint, acme_claim):
    from django.contrib import admin

    from catalog.models import Claim
    from inference.admin_actions import test_claims_now

    assert test_claims_now in admin.site.get_model_admin(Claim).actions
    claim = acme_claim("json_mode")
    response = admin_client.post(
        "/admin/catalog/claim/",
        {"action": "test_claims_now", "_selected_action": [claim.pk]},
        follow=True,
    )
    assert f"Claim {claim.pk} (json_mode): confirmed" in response.content.decode()


def test_the_evidence_page_shows_findings_and_a_declared_disagreement(
    client, tester, serve, make_endpoint, acme_claim
):
    from tests.inference.testserver import ServedModel

    server = serve(
        models=[ServedModel(id="acme-large-latest", tools=False, unsupported="ignore")],
        card_style="mistral",
    )
    server.models["acme-large-latest"].card = {"capabilities": {"function_calling": True}}
    make_endpoint(server)
    claim = acme_claim("function_calling")
    client.force_login(tester)
    html = client.post(f"/inference/claims/{claim.pk}/probe/", follow=True).content.decode()
    assert "Probe finished: Contradicted." in html
    assert "The API accepts a forced tool: does not work" in html
    assert "declares: supported, which disagrees with the behaviour" in html
