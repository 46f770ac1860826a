"""Rebuild the search text of every item and the full-text index (issue 7). Safe to run any number of times.

python manage.py search_reindex                 # text of files read only where none is stored yet
python manage.py search_reindex --files=all     # read the text inside every file again
python manage.py search_reindex --files=none    # no file is opened
"""

from collections import Counter

from django.core.management.base import BaseCommand

from spaces.search_index import search_reindex


class Command(BaseCommand):
    help = "Recompute every item's search text and rebuild the full-text index."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--files",
            choices=["missing", "all", "none"],
            default="missing",
            help="Which uploaded files to read the text of again (default: those with none stored).",
        )
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, files: str, batch_size: int, verbosity: int, **options) -> None:
        done: Counter[str] = Counter()

        def progress(kind: str, count: int) -> None:
            done[kind] += count
            if verbosity > 1:
                self.stdout.write(f"  {kind}: {done[kind]}")

        written = search_reindex(files=files, batch_size=batch_size, progress=progress)
        summary = ", ".join(f"{count} {kind}" for kind, count in sorted(done.items())) or "nothing"
        self.stdout.write(self.style.SUCCESS(f"Reindexed {written} items ({summary})."))
