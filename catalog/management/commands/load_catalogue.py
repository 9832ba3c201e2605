from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from catalog.loader import DEFAULT_CATALOGUE, CatalogueError, catalogue_load


class Command(BaseCommand):
    help = (
        "Load the catalogue data file (default: the seeded catalogue) in one transaction. "
        "Idempotent: a second run changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", default=str(DEFAULT_CATALOGUE), type=Path)

    def handle(self, *args, path: Path, verbosity: int, **options) -> None:
        try:
            report = catalogue_load(path=path)
        except CatalogueError as exc:
            raise CommandError(str(exc)) from None
        if verbosity >= 2:
            self.stdout.write(report.summary())
        verb = "updated" if report.changed else "unchanged"
        created = sum(report.created.values())
        updated = sum(report.updated.values())
        self.stdout.write(
            self.style.SUCCESS(
                f"Catalogue {verb}: {created} created, {updated} updated from {path.name}."
            )
        )
