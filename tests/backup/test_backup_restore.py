"""``manage.py backup`` and ``manage.py restore`` (issue 8, item 6).

The round trip runs on whichever database the suite runs on (SQLite on the embedded default, PostgreSQL in CI's
services stage): back up a site holding a row of every model and files in both upload folders, wipe it to a
freshly migrated state, restore, and find every row of every table, every sequence and every file identical,
and the same page served. Tests that change the database outside a test transaction use ``transaction=True``.
"""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.contrib.sites.models import Site
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client

from copapp.backup import archive_verify, target_contents
from members.services import profile_update
from spaces.models import FileAsset, Page, Space
from spaces.services import file_upload, page_create
from tests.backup.support import db_snapshot, files_snapshot, page_html, rewrite_archive
from tests.spaces.helpers import png_bytes

DB_MAGIC = {"sqlite": b"SQLite format 3\x00", "postgresql": b"PGDMP"}


def _forget_cached_rows() -> None:
    """Content types and the site are cached per process; a restore changes them under this one."""
    ContentType.objects.clear_cache()
    Site.objects.clear_cache()


def wipe() -> None:
    """A freshly installed site: migrated tables with only what ``migrate`` writes, empty upload folders."""
    call_command("flush", interactive=False, verbosity=0)
    _forget_cached_rows()
    for root in (settings.MEDIA_ROOT, settings.PRIVATE_MEDIA_ROOT):
        shutil.rmtree(root, ignore_errors=True)


def restore(archive: Path, **options) -> None:
    call_command("restore", str(archive), keep_cache=True, verbosity=0, **options)
    _forget_cached_rows()


@pytest.fixture
def site(populated, superuser, tmp_path):
    """The admin test's data set, plus an avatar (MEDIA_ROOT), a page with an image and a file (PRIVATE_MEDIA_ROOT)
    and a browser signed in as a member; returns what the round trip reads back."""
    from django.contrib.auth import get_user_model

    member = get_user_model().objects.get(email="member@example.org")
    profile_update(actor=member, user=member, avatar=SimpleUploadedFile("me.png", png_bytes(), "image/png"))
    space = Space.objects.get(slug="library")
    image = file_upload(actor=superuser, space=space, upload=SimpleUploadedFile("chart.png", png_bytes((4, 4))))
    page = page_create(
        actor=superuser,
        space=space,
        title="Restored handbook",
        body=f"# Linkage\n\nKeys: **name** and *date of birth*.\n\n![chart](/files/{image.pk}/inline/chart.png)",
    )
    browser = Client()
    browser.force_login(member)
    return {"page": page, "image": image, "browser": browser, "archive": tmp_path / "backups" / "site.tar.gz"}


@pytest.mark.django_db(transaction=True)
def test_backup_wipe_restore_gives_back_every_row_every_file_and_the_same_page(site):
    browser, page, image = site["browser"], site["page"], site["image"]
    html_before = page_html(browser.get(page.get_absolute_url()))
    file_before = b"".join(browser.get(image.get_download_url()).streaming_content)
    rows_before, files_before = db_snapshot(), files_snapshot()
    assert any(name.startswith("media/avatars/") for name in files_before)
    assert any(name.startswith("private-media/files/") for name in files_before)
    assert rows_before["spaces_page"][0] >= 2 and rows_before["django_content_type"][0] > 0

    call_command("backup", output=str(site["archive"]), verbosity=0)
    verified = archive_verify(site["archive"])
    manifest = verified.manifest
    assert manifest["database"]["vendor"] == connection.vendor
    assert set(manifest["members"]) == {manifest["database"]["member"], *files_before}
    for name, digest in files_before.items():
        assert manifest["members"][name]["sha256"] == digest
    with tarfile.open(site["archive"], "r:gz") as archive:
        head = archive.extractfile(manifest["database"]["member"]).read(16)
    assert head.startswith(DB_MAGIC[connection.vendor])

    wipe()
    assert db_snapshot() != rows_before and files_snapshot() == {}
    assert target_contents() == [], "a freshly migrated site counts as empty"
    restore(site["archive"])  # no --yes needed on an empty site

    assert files_snapshot() == files_before
    rows_after = db_snapshot()
    assert [t for t in rows_before if rows_before[t] != rows_after.get(t)] == []
    assert rows_after == rows_before
    assert page_html(browser.get(page.get_absolute_url())) == html_before
    assert b"".join(browser.get(image.get_download_url()).streaming_content) == file_before
    # The restored site takes new content (sequences came back too).
    assert page_create(actor=page.item.author, space=page.space, title="After the restore").pk > page.pk


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_site_that_holds_data_unless_told_yes(site):
    call_command("backup", output=str(site["archive"]), verbosity=0)
    page_create(actor=site["page"].item.author, space=site["page"].space, title="Written after the backup")
    rows, files = db_snapshot(), files_snapshot()
    with pytest.raises(CommandError, match="not empty.*--yes.*Nothing was changed"):
        restore(site["archive"])
    assert db_snapshot() == rows and files_snapshot() == files

    restore(site["archive"], yes=True)
    assert not Page.objects.filter(title="Written after the backup").exists()


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_a_damaged_archive_and_changes_nothing(site, tmp_path):
    call_command("backup", output=str(site["archive"]), verbosity=0)
    private = next(name for name in files_snapshot() if name.startswith("private-media/"))
    altered = tmp_path / "altered.tar.gz"
    rewrite_archive(site["archive"], altered, change=lambda name, data: data + b"!" if name == private else data)
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(site["archive"].read_bytes()[: site["archive"].stat().st_size // 2])
    not_ours = tmp_path / "other.tar.gz"
    with tarfile.open(not_ours, "w:gz") as archive:
        archive.add(__file__, arcname="notes.py")
    wipe()
    rows, files = db_snapshot(), files_snapshot()

    with pytest.raises(
        CommandError, match=rf"failed verification; nothing was changed:\n.*{private}: checksum mismatch"
    ):
        restore(altered, yes=True)
    with pytest.raises(CommandError, match="(damaged|cut short).*(N|n)othing (was )?changed"):
        restore(truncated, yes=True)
    with pytest.raises(CommandError, match="no manifest.json"):
        restore(not_ours, yes=True)
    with pytest.raises(CommandError, match="does not exist"):
        restore(tmp_path / "missing.tar.gz", yes=True)
    assert db_snapshot() == rows and files_snapshot() == files


@pytest.mark.django_db(transaction=True)
def test_restore_refuses_an_archive_from_a_newer_version(site, tmp_path):
    call_command("backup", output=str(site["archive"]), verbosity=0)
    newer = tmp_path / "newer.tar.gz"

    def add_future_migration(manifest: dict) -> dict:
        manifest["migrations"].setdefault("spaces", []).append("9999_from_the_future")
        return manifest

    rewrite_archive(site["archive"], newer, manifest=add_future_migration)
    rows = db_snapshot()
    with pytest.raises(CommandError, match="newer version of copapp.*spaces.9999_from_the_future"):
        restore(newer, yes=True)
    assert db_snapshot() == rows


@pytest.mark.django_db(transaction=True)
def test_backup_goes_to_backup_dir_with_progress_and_a_manifest(settings, tmp_path, capsys, staff):
    settings.BACKUP_DIR = tmp_path / "nightly"
    Path(settings.PRIVATE_MEDIA_ROOT, "files").mkdir(parents=True)
    Path(settings.PRIVATE_MEDIA_ROOT, "files", "a.txt").write_bytes(b"A")
    call_command("backup")
    (archive,) = list((tmp_path / "nightly").glob("copapp-*.tar.gz"))
    captured = capsys.readouterr()
    assert f"Backup written to {archive}" in captured.out
    assert "backup" in captured.err  # the tqdm progress bar
    with tarfile.open(archive, "r:gz") as tar:
        names = tar.getnames()
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert names[-1] == "manifest.json"
    assert "private-media/files/a.txt" in names
    assert manifest["app"] == "copapp" and manifest["app_version"]
    assert "members" in manifest["migrations"] and manifest["created_at"]
    assert not list((tmp_path / "nightly").glob("*.partial"))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_archive_is_a_pg_dump_and_search_works_after_restore(site):
    call_command("backup", output=str(site["archive"]), verbosity=0)
    manifest = archive_verify(site["archive"]).manifest
    assert manifest["database"]["member"] == "database/copapp.pgdump"
    assert manifest["database"]["server_major"] >= 15
    wipe()
    restore(site["archive"])
    with connection.cursor() as cursor:
        cursor.execute("SELECT extname FROM pg_extension ORDER BY extname")
        assert {"pg_trgm", "unaccent"} <= {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT count(*) FROM spaces_item WHERE search_vector @@ to_tsquery('copapp_search', 'linkage')")
        assert cursor.fetchone()[0] >= 1
    assert FileAsset.objects.filter(pk=site["image"].pk).exists()
