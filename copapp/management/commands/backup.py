"""``python manage.py backup [--output PATH]``: one archive of the database and every uploaded file.

See ``copapp/backup.py`` for what the archive holds, and the README ("Backup and restore") for scheduling it.
"""

import sys
from functools import partial
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.template.defaultfilters import filesizeformat
from tqdm import tqdm

from copapp.backup import BackupError, backup_create, default_backup_path


class Command(BaseCommand):
    help = (
        "Write one .tar.gz with the database (pg_dump on PostgreSQL, a consistent copy on SQLite), every uploaded "
        "file (MEDIA_ROOT and PRIVATE_MEDIA_ROOT) and a manifest with their SHA-256 checksums."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output",
            "-o",
            help="Where to write the archive (default: BACKUP_DIR/copapp-<date>-<time>.tar.gz).",
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars (for cron and logs).")

    def handle(self, *args, output=None, no_progress=False, verbosity=1, **options):
        path = Path(output) if output else default_backup_path()
        quiet = no_progress or verbosity == 0
        progress = partial(tqdm, file=sys.stderr, disable=quiet, dynamic_ncols=True, leave=False)
        log = self.stdout.write if verbosity else (lambda message: None)
        try:
            result = backup_create(output=path, progress=progress, log=log)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        files = sum(1 for name in result.manifest["members"] if not name.startswith("database/"))
        if verbosity:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Backup written to {result.path} ({filesizeformat(result.size)}: the "
                    f"{result.manifest['database']['vendor']} database and {files} files, checksums in manifest.json)."
                )
            )
