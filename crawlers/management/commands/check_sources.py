"""python manage.py check_sources [--source ID ...] [--due] [--limit N]"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from catalog.models import Source
from crawlers import services
from crawlers.models import Check


class Command(BaseCommand):
    help = (
        "Check sources now: the given ones (--source), or those due by their interval (--due). "
        "With a broker configured the checks are queued for the workers; without one they run "
        "here, one after the other."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--source",
            type=int,
            action="append",
            dest="sources",
            default=[],
            metavar="ID",
            help="a source id; repeat for several",
        )
        parser.add_argument(
            "--due", action="store_true", help="every enabled source whose next check is due"
        )
        parser.add_argument(
            "--limit",
            type=int,
            default=settings.ATLAS_CRAWLER_SWEEP_LIMIT,
            help="at most this many due sources (default %(default)s)",
        )

    def handle(self, *args, sources: list[int], due: bool, limit: int, **options) -> None:
        if not sources and not due:
            raise CommandError("Say which sources to check: --source ID (repeatable) or --due.")
        if limit < 1:
            raise CommandError(f"--limit must be at least 1, got {limit}.")
        check_ids: list[int] = []
        if sources:
            found = {s.pk: s for s in Source.objects.filter(pk__in=sources)}
            missing = sorted(set(sources) - set(found))
            if missing:
                raise CommandError(f"No source with id {', '.join(map(str, missing))}.")
            unreadable = [f"{s.pk} ({s.title})" for s in found.values() if not s.url]
            if unreadable:
                raise CommandError(
                    f"No public address, nothing to re-read: source {', '.join(unreadable)}."
                )
            for source_id in sources:
                check_ids.append(services.check_queue(source=found[source_id], reason="command").pk)
        if due:
            check_ids.extend(services.sources_sweep(limit=limit))
        if settings.CELERY_TASK_ALWAYS_EAGER:
            for check in Check.objects.filter(pk__in=check_ids).select_related("source"):
                line = f"{check.source.url}: {check.get_outcome_display()}"
                if check.error:
                    line += f" ({check.error})"
                self.stdout.write(line)
            failed = Check.objects.filter(pk__in=check_ids, status=Check.Status.FAILED).count()
            self.stdout.write(f"{len(check_ids)} checked, {failed} could not be read.")
        else:
            self.stdout.write(f"{len(check_ids)} checks queued for the workers.")
