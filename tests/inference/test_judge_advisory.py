"""The judge is advisory and sound: its cache is per endpoint and keeps only answers, a sentence
about something else is no evidence, and its reading never moves a claim."""

from __future__ import annotations

import datetime as dt

import pytest

from catalog.models import Claim, ClaimKey, Verification
from inference import judge
from inference.models import JudgeVerdict
from tests.inference.testserver import ServedModel

QUOTE = "Our chat models support function calling."
PASSAGE = f"{QUOTE} Tools are declared in the request. The weights are licensed under Apache 2.0."


def supports(quote: str = QUOTE) -> dict:
    return {"verdict": "supports", "quote": quote, "reason": "The sentence says so."}


def posts(server) -> int:
    return len([r for r in server.requests if r.method == "POST"])


def test_two_endpoints_serving_one_model_name_are_asked_and_cached_apart(
    serve, make_endpoint, acme_claim
):
    claim = acme_claim("function_calling", quote=QUOTE)
    broken = serve(models=[ServedModel(id="judge-1", json_reply={"verdict": "maybe"})])
    working = serve(models=[ServedModel(id="judge-1", json_reply=supports())])
    first = make_endpoint(broken, name="first", default_model="judge-1")
    second = make_endpoint(working, name="second", default_model="judge-1")

    judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=first)
    answered = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=second)
    assert posts(working) == 1, "the working endpoint must be asked, not the cache"
    assert answered.evidence["cached"] is False
    assert answered.evidence["reading"] == "supports"

    other = serve(models=[ServedModel(id="judge-1", json_reply=supports())])
    third = make_endpoint(other, name="third", default_model="judge-1")
    judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=third)
    assert posts(other) == 1
    assert set(JudgeVerdict.objects.values_list("endpoint__name", flat=True)) == {
        "second",
        "third",
    }
    again = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=second)
    assert again.evidence["cached"] is True and posts(working) == 1


def test_a_non_answer_is_not_cached_and_the_next_judgement_asks_again(
    serve, make_endpoint, acme_claim
):
    claim = acme_claim("function_calling", quote=QUOTE)
    served = ServedModel(id="judge-1", json_reply={"verdict": "supports"})  # no quote
    server = serve(models=[served])
    endpoint = make_endpoint(server, default_model="judge-1")
    first = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert JudgeVerdict.objects.count() == 0
    assert first.outcome == Verification.Outcome.INCONCLUSIVE
    served.json_reply = supports()
    second = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert posts(server) == 2
    assert second.evidence["reading"] == "supports"


@pytest.fixture
def training_claim(acme_claim):
    ClaimKey.objects.update_or_create(
        key="training_use_of_input",
        defaults={
            "label": "Inputs used for training",
            "group": "data_protection",
            "value_type": "flag",
        },
    )
    return acme_claim("training_use_of_input", flag="yes", on_provider=True)


def test_a_true_sentence_about_something_else_is_inconclusive(serve, make_endpoint, training_claim):
    passage = (
        "We do not use your inputs to train our models. "
        "The model weights are released under the Apache 2.0 licence."
    )
    licence = "The model weights are released under the Apache 2.0 licence."
    served = ServedModel(id="judge-1", json_reply=supports(licence))
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    verification = judge.claim_judge(claim=training_claim, passage=passage, endpoint=endpoint)
    assert verification.outcome == Verification.Outcome.INCONCLUSIVE
    assert verification.evidence["reading"] == "inconclusive"
    assert verification.evidence["answered"] == "supports"
    assert verification.evidence["downgrade"] == "not about the claim"
    assert "not about the claim" in verification.note


def test_a_sentence_about_the_claims_subject_keeps_the_judges_reading(
    serve, make_endpoint, training_claim
):
    passage = "We do not use your inputs to train our models. The weights are Apache 2.0."
    sentence = "We do not use your inputs to train our models."
    served = ServedModel(
        id="judge-1", json_reply={"verdict": "contradicts", "quote": sentence, "reason": "No."}
    )
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    verification = judge.claim_judge(claim=training_claim, passage=passage, endpoint=endpoint)
    # Only the judge's reading: the claim is not contradicted by it.
    assert verification.outcome == Verification.Outcome.INCONCLUSIVE
    assert verification.evidence["reading"] == "contradicts"


def test_a_sentence_holding_the_claims_own_quote_is_about_the_claim(acme_claim):
    claim = acme_claim("commercial_use_allowed", quote="You may sell what you make.")
    assert judge.quote_is_about_claim("Indeed, you may sell what you make.", claim)
    assert not judge.quote_is_about_claim("Attribution is required.", claim)


def test_a_judges_supports_leaves_the_claims_status_and_dates_alone(
    serve, make_endpoint, acme_claim
):
    claim = acme_claim("function_calling", quote=QUOTE)
    Claim.objects.filter(pk=claim.pk).update(
        status=Claim.Status.NEEDS_REVIEW, checked_at=dt.date(2025, 3, 1)
    )
    served = ServedModel(id="judge-1", json_reply=supports())
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    verification = judge.claim_judge(claim=claim, passage=PASSAGE, endpoint=endpoint)
    assert verification.outcome != Verification.Outcome.CONFIRMED
    assert verification.evidence["reading"] == "supports"
    assert verification.note.startswith("Advisory reading of judge-1")
    assert "neither confirms nor contradicts" in verification.note
    claim.refresh_from_db()
    assert claim.status == Claim.Status.NEEDS_REVIEW
    assert claim.checked_at == dt.date(2025, 3, 1)
    assert not claim.verifications.filter(outcome=Verification.Outcome.CONFIRMED).exists()


def test_the_claim_page_says_the_sentence_was_not_about_the_claim(
    client, serve, make_endpoint, training_claim
):
    licence = "The model weights are released under the Apache 2.0 licence."
    served = ServedModel(id="judge-1", json_reply=supports(licence))
    endpoint = make_endpoint(serve(models=[served]), default_model="judge-1")
    judge.claim_judge(claim=training_claim, passage=f"Terms. {licence}", endpoint=endpoint)
    html = client.get(f"/claims/{training_claim.pk}/").content.decode()
    assert "the sentence it relied on is not about the claim" in html
