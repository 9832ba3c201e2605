from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from crawlers.ota import DOCUMENTS_FILE, ota_import
from crawlers.text_import import DatasetError


class Command(BaseCommand):
    help = (
        "Store the dated versions of an Open Terms Archive versions repository (a clone or a "
        "git bundle) as texts of the sources at the documents' addresses, then re-verify the "
        "claims citing them. One transaction; idempotent. Without PATH, the dataset named by "
        "ATLAS_OTA_DATASET, if any."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("path", nargs="?", type=Path, help="A clone folder or a git bundle.")
        parser.add_argument(
            "--documents",
            type=Path,
            help=f"The documents' addresses (default: the {DOCUMENTS_FILE} beside PATH).",
        )

    def handle(self, *args, path: Path | None, documents: Path | None, **options) -> None:
        if path is None:
            if not settings.ATLAS_OTA_DATASET:
                self.stdout.write("ATLAS_OTA_DATASET is not set: no Open Terms Archive import.")
                return
            path = Path(settings.ATLAS_OTA_DATASET)
        try:
            report = ota_import(
                path=Path(path), documents_file=Path(documents) if documents else None
            )
        except DatasetError as exc:
            raise CommandError(f"{exc} Nothing was written.") from None
        self.stdout.write(f"Open Terms Archive import from {path.name}:")
        for line in report.lines():
            self.stdout.write(f"  {line}")
        verb = "updated" if report.changed else "unchanged"
        self.stdout.write(
            self.style.SUCCESS(
                f"Texts {verb}: {report.versions_stored} version(s) stored. Text from Open Terms "
                "Archive contributors, ODC-BY 1.0."
            )
        )
