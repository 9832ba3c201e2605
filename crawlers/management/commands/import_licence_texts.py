from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crawlers.licence_texts import MANIFEST_FILE, licence_texts_import
from crawlers.text_import import DatasetError


class Command(BaseCommand):
    help = (
        f"Store the licence texts of a folder with a {MANIFEST_FILE} as texts of the sources at "
        "the manifest's addresses, dated by their commits, then re-verify the claims citing "
        "them. One transaction; idempotent. Without PATH, the folder named by "
        "ATLAS_LICENCE_TEXTS, if any."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help=f"A folder with a {MANIFEST_FILE}.")

    def handle(self, *args, path: Path | None, **options) -> None:
        if path is None:
            if not settings.ATLAS_LICENCE_TEXTS:
                self.stdout.write("ATLAS_LICENCE_TEXTS is not set: no licence texts imported.")
                return
            path = Path(settings.ATLAS_LICENCE_TEXTS)
        try:
            report = licence_texts_import(folder=path)
        except DatasetError as exc:
            raise CommandError(f"{exc} Nothing was written.") from None
        self.stdout.write(f"Licence texts import from {path.name}:")
        for line in report.lines():
            self.stdout.write(f"  {line}")
        verb = "updated" if report.changed else "unchanged"
        self.stdout.write(
            self.style.SUCCESS(f"Texts {verb}: {report.versions_stored} version(s) stored.")
        )
