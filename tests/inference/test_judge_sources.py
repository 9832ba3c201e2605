"""The judge fed automatically: the passage from the source's stored texts, the scheduled sweep,
one job per claim, and the probe command's way to run it."""

from __future__ import annotations

import datetime as dt
import hashlib
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers.models import CrawlSettings, Version
from inference import judge, passages, selectors, tasks
from inference.models import JudgeJob, ProbeRun
from tests.inference.testserver import ServedModel

QUOTE = "Our chat models support function calling."
TEXT = (
    "Capabilities\n"
    "Models\n"
    "Our chat models support function calling. Tools are declared in the request.\n"
    "Fine-tuning is available on the Scale plan.\n"
    "Contact sales for volume pricing."
)


def add_version(source, text: str, *, days_ago: float = 0, current: bool = True) -> Version:
    number = Version.objects.filter(source=source).count() + 1
    version = Version.objects.create(
        source=source,
        number=number,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
        text=text,
        cause=Version.Cause.FIRST if number == 1 else Version.Cause.PROVIDER_CHANGE,
        created_at=timezone.now() - dt.timedelta(days=days_ago),
        raw_body=Version.compress(text.encode()),
        raw_size=len(text),
        extractor_revision=1,
    )
    if current:
        CrawlSettings.objects.update_or_create(source=source, defaults={"current_version": version})
    return version


def supports(quote: str = QUOTE) -> dict:
    return {"verdict": "supports", "quote": quote, "reason": "The sentence says so."}


@pytest.fixture
def judged(serve, make_endpoint, acme_claim, settings):
    """A protocol server configured as the judge endpoint, and a claim quoting TEXT."""
    served = ServedModel(id="judge-1", json_reply=supports())
    server = serve(models=[served])
    endpoint = make_endpoint(server, name="judge", default_model="judge-1")
    settings.INFERENCE_JUDGE_ENDPOINT = "judge"
    claim = acme_claim("function_calling", quote=QUOTE)
    return server, served, endpoint, claim


def posts(server) -> list[dict]:
    return [r.body for r in server.requests if r.method == "POST"]


# -- the passage ----------------------------------------------------------------


def test_the_passage_is_the_quoted_block_with_its_neighbours():
    located = passages.passage_around(text=TEXT, quote=QUOTE)
    assert located.score == 1.0
    assert located.passage == TEXT


def test_the_passage_keeps_within_its_size_and_around_the_quote():
    filler = [f"Unrelated paragraph number {n} about billing." for n in range(200)]
    text = "\n".join([*filler[:100], "Our chat models support function calling.", *filler[100:]])
    located = passages.passage_around(text=text, quote=QUOTE, chars=300)
    assert len(located.passage) <= 300
    assert QUOTE in located.passage
    assert "number 99 " in located.passage and "number 100 " in located.passage
    assert "number 0 " not in located.passage


def test_a_single_long_block_is_cut_to_a_window_around_the_quote():
    # Curly quotes, ellipses and a soft hyphen are normalised by the matcher; the window
    # must still land on the quote.
    before = " ".join(f"Earlier \u201csen\u00adtence\u201d {n}\u2026" for n in range(300))
    after = " ".join(f"Later sentence {n}." for n in range(300))
    located = passages.passage_around(text=f"{before} {QUOTE} {after}", quote=QUOTE, chars=400)
    assert len(located.passage) <= 400
    assert QUOTE in located.passage


def test_a_quote_matched_despite_spacing_and_case_still_locates_its_block():
    located = passages.passage_around(
        text="Intro\nOUR chat models  support function calling .\nOutro", quote=QUOTE
    )
    assert located is not None and "OUR chat models" in located.passage


def test_a_quote_across_two_blocks_gets_both_and_only_what_fits_around_them():
    quote = "Tools are declared in the request. Fine-tuning is available"
    located = passages.passage_around(text=TEXT, quote=quote, chars=125)
    assert located.passage == (
        "Our chat models support function calling. Tools are declared in the request.\n"
        "Fine-tuning is available on the Scale plan."
    )


@pytest.mark.parametrize(
    "line",
    [
        "Plain words, punctuation; and numbers 1,000.5 -- (ok)?",
        "Tabs\tand \x0b controls \x1f are space or marks",
        "Curly \u201cquotes\u201d, an ellipsis\u2026 and a soft hy\u00adphen",
        "\ufb01ne ligatures and \u00bd fractions",
    ],
)
def test_the_quick_token_count_agrees_with_the_matcher(line):
    from crawlers.matching import tokens

    assert passages._token_count(line) == len(tokens(line))


def test_a_quote_that_is_not_in_the_text_has_no_passage():
    assert passages.passage_around(text=TEXT, quote="Fine-tuning is free for everyone.") is None


def test_the_passage_comes_from_the_current_text_when_it_holds_the_quote(acme_claim, source):
    claim = acme_claim("function_calling", quote=QUOTE)
    add_version(source, "Old text. " + TEXT, days_ago=3)
    current = add_version(source, TEXT)
    passage = selectors.claim_passage(claim=claim)
    assert passage.version == current and passage.current is True
    assert QUOTE in passage.text


def test_the_passage_comes_from_the_last_text_that_held_the_quote(acme_claim, source):
    claim = acme_claim("function_calling", quote=QUOTE)
    add_version(source, "First text. " + TEXT, days_ago=9)
    held = add_version(source, TEXT, days_ago=3)
    add_version(source, TEXT.replace("support function calling", "no longer call tools"))
    passage = selectors.claim_passage(claim=claim)
    assert passage.version == held and passage.current is False
    assert passage.as_evidence()["version_number"] == 2


def test_a_claim_whose_source_has_no_stored_text_has_no_passage(acme_claim):
    assert selectors.claim_passage(claim=acme_claim("function_calling", quote=QUOTE)) is None


# -- the schedule ---------------------------------------------------------------


def test_the_schedule_has_an_hourly_judge_sweep_whose_task_exists():
    from atlas.celery import app

    entry = django_settings.CELERY_BEAT_SCHEDULE["inference-judge-hourly"]
    assert entry["task"] == "inference.judge_due_claims"
    assert entry["task"] in app.tasks and "inference.judge_job" in app.tasks


def test_the_sweep_judges_a_claim_on_its_stored_passage_once_per_new_text(
    judged, source, django_capture_on_commit_callbacks
):
    server, _, _, claim = judged
    version = add_version(source, TEXT, days_ago=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.judge_due_claims(limit=10) == 1
    job = JudgeJob.objects.get()
    assert (job.claim, job.version, job.status) == (claim, version, JudgeJob.Status.DONE)
    verification = job.verification
    assert verification.method == Verification.Method.MODEL_JUDGE
    assert verification.outcome == Verification.Outcome.INCONCLUSIVE
    assert verification.evidence["reading"] == "supports"
    assert verification.evidence["advisory"] is True
    assert verification.evidence["passage_from"]["version"] == version.pk
    assert verification.evidence["passage_from"]["current"] is True
    [request] = posts(server)
    assert QUOTE in request["messages"][1]["content"]
    assert ProbeRun.objects.get().trigger == ProbeRun.Trigger.SCHEDULE

    # Nothing new: the next sweep queues nothing and asks nothing.
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.judge_due_claims(limit=10) == 0
    assert len(posts(server)) == 1

    # A newer text makes the claim due again; its passage is the same, so the cache answers.
    add_version(source, TEXT + "\nA new paragraph far below.")
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.judge_due_claims(limit=10) == 1
    assert JudgeJob.objects.count() == 2
    assert claim.verifications.filter(method="model_judge").count() == 2
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CURRENT and claim.value_flag == "yes"


def test_the_sweep_takes_at_most_its_limit_oldest_claims_first(judged, acme_claim, source):
    _, _, _, first = judged
    second = acme_claim("json_mode", quote=QUOTE)
    third = acme_claim("streaming", quote=QUOTE)
    add_version(source, TEXT)
    jobs = judge.judge_schedule_due(limit=2, queue=False)
    assert [job.claim for job in jobs] == [first, second]
    assert [job.claim for job in judge.judge_schedule_due(limit=2, queue=False)] == [third]
    assert judge.judge_schedule_due(limit=2, queue=False) == []


def test_claims_judged_since_their_sources_last_text_retired_or_without_quote_are_not_due(
    judged, acme_claim, source
):
    _, _, endpoint, claim = judged
    add_version(source, TEXT, days_ago=2)
    judge.claim_judge_from_source(claim=claim, endpoint=endpoint)
    acme_claim("json_mode")  # no quote
    retired = acme_claim("streaming", quote=QUOTE)
    Claim.objects.filter(pk=retired.pk).update(status=Claim.Status.RETIRED)
    assert selectors.claims_due_for_judgement(limit=10) == []


def test_nothing_is_queued_without_a_usable_judge_endpoint(judged, source, settings):
    _, _, endpoint, _ = judged
    add_version(source, TEXT)
    settings.INFERENCE_JUDGE_ENDPOINT = "no-such-endpoint"
    assert judge.judge_schedule_due(limit=10) == []
    settings.INFERENCE_JUDGE_ENDPOINT = ""
    assert judge.judge_schedule_due(limit=10) == []
    settings.INFERENCE_JUDGE_ENDPOINT = "judge"
    endpoint.active = False
    endpoint.save()
    assert judge.judge_schedule_due(limit=10) == []
    assert JudgeJob.objects.count() == 0


def test_a_job_delivered_twice_judges_once(judged, source):
    server, _, _, claim = judged
    add_version(source, TEXT)
    [job] = judge.judge_schedule_due(limit=10, queue=False)
    assert tasks.judge_job(job.pk) == JudgeJob.Status.DONE
    assert tasks.judge_job(job.pk) == "skipped: already claimed or gone"
    assert claim.verifications.filter(method="model_judge").count() == 1
    assert len(posts(server)) == 1


def test_a_quote_no_stored_text_holds_skips_the_job_with_the_reason(judged, source):
    server, _, _, claim = judged
    add_version(source, "A page that says nothing about tools.")
    [job] = judge.judge_schedule_due(limit=10, queue=False)
    job = judge.judge_job_execute(job_id=job.pk)
    assert job.status == JudgeJob.Status.SKIPPED
    assert f"source {claim.source_id}" in job.message and "quote" in job.message
    assert job.verification is None and posts(server) == []
    # Judged for this text or not, the claim waits for the next text.
    assert selectors.claims_due_for_judgement(limit=10) == []


def test_a_judge_that_cannot_be_reached_leaves_an_error_and_the_claim_alone(judged, source):
    server, _, _, claim = judged
    add_version(source, TEXT)
    server.fail_next("/v1/chat/completions", status=503, times=10)
    [job] = judge.judge_schedule_due(limit=10, queue=False)
    job = judge.judge_job_execute(job_id=job.pk)
    assert job.status == JudgeJob.Status.DONE
    assert job.verification.outcome == Verification.Outcome.ERROR
    assert job.verification.evidence["passage_from"]["version_number"] == 1
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CURRENT


def test_a_job_whose_endpoint_was_switched_off_meanwhile_is_skipped(judged, source):
    _, _, endpoint, _ = judged
    add_version(source, TEXT)
    [job] = judge.judge_schedule_due(limit=10, queue=False)
    endpoint.active = False
    endpoint.save()
    job = judge.judge_job_execute(job_id=job.pk)
    assert job.status == JudgeJob.Status.SKIPPED
    assert "'judge'" in job.message


# -- the command ----------------------------------------------------------------


def probe(*args: str) -> str:
    out = StringIO()
    call_command("probe", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_the_command_judges_one_claim_on_its_stored_passage(judged, source):
    server, _, _, claim = judged
    add_version(source, TEXT)
    out = probe("--claim", str(claim.pk), "--judge")
    assert f"claim {claim.pk}: advisory reading: supports" in out
    assert f"passage from version 1 of source {source.pk}" in out
    assert f"relied on: {QUOTE}" in out
    assert len(posts(server)) == 1


def test_the_command_says_why_a_claim_has_no_stored_passage(judged):
    _, _, _, claim = judged
    with pytest.raises(CommandError, match="No stored text of source"):
        probe("--claim", str(claim.pk), "--judge")


def test_the_command_runs_the_due_judgements_in_process(judged, acme_claim, source):
    server, _, _, claim = judged
    other = acme_claim("json_mode", quote="Fine-tuning is available on the Scale plan.")
    add_version(source, TEXT)
    out = probe("--judge-due", "--limit", "5")
    assert f"claim {claim.pk}: advisory reading: supports" in out
    # The server relies on QUOTE for every claim: it is in this passage too, but it is not
    # about JSON mode, so for that claim the reading is inconclusive.
    assert f"claim {other.pk}: advisory reading: inconclusive" in out
    assert (
        "2 claim(s) judged with judge: 1 advisory reading: inconclusive, "
        "1 advisory reading: supports" in out
    )
    assert JudgeJob.objects.filter(status=JudgeJob.Status.DONE).count() == 2
    assert probe("--judge-due") == "No claim is due for judgement.\n"
    assert len(posts(server)) == 2


def test_the_command_refuses_to_judge_without_a_judge_endpoint(judged, settings):
    settings.INFERENCE_JUDGE_ENDPOINT = "no-such-endpoint"
    with pytest.raises(CommandError, match="no-such-endpoint"):
        probe("--judge-due")


def test_the_admin_lists_scheduled_judgements_with_their_reason(admin_client, judged, source):
    add_version(source, "A page that says nothing about tools.")
    [job] = judge.judge_schedule_due(limit=10, queue=False)
    judge.judge_job_execute(job_id=job.pk)
    html = admin_client.get("/admin/inference/judgejob/").content.decode()
    assert "No stored text of source" in html and "Skipped" in html


def test_the_command_refuses_to_mix_the_due_judgements_with_one_claim_or_endpoint(judged):
    _, _, _, claim = judged
    for extra in (["--claim", str(claim.pk)], ["--endpoint", "judge"], ["--judge"]):
        with pytest.raises(CommandError, match="--judge-due judges every due claim"):
            probe("--judge-due", *extra)
    assert JudgeJob.objects.count() == 0
