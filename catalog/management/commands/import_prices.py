from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from catalog.prices_import import PricesImportError, prices_import


class Command(BaseCommand):
    help = (
        "Import providers, models, prices and context windows from the installed genai-prices "
        "release, in one transaction. Idempotent: a second run changes nothing."
    )

    def handle(self, *args, verbosity: int, **options) -> None:
        try:
            report = prices_import()
        except PricesImportError as exc:
            raise CommandError(str(exc)) from None
        if verbosity >= 2:
            self.stdout.write(report.summary())
        verb = "updated" if report.changed else "unchanged"
        created = sum(report.created.values())
        updated = sum(report.updated.values())
        skipped = sum(report.skipped.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Prices {verb}: {created} created, {updated} updated from genai-prices "
                f"{report.version} ({skipped} listings skipped: -v 2 says why)."
            )
        )
