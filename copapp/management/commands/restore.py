"""``python manage.py restore ARCHIVE [--yes]``: bring this installation back to the state in a backup.

Checks every checksum first and changes nothing if the archive is damaged; refuses an installation that already
holds data unless ``--yes`` (or ``--force``) is given. See ``copapp/backup.py`` and the README.
"""

import sys
from functools import partial
from pathlib import Path

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from copapp import rolecache
from copapp.backup import BackupError, backup_restore


class Command(BaseCommand):
    help = (
        "Restore a backup written by `manage.py backup`: verify its checksums, then replace the database and "
        "the uploaded files with the archive's."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", help="The .tar.gz written by `manage.py backup`.")
        parser.add_argument(
            "--yes",
            "--force",
            action="store_true",
            dest="yes",
            help="Replace an installation that already holds data (everything in it is lost).",
        )
        parser.add_argument(
            "--keep-cache",
            action="store_true",
            help=(
                "Leave the cache alone. By default it is emptied, so no session, role or count cached from the "
                "replaced data survives (with Redis this also drops background jobs queued before the restore)."
            ),
        )
        parser.add_argument("--no-progress", action="store_true", help="No progress bars (for logs).")

    def handle(self, *args, archive, yes=False, keep_cache=False, no_progress=False, verbosity=1, **options):
        quiet = no_progress or verbosity == 0
        progress = partial(tqdm, file=sys.stderr, disable=quiet, dynamic_ncols=True, leave=False)
        log = self.stdout.write if verbosity else (lambda message: None)
        try:
            result = backup_restore(path=Path(archive), force=yes, progress=progress, log=log)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        if not keep_cache:
            cache.clear()
        rolecache.bump()
        if verbosity:
            manifest = result.manifest
            self.stdout.write(
                self.style.SUCCESS(
                    f"Restored the backup of {manifest['created_at']} (copapp {manifest['app_version']}): the "
                    f"{manifest['database']['vendor']} database and {result.files} files."
                )
            )
            self.stdout.write(
                "Restart the web and worker processes now. If this code is newer than the backup, run "
                "`python manage.py migrate` (and then `python manage.py search_reindex`)."
            )
