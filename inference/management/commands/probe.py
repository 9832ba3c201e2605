"""Test capability claims now by calling their endpoint, and print each result."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from catalog.models import Claim, Provider, Verification
from inference import judge, probes, selectors, services
from inference.models import Endpoint

# --judge given without a file: the passage comes from the source's stored texts.
STORED = Path("-stored-")


class Command(BaseCommand):
    help = (
        "Probe capability claims against a live endpoint and store each result as a "
        "verification. Without filters, every current claim a probe can test."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", metavar="SLUG", help="Only claims about this provider.")
        parser.add_argument("--claim", metavar="ID", type=int, help="Only this claim.")
        parser.add_argument(
            "--endpoint", metavar="NAME", help="Use this endpoint instead of each claim's own."
        )
        parser.add_argument(
            "--costly",
            action="store_true",
            help="Also run probes that spend many tokens (context window), for this run only.",
        )
        parser.add_argument("--limit", type=int, default=200, help="At most this many claims.")
        parser.add_argument(
            "--judge",
            metavar="PASSAGE_FILE",
            type=Path,
            nargs="?",
            const=STORED,
            help="With --claim: ask a model whether the passage of the claim's source (the "
            "stored text around its quote, or the passage in PASSAGE_FILE) supports the claim "
            "(advisory). The model is the --endpoint's, else INFERENCE_JUDGE_ENDPOINT's.",
        )
        parser.add_argument(
            "--judge-due",
            action="store_true",
            help="Judge now, in this process, the claims the schedule would judge: those whose "
            "source has a text newer than their last judgement (at most --limit).",
        )

    def handle(self, *args, **options) -> None:
        endpoint = None
        if options["endpoint"]:
            endpoint = Endpoint.objects.filter(name=options["endpoint"]).first()
            if endpoint is None:
                names = ", ".join(Endpoint.objects.values_list("name", flat=True)) or "none yet"
                raise CommandError(f"No endpoint named {options['endpoint']!r} (known: {names}).")
            if options["costly"]:
                endpoint.allow_costly_probes = True
        if options["judge_due"]:
            if options["endpoint"] or options["claim"] is not None or options["judge"]:
                raise CommandError(
                    "--judge-due judges every due claim with INFERENCE_JUDGE_ENDPOINT's model; "
                    "for one claim or another endpoint use --claim ID --judge [--endpoint NAME]."
                )
            return self._judge_due(options)
        if options["judge"]:
            return self._judge(options, endpoint)

        claims = Claim.objects.select_related("key", "provider", "model__provider").order_by("id")
        if options["claim"] is not None:
            claims = claims.filter(pk=options["claim"])
            if not claims.exists():
                raise CommandError(f"No claim with id {options['claim']}.")
        else:
            claims = claims.filter(key__key__in=list(probes.PROBES), status=Claim.Status.CURRENT)
        if options["provider"]:
            if not Provider.objects.filter(slug=options["provider"]).exists():
                raise CommandError(f"No provider with slug {options['provider']!r}.")
            claims = claims.filter(provider__slug=options["provider"]) | claims.filter(
                model__provider__slug=options["provider"]
            )
        claims = list(claims.distinct()[: options["limit"]])
        if not claims:
            self.stdout.write("No testable claims match.")
            return
        if options["costly"] and endpoint is None:
            self.stderr.write("--costly applies with --endpoint only; costly probes stay off.")
        outcomes = services.claims_probe(claims=claims, endpoint=endpoint)
        counts: dict[str, int] = {}
        for outcome in outcomes:
            counts[outcome.label] = counts.get(outcome.label, 0) + 1
            claim = outcome.claim
            self.stdout.write(
                f"claim {claim.pk} {claim.subject} · {claim.key.key} = {claim.display_value}: "
                f"{outcome.label} — {outcome.message}"
            )
        summary = ", ".join(f"{count} {label}" for label, count in sorted(counts.items()))
        self.stdout.write(f"{len(outcomes)} claim(s): {summary}")
        if any(outcome.stopped for outcome in outcomes):
            self.stderr.write("A run stopped at its budget; see the messages above.")

    def _judge(self, options: dict, endpoint: Endpoint | None) -> None:
        if options["claim"] is None:
            raise CommandError("--judge needs --claim ID.")
        claim = (
            Claim.objects.select_related("key", "provider", "model")
            .filter(pk=options["claim"])
            .first()
        )
        if claim is None:
            raise CommandError(f"No claim with id {options['claim']}.")
        path: Path = options["judge"]
        if path != STORED and not path.is_file():
            raise CommandError(f"The passage file {path} does not exist.")
        endpoint = (
            endpoint
            or Endpoint.objects.filter(name=settings.INFERENCE_JUDGE_ENDPOINT, active=True).first()
            or selectors.endpoint_for_claim(claim=claim)
        )
        if endpoint is None:
            raise CommandError(
                f"No endpoint to ask: the judge endpoint {settings.INFERENCE_JUDGE_ENDPOINT!r} "
                "does not exist or is off; pass --endpoint NAME."
            )
        try:
            if path == STORED:
                verification = judge.claim_judge_from_source(claim=claim, endpoint=endpoint)
            else:
                verification = judge.claim_judge(
                    claim=claim, passage=path.read_text(encoding="utf-8"), endpoint=endpoint
                )
        except services.InferenceError as exc:
            raise CommandError(str(exc)) from None
        self._report_judgement(claim, verification)

    def _report_judgement(self, claim: Claim, verification: Verification) -> None:
        self.stdout.write(
            f"claim {claim.pk}: {judge.reading_label(verification)} — {verification.note}"
        )
        origin = verification.evidence.get("passage_from")
        if origin:
            self.stdout.write(
                f"passage from version {origin['version_number']} of source {origin['source']}"
                + ("" if origin["current"] else " (no longer the current text)")
            )
        if verification.evidence.get("quote"):
            self.stdout.write(f"relied on: {verification.evidence['quote']}")

    def _judge_due(self, options: dict) -> None:
        endpoint = selectors.judge_endpoint()
        if endpoint is None:
            raise CommandError(
                f"No judge endpoint: {settings.INFERENCE_JUDGE_ENDPOINT!r} (INFERENCE_JUDGE_"
                "ENDPOINT) does not exist, is switched off or cannot run here."
            )
        # The schedule's own jobs, run here one after the other instead of through
        # the broker, so a claim judged now is not judged again by the schedule.
        jobs = judge.judge_schedule_due(limit=options["limit"], queue=False)
        if not jobs:
            self.stdout.write("No claim is due for judgement.")
            return
        counts: dict[str, int] = {}
        for queued in jobs:
            job = judge.judge_job_execute(job_id=queued.pk)
            if job is None:
                continue
            label = judge.reading_label(job.verification) if job.verification_id else job.status
            counts[label] = counts.get(label, 0) + 1
            self.stdout.write(f"claim {job.claim_id}: {label} — {job.message}")
        summary = ", ".join(f"{count} {label}" for label, count in sorted(counts.items()))
        self.stdout.write(f"{len(jobs)} claim(s) judged with {endpoint.name}: {summary}")
