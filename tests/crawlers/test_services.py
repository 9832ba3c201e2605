"""Sweeps, idempotent tasks, selector edits, the command, the admin action and the deploy check."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import get_user_model
from django.core.checks import run_checks
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Claim, Verification
from crawlers import services, tasks
from crawlers.models import Check, CrawlSettings, Version
from tests.crawlers.server import Page
from tests.crawlers.test_fetch import KEPT_QUOTE, TERMS
from tests.factories import make_claim, make_source, run_check

pytestmark = pytest.mark.django_db


def test_a_sweep_queues_only_enabled_due_sources_and_moves_their_next_check(server, provider):
    due = make_source(server.url("/due"), provider=provider)
    later = make_source(server.url("/later"), provider=provider)
    off = make_source(server.url("/off"), provider=provider)
    CrawlSettings.objects.filter(source=later).update(
        next_check_at=timezone.now() + dt.timedelta(hours=3)
    )
    CrawlSettings.objects.filter(source=off).update(enabled=False)

    queued = services.sources_sweep(limit=10)

    assert list(Check.objects.filter(pk__in=queued).values_list("source", flat=True)) == [due.pk]
    crawl = CrawlSettings.objects.get(source=due)
    assert crawl.next_check_at > timezone.now() + dt.timedelta(hours=23)
    assert services.sources_sweep(limit=10) == []  # the second sweep finds nothing due


def test_a_sweep_takes_at_most_its_limit_oldest_first(server, provider):
    sources = [make_source(server.url(f"/s{i}"), provider=provider) for i in range(5)]
    for i, source in enumerate(sources):
        CrawlSettings.objects.filter(source=source).update(
            next_check_at=timezone.now() - dt.timedelta(hours=10 - i)
        )
    queued = services.sources_sweep(limit=2)
    assert sorted(Check.objects.filter(pk__in=queued).values_list("source", flat=True)) == [
        sources[0].pk,
        sources[1].pk,
    ]


def test_a_source_without_crawl_settings_is_swept_with_the_defaults(server, provider):
    from catalog.models import Source

    source = Source.objects.create(
        slug="bare", url=server.url("/bare"), title="Bare", publisher="Example", doc_type="terms"
    )
    queued = services.sources_sweep(limit=10)
    assert Check.objects.get(pk__in=queued).source == source
    assert CrawlSettings.objects.get(source=source).interval_hours == 24


def test_a_sweep_runs_the_checks_in_process_without_a_broker(
    server, provider, django_capture_on_commit_callbacks
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    with django_capture_on_commit_callbacks(execute=True):
        queued = tasks.sweep_sources.delay(limit=5).get()
    assert queued == 1
    check = Check.objects.get(source=source)
    assert check.status == Check.Status.DONE and check.outcome == Check.Outcome.FIRST


def test_a_redelivered_task_stores_nothing_twice(server, provider, claim_key):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote=KEPT_QUOTE)
    check = services.check_queue(source=source, reason="test")

    assert tasks.check_source.apply(args=[check.pk]).get() == "done first"
    assert tasks.check_source.apply(args=[check.pk]).get() == "already finished"

    assert Version.objects.filter(source=source).count() == 1
    assert Check.objects.filter(source=source).count() == 1
    assert claim.verifications.count() == 1
    assert server.hits("/page") == 1


def test_a_check_whose_worker_died_mid_run_is_finished_by_the_next_delivery(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    check = services.check_queue(source=source, reason="test")
    # What a killed worker leaves behind: the check claimed, nothing recorded.
    Check.objects.filter(pk=check.pk).update(
        status=Check.Status.RUNNING, attempts=1, started_at=timezone.now()
    )
    assert tasks.check_source.apply(args=[check.pk]).get() == "done first"
    check.refresh_from_db()
    assert check.attempts == 2
    assert Version.objects.filter(source=source).count() == 1


def test_a_check_open_too_long_is_queued_again_by_the_sweep(server, provider):
    source = make_source(server.url("/page"), provider=provider)
    CrawlSettings.objects.filter(source=source).update(
        next_check_at=timezone.now() + dt.timedelta(days=1)
    )
    check = services.check_queue(source=source, reason="test")
    Check.objects.filter(pk=check.pk).update(
        status=Check.Status.RUNNING, queued_at=timezone.now() - dt.timedelta(days=1)
    )
    assert services.sources_sweep(limit=10) == [check.pk]
    check.refresh_from_db()
    assert check.status == Check.Status.QUEUED


def test_only_one_check_per_source_can_be_open(server, provider):
    source = make_source(server.url("/page"), provider=provider)
    first = services.check_queue(source=source, reason="one")
    second = services.check_queue(source=source, reason="two")
    assert first.pk == second.pk
    assert Check.objects.filter(source=source).count() == 1


def test_an_eager_task_does_not_retry_a_429(server, provider):
    server.route("/busy", Page("busy", status=429, headers={"Retry-After": "3600"}))
    source = make_source(server.url("/busy"), provider=provider)
    check = services.check_queue(source=source, reason="test")
    assert tasks.check_source.apply(args=[check.pk]).get() == "failed failed"
    assert server.hits("/busy") == 1


REMOVE_CLAUSE = "p:nth-of-type(2)"


def test_editing_selectors_is_recorded_as_a_reextraction_not_a_provider_change(
    server, provider, claim_key
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    cancel = make_claim(
        source=source,
        provider=provider,
        key=claim_key,
        quote="You may cancel your subscription at any time.",
    )
    run_check(source)

    services.crawl_settings_update(
        source=source,
        keep_selectors="main",
        remove_selectors=REMOVE_CLAUSE,
        interval_hours=24,
        enabled=True,
    )

    reextract = Check.objects.filter(source=source, kind=Check.Kind.REEXTRACT).get()
    assert reextract.outcome == Check.Outcome.REEXTRACTED
    assert reextract.version.cause == Version.Cause.REEXTRACTION
    assert "cancel" not in reextract.version.text
    cancel.refresh_from_db()
    assert cancel.status == Claim.Status.NEEDS_REVIEW
    # The page itself did not change: the next fetch finds the same text.
    assert run_check(source).outcome == Check.Outcome.UNCHANGED
    assert not Version.objects.filter(source=source, cause=Version.Cause.PROVIDER_CHANGE).exists()


def test_selectors_edited_behind_the_services_back_are_still_told_apart(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    run_check(source)
    CrawlSettings.objects.filter(source=source).update(remove_selectors=REMOVE_CLAUSE)

    check = run_check(source)

    assert check.outcome == Check.Outcome.UNCHANGED
    causes = list(Version.objects.filter(source=source).order_by("number").values_list("cause"))
    assert causes == [(Version.Cause.FIRST,), (Version.Cause.REEXTRACTION,)]


def test_an_invalid_selector_is_refused_with_its_name(server, provider):
    source = make_source(server.url("/page"), provider=provider)
    with pytest.raises(ValidationError) as raised:
        services.crawl_settings_update(
            source=source, keep_selectors="main\ndiv[", remove_selectors="", interval_hours=24,
            enabled=True,
        )  # fmt: skip
    assert "div[" in str(raised.value)
    assert CrawlSettings.objects.get(source=source).keep_selectors == ""


def test_the_command_checks_the_named_sources(
    server, provider, capsys, django_capture_on_commit_callbacks
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_sources", "--source", str(source.pk))
    # The test's transaction holds the queued task until the block ends; a real run
    # (autocommit) checks before printing.
    assert "1 checked, 0 could not be read." in capsys.readouterr().out
    assert Check.objects.get(source=source).outcome == Check.Outcome.FIRST


def test_the_command_checks_due_sources(
    server, provider, capsys, django_capture_on_commit_callbacks
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    with django_capture_on_commit_callbacks(execute=True):
        call_command("check_sources", "--due")
    assert "1 checked" in capsys.readouterr().out
    assert Check.objects.get(source=source).outcome == Check.Outcome.FIRST


def test_the_command_refuses_unknown_sources_and_missing_arguments():
    with pytest.raises(CommandError, match="No source with id 999"):
        call_command("check_sources", "--source", "999")
    with pytest.raises(CommandError, match="--due"):
        call_command("check_sources")


def test_the_admin_action_queues_a_check(client, server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(admin)
    crawl = CrawlSettings.objects.get(source=source)
    response = client.post(
        "/admin/crawlers/crawlsettings/",
        {"action": "check_now", "_selected_action": [crawl.pk]},
        secure=True,
    )
    assert response.status_code == 302
    check = Check.objects.get(source=source)
    assert check.reason == "admin:root"


def test_deploy_checks_warn_when_the_allow_list_is_not_empty(settings):
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "crawlers.W001" in ids
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = []
    ids = [m.id for m in run_checks(include_deployment_checks=True)]
    assert "crawlers.W001" not in ids
    assert "crawlers.W001" not in [m.id for m in run_checks()]


def test_a_claim_without_a_quote_is_inconclusive_and_untouched(server, provider, claim_key):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    claim = make_claim(source=source, provider=provider, key=claim_key, quote="x")
    Claim.objects.filter(pk=claim.pk).update(evidence_quote="")
    run_check(source)
    claim.refresh_from_db()
    assert claim.status == Claim.Status.CURRENT
    assert claim.verifications.get().outcome == Verification.Outcome.INCONCLUSIVE


def test_a_source_without_an_address_is_never_swept_or_queued(provider):
    from catalog.models import Source
    from crawlers.errors import CrawlerError

    source = Source.objects.create(
        slug="offline", url="", title="Signed paper contract", publisher="Example",
        doc_type="dpa",
    )  # fmt: skip
    assert services.sources_sweep(limit=10) == []
    with pytest.raises(CrawlerError, match="no public address"):
        services.check_queue(source=source, reason="test")
    with pytest.raises(CommandError, match="No public address"):
        call_command("check_sources", "--source", str(source.pk))


def test_retries_back_off_exponentially_and_never_before_retry_after():
    from crawlers.tasks import retry_countdown

    assert retry_countdown(retry_after=None, retries=0, base=60) == 60
    assert retry_countdown(retry_after=None, retries=3, base=60) == 480
    assert retry_countdown(retry_after=900, retries=1, base=60) == 900
    assert retry_countdown(retry_after=10**9, retries=0, base=60) == 6 * 3600


def test_an_unchanged_check_costs_a_fixed_handful_of_queries(
    server, provider, claim_key, django_assert_num_queries
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    make_claim(source=source, provider=provider, key=claim_key, quote=KEPT_QUOTE)
    run_check(source)
    Claim.objects.filter(source=source).update(checked_at=timezone.localdate())
    check = services.check_queue(source=source, reason="test")
    # Claim the check, read it with its settings, lock the settings, record both, read the
    # claims, then one insert for all their verifications; the savepoint pair wraps the record.
    with django_assert_num_queries(9):
        services.check_run(check_id=check.pk)
    assert Claim.objects.get(source=source).verifications.count() == 2


def test_an_unchanged_check_of_a_source_no_claim_cites_skips_the_claims(
    server, provider, django_assert_num_queries
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    run_check(source)
    check = services.check_queue(source=source, reason="test")
    # Claim the check, read it with its settings, then (in a savepoint) write the settings
    # where they still are as read, and finish the check.
    with django_assert_num_queries(6):
        services.check_run(check_id=check.pk)
    check.refresh_from_db()
    assert check.status == Check.Status.DONE and check.outcome == Check.Outcome.UNCHANGED
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.last_checked_at == check.finished_at
    assert crawl.current_version == check.version == check.previous_version


def test_the_same_bytes_read_again_are_not_parsed_again(server, provider, monkeypatch):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    first = run_check(source)
    assert first.version.raw_hash == services.raw_hash(TERMS.encode())

    def no_parsing(*args, **kwargs):
        raise AssertionError("an identical body was parsed again")

    monkeypatch.setattr(services, "extract", no_parsing)
    check = run_check(source)
    assert check.outcome == Check.Outcome.UNCHANGED
    assert check.version == first.version
    assert Version.objects.filter(source=source).count() == 1


def test_selectors_edited_while_a_check_fetches_are_applied_not_overwritten(
    server, provider, monkeypatch
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    first = run_check(source)
    real_fetch = services.fetch.fetch

    def fetch_while_a_curator_edits(url, **kwargs):
        result = real_fetch(url, **kwargs)
        CrawlSettings.objects.filter(source=source).update(remove_selectors="p:last-child")
        return result

    monkeypatch.setattr(services.fetch, "fetch", fetch_while_a_curator_edits)
    check = run_check(source)
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.remove_selectors == "p:last-child"
    assert check.previous_version != first.version
    assert check.previous_version.cause == Version.Cause.REEXTRACTION
    assert "Outputs belong to you." not in crawl.current_version.text
    assert crawl.current_version == check.version


def test_a_text_seen_before_reuses_its_version_and_a_new_one_takes_the_next_number(
    server, provider
):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    first = run_check(source).version
    server.route("/page", Page(TERMS.replace("at any time", "once a year")))
    second = run_check(source).version
    server.route("/page", Page(TERMS))
    back = run_check(source)
    assert (first.number, second.number) == (1, 2)
    assert back.outcome == Check.Outcome.CHANGED
    assert back.version == first and back.previous_version == second
    assert CrawlSettings.objects.get(source=source).current_version == first
    assert Version.objects.filter(source=source).count() == 2


def test_new_bytes_with_the_same_text_are_parsed_and_found_unchanged(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    first = run_check(source)
    server.route("/page", Page(TERMS.replace("<main>", "<!-- build 2 --><main>")))
    check = run_check(source)
    assert check.outcome == Check.Outcome.UNCHANGED
    assert check.version == first.version
    assert Version.objects.filter(source=source).count() == 1


def test_the_same_bytes_after_a_selector_edit_are_read_with_the_new_selectors(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    run_check(source)
    CrawlSettings.objects.filter(source=source).update(remove_selectors="footer, p:last-child")
    check = run_check(source)
    assert "Outputs belong to you." not in check.version.text
    assert Version.objects.filter(source=source).count() == 2


def test_a_check_that_keeps_killing_its_worker_is_given_up(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    check = services.check_queue(source=source, reason="test")
    Check.objects.filter(pk=check.pk).update(
        status=Check.Status.RUNNING, attempts=services.MAX_ATTEMPTS
    )
    services.check_run(check_id=check.pk)
    check.refresh_from_db()
    assert check.status == Check.Status.FAILED
    assert "Gave up after 6 attempts" in check.error
    assert server.hits("/page") == 0


def test_an_allow_list_entry_that_is_not_a_network_is_an_error(settings):
    settings.ATLAS_CRAWLER_ALLOWED_NETWORKS = ["127.0.0.1", "intranet.local"]
    errors = [m for m in run_checks() if m.id == "crawlers.E001"]
    assert len(errors) == 1
    assert "'intranet.local'" in errors[0].msg


def test_an_unchanged_check_moves_the_next_check_forward_but_never_back(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    run_check(source)
    later = timezone.now() + dt.timedelta(days=30)
    CrawlSettings.objects.filter(source=source).update(next_check_at=later)
    assert run_check(source).outcome == Check.Outcome.UNCHANGED
    assert CrawlSettings.objects.get(source=source).next_check_at == later

    CrawlSettings.objects.filter(source=source).update(next_check_at=None, interval_hours=5)
    check = run_check(source)
    assert check.outcome == Check.Outcome.UNCHANGED
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.next_check_at == check.finished_at + dt.timedelta(hours=5)
    assert crawl.last_checked_at == check.finished_at and crawl.consecutive_failures == 0


def test_a_check_records_every_field_of_its_outcome(server, provider):
    server.route("/start", Page("", status=302, headers={"Location": "/page"}))
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/start"), provider=provider)
    first = run_check(source)
    check = run_check(source)
    assert check.status == Check.Status.DONE and check.attempts == 1
    assert check.outcome == Check.Outcome.UNCHANGED
    assert check.http_status == 200 and check.final_url == server.url("/page")
    assert check.redirects == [
        {"status": 302, "from": server.url("/start"), "to": server.url("/page")}
    ]
    assert check.content_type == "text/html" and check.bytes_received == len(TERMS.encode())
    assert check.error == "" and check.error_permanent is None
    assert check.version == check.previous_version == first.version
    assert check.started_at <= check.finished_at and check.duration_ms >= 0


def test_a_check_of_a_source_whose_settings_are_gone_runs_with_the_defaults(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    check = services.check_queue(source=source, reason="test")
    CrawlSettings.objects.filter(source=source).delete()
    services.check_run(check_id=check.pk)
    check.refresh_from_db()
    assert check.outcome == Check.Outcome.FIRST
    assert CrawlSettings.objects.get(source=source).current_version == check.version


def test_a_retry_after_never_pulls_a_later_next_check_earlier(server, provider):
    server.route(
        "/page", Page("slow down", status=429, content_type="text/plain",
                      headers={"Retry-After": "120"})
    )  # fmt: skip
    source = make_source(server.url("/page"), provider=provider)
    later = timezone.now() + dt.timedelta(days=30)
    CrawlSettings.objects.filter(source=source).update(next_check_at=later)
    check = run_check(source)
    assert check.status == Check.Status.FAILED and check.http_status == 429
    assert check.redirects == [] and check.error_permanent is False
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.next_check_at == later
    assert crawl.consecutive_failures == 1 and crawl.last_checked_at == check.finished_at


def test_a_changed_text_takes_the_next_number_and_becomes_current(server, provider):
    server.route("/page", Page(TERMS))
    source = make_source(server.url("/page"), provider=provider)
    first = run_check(source)
    server.route("/page", Page(TERMS.replace("Outputs", "All outputs")))
    check = run_check(source)
    assert check.outcome == Check.Outcome.CHANGED
    assert check.previous_version == first.version
    assert check.version.number == first.version.number + 1
    crawl = CrawlSettings.objects.get(source=source)
    assert crawl.current_version == check.version
    assert crawl.next_check_at == check.finished_at + dt.timedelta(hours=crawl.interval_hours)
