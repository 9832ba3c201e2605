"""The claim page's block: the latest probe results, the latest judgement (advisory) and the
curator's "test this claim now", in a pinned number of queries."""

from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Permission

from catalog.models import Claim
from inference import judge, services
from tests.inference.testserver import ServedModel


@pytest.fixture
def tester(django_user_model):
    user = django_user_model.objects.create_user(
        username="tess-tester", password="a long test passphrase"
    )
    user.user_permissions.add(Permission.objects.get(codename="run_probe"))
    return user


@pytest.fixture
def endpoint(acme_server, make_endpoint):
    return make_endpoint(acme_server, price_input_per_mtok=2, price_output_per_mtok=6)


def block(html: str) -> str:
    found = re.search(r'<section class="probes" id="tested".*?</section>', html, re.S)
    return found.group(0) if found else ""


def test_anyone_sees_the_latest_probe_results_with_their_evidence(client, endpoint, acme_claim):
    claim = acme_claim("json_mode")
    [outcome] = services.claims_probe(claims=[claim])
    evidence = outcome.verification.evidence
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert "Tested by calling the model" in html
    assert "Confirmed" in html
    assert "acme-api" in html and "(Provider API)" in html and "acme-large-latest" in html
    assert "<td>200</td>" in html
    assert f"{evidence['latency_ms']} ms" in html
    assert f"<td>{evidence['usage']['total_tokens']}</td>" in html
    assert f"{evidence['cost_estimate']['amount']} USD" in html
    assert "&quot;answer&quot;" in html  # the response excerpt
    assert outcome.verification.checked_at.strftime("%Y-%m-%d") in html
    # The public sees no button and no link to the full exchanges.
    assert "Test this claim now" not in html
    assert "/inference/claims/" not in html
    assert endpoint.base_url not in html


def test_only_the_five_latest_probe_results_are_shown(client, endpoint, acme_claim):
    claim = acme_claim("json_mode")
    for _ in range(7):
        services.claims_probe(claims=[claim])
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert "The latest 5 probe results" in html
    assert html.count("<time ") == 5


def test_the_latest_judgement_is_shown_as_advisory_and_leaves_the_claim_alone(
    client, serve, make_endpoint, acme_claim
):
    served = ServedModel(id="judge-1")
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    claim = acme_claim("commercial_use_allowed", quote="Commercial use is allowed.")
    passage = "Terms. Commercial use is allowed. Attribution is required."
    served.json_reply = {
        "verdict": "contradicts",
        "quote": "Attribution is required.",
        "reason": "An older reading.",
    }
    judge.claim_judge(claim=claim, passage=passage, endpoint=endpoint)
    served.json_reply = {
        "verdict": "supports",
        "quote": "Commercial use is allowed.",
        "reason": "It says so plainly.",
    }
    judge.claim_judge(claim=claim, passage=passage + " Updated.", endpoint=endpoint)
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert "Advisory: a model's reading of the source" in html
    judged = (
        "judge-1 read the passage of the source and "
        "<strong>judged that the passage supports the claim</strong>."
    )
    assert judged in html
    assert "<q>Commercial use is allowed.</q>" in html
    assert "It says so plainly." in html
    assert "An older reading." not in html
    # Not testable by a probe: no probe table and no button, even for a curator.
    assert "No probe has been run" not in html
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CURRENT


@pytest.mark.parametrize(
    ("reply", "fail", "shown"),
    [
        (
            {"verdict": "contradicts", "quote": "Nothing like this is written.", "reason": "."},
            False,
            "<strong>answered, but the sentence it relied on is not in the passage, so its "
            "answer counts as inconclusive</strong>",
        ),
        (
            {"verdict": "not_addressed", "quote": "", "reason": "."},
            False,
            "<strong>judged that the passage does not address the claim</strong>",
        ),
        (
            {"verdict": "maybe", "quote": "", "reason": ""},
            False,
            "<strong>gave an answer that could not be used (inconclusive)</strong>",
        ),
        (None, True, "<strong>could not be asked</strong>"),
    ],
)
def test_every_kind_of_judgement_reads_as_a_sentence(
    client, serve, make_endpoint, acme_claim, reply, fail, shown
):
    served = ServedModel(id="judge-1", json_reply=reply)
    server = serve(models=[served])
    endpoint = make_endpoint(server, default_model="judge-1")
    claim = acme_claim("commercial_use_allowed", quote="Commercial use is allowed.")
    if fail:
        server.fail_next("/v1/chat/completions", status=503, times=10)
    judge.claim_judge(claim=claim, passage="Commercial use is allowed.", endpoint=endpoint)
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert f"judge-1 read the passage of the source and {shown}." in html


def test_a_judgement_names_the_stored_text_its_passage_came_from(
    client, serve, make_endpoint, acme_claim
):
    from tests.inference.test_judge_sources import QUOTE, TEXT, add_version

    served = ServedModel(
        id="judge-1", json_reply={"verdict": "supports", "quote": QUOTE, "reason": "."}
    )
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    claim = acme_claim("function_calling", quote=QUOTE)
    add_version(claim.source, TEXT, days_ago=2)
    add_version(claim.source, "The page was rewritten without that sentence.")
    judge.claim_judge_from_source(claim=claim, endpoint=endpoint)
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    origin = "Passage from version 1 of the source's text, which is no longer its current text"
    assert origin in html


def test_a_curator_tests_the_claim_from_its_page(client, tester, endpoint, acme_claim):
    claim = acme_claim("streaming")
    client.force_login(tester)
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert "No probe has been run on this claim yet." in html
    assert "Test this claim now" in html
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1)
    assert action == f"/inference/claims/{claim.pk}/probe/"
    response = client.post(action, follow=True)
    assert "Probe finished: Confirmed." in response.content.decode()
    assert claim.verifications.get().actor == tester
    html = block(client.get(f"/claims/{claim.pk}/").content.decode())
    assert "No probe has been run" not in html and "Confirmed" in html


def test_a_claim_nothing_tests_has_no_block(client, acme_claim):
    claim = acme_claim("commercial_use_allowed")
    assert block(client.get(f"/claims/{claim.pk}/").content.decode()) == ""


@pytest.mark.parametrize(("who", "pinned"), [("anonymous", 2), ("tester", 6)])
def test_the_claim_page_runs_a_pinned_number_of_queries_however_many_tests_it_has(
    client, tester, endpoint, acme_claim, django_assert_num_queries, who, pinned
):
    claim = acme_claim("json_mode")
    services.claims_probe(claims=[claim])
    if who == "tester":
        client.force_login(tester)
    with django_assert_num_queries(pinned):
        assert client.get(f"/claims/{claim.pk}/").status_code == 200
    for _ in range(6):
        services.claims_probe(claims=[claim])
    # The acme server answers outside the judge's schema: an inconclusive judgement.
    judge.claim_judge(claim=claim, passage="Anything at all.", endpoint=endpoint)
    with django_assert_num_queries(pinned):
        html = client.get(f"/claims/{claim.pk}/").content.decode()
    assert "Advisory" in block(html)
