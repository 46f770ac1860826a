"""A member's download of all their own data (issue 8, item 5): a ZIP of JSON and files, built by a task, for
that member only, for seven days.

Rules checked here (members/exports.py, spaces/exports.py): everything the member wrote is theirs, also in a space
they were removed from; other people's content and private data are never in it; the titles of other people's
items only while the member can still see them.
"""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analytics.models import ActivityEvent
from communities import services as community_services
from members import exports
from members.models import DataExport, DataExportStatus, Notification, NotificationKind, Profile
from members.services import account_delete, profile_update
from spaces import services
from spaces.models import SpaceMembership, SpaceRole, Visibility
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for, messages_of, png_bytes

pytestmark = pytest.mark.django_db
User = get_user_model()
REPORT = b"Our linkage report, v1"


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        return {name: archive.read(name) for name in archive.namelist()}


def as_json(files: dict[str, bytes], name: str):
    return json.loads(files[name])


def build_for(user) -> tuple[DataExport, dict[str, bytes]]:
    export = exports.data_export_request(actor=user)
    assert exports.data_export_build(export_id=export.pk) == DataExportStatus.READY
    export.refresh_from_db()
    with export.file.open("rb") as handle:
        return export, read_zip(handle.read())


@pytest.fixture
def scene(staff):
    community = make_community(staff, slug="linkage", questions=["Why are you here?"])
    closed = make_space(staff, community, Visibility.CLOSED, slug="working-group")
    library = make_space(staff, community, Visibility.OPEN, slug="library")
    alice = make_user("alice", organisation="Stats Fiji", country="Fiji")
    bob = make_user("bob", organisation="Bob's secret office", job_title="Hidden job")
    for space in (closed, library):
        add_member(space, alice, SpaceRole.EDITOR, by=staff)
        add_member(space, bob, SpaceRole.EDITOR, by=staff)
    community_services.onboarding_submit(
        actor=alice,
        community=community,
        accept_guidelines=True,
        answers={community.intro_questions.get().pk: "Alice wants to learn record linkage."},
    )
    profile_update(actor=alice, user=alice, avatar=SimpleUploadedFile("me.png", png_bytes(), "image/png"))

    alice_page = services.page_create(actor=alice, space=closed, title="Alice's notes", body="Alice wrote this.")
    report = services.file_upload(
        actor=alice, space=closed, page=alice_page, upload=SimpleUploadedFile("report.txt", REPORT)
    )
    bob_page = services.page_create(actor=bob, space=closed, title="Bob's plan", body="Bob's private plan text.")
    services.comment_create(actor=alice, target=bob_page.item, body="Alice's comment on his page.")
    services.comment_create(actor=bob, target=alice_page.item, body="Bob's reply that is not Alice's.")
    question = services.question_ask(actor=bob, space=library, title="Which keys do you use?", body="Bob asks.")
    answer = services.answer_post(actor=alice, question=question, body="Alice answers: name and birth date.")
    services.vote_cast(actor=bob, item=answer.item)
    services.vote_cast(actor=alice, item=question.item)
    from spaces.services.posts import bookmark_toggle, post_create

    post = post_create(actor=alice, space=library, body="Alice's post to the library.")
    bookmark_toggle(actor=alice, item=bob_page.item)
    bookmark_toggle(actor=alice, item=question.item)
    # Alice is removed from the closed working group: her own page stays hers, Bob's page is no longer hers to see.
    membership = SpaceMembership.objects.get(space=closed, user=alice)
    services.membership_remove(actor=staff, membership=membership)
    return {
        "alice": alice,
        "bob": bob,
        "alice_page": alice_page,
        "bob_page": bob_page,
        "report": report,
        "question": question,
        "answer": answer,
        "post": post,
        "community": community,
    }


def test_export_holds_the_members_own_data_and_files(scene):
    alice = scene["alice"]
    _export, files = build_for(alice)

    assert "README.txt" in files and "manifest.json" in files
    assert b"Everything you wrote is yours" in files["README.txt"] and alice.username.encode() in files["README.txt"]
    account = as_json(files, "members/account.json")
    assert account["email"] == alice.email
    assert account["profile"]["organisation"] == "Stats Fiji"
    avatar = account["profile"]["avatar"]
    with Profile.objects.get(user=alice).avatar.open("rb") as stored:
        assert files[avatar] == stored.read()

    answers = as_json(files, "communities/introductory_answers.json")
    assert answers == [
        {
            "community": {"id": scene["community"].pk, "slug": "linkage", "name": "Linkage"},
            "question": "Why are you here?",
            "answer": "Alice wants to learn record linkage.",
            "answered_at": answers[0]["answered_at"],
        }
    ]
    assert {m["community"]["slug"] for m in as_json(files, "communities/memberships.json")} == {"linkage"}
    assert {m["space"]["slug"] for m in as_json(files, "spaces/memberships.json")} == {"library"}

    # Her own page in the space she was removed from: hers, with its text, versions and her file.
    (page,) = as_json(files, "spaces/pages.json")
    assert page["title"] == "Alice's notes" and page["body"] == "Alice wrote this."
    assert page["space"]["slug"] == "working-group"
    assert any(v["page_id"] == scene["alice_page"].pk for v in as_json(files, "spaces/page_versions.json"))
    (version,) = as_json(files, "spaces/file_versions.json")
    assert files[version["path_in_this_archive"]] == REPORT

    (answer,) = as_json(files, "spaces/answers.json")
    assert answer["body"] == "Alice answers: name and birth date."
    assert answer["question_title"] == "Which keys do you use?"  # still visible to her
    assert [p["body"] for p in as_json(files, "spaces/posts.json")] == ["Alice's post to the library."]
    assert [v["item"]["id"] for v in as_json(files, "spaces/votes.json")] == [scene["question"].item_id]

    activity = as_json(files, "analytics/activity_log.json")
    assert len(activity) == ActivityEvent.objects.filter(member=alice).count() > 0
    assert {"page_create", "answer_post"} <= {row["kind"] for row in activity}

    manifest = as_json(files, "manifest.json")
    assert manifest["records"]["spaces/pages.json"] == 1
    assert manifest["files"][version["path_in_this_archive"]] == len(REPORT)
    assert manifest["missing_files"] == []


def test_export_leaves_out_other_peoples_data_and_what_she_can_no_longer_see(scene):
    bob = scene["bob"]
    _export, files = build_for(scene["alice"])
    everything = b"\n".join(files.values())
    for secret in (bob.email, "Bob's secret office", "Hidden job", "Bob's private plan text", "Bob's reply"):
        assert secret.encode() not in everything, secret

    (comment,) = as_json(files, "spaces/comments.json")
    assert comment["body"] == "Alice's comment on his page."  # her words are hers...
    assert comment["on"] == {"kind": "page", "id": scene["bob_page"].item_id, "title": None}  # ...his page is not
    bookmarks = {b["item"]["id"]: b["item"]["title"] for b in as_json(files, "spaces/bookmarks.json")}
    assert bookmarks == {scene["bob_page"].item_id: None, scene["question"].item_id: "Which keys do you use?"}
    assert [name for name, data in files.items() if b"Bob's plan" in data] == []


def test_building_is_done_by_the_task_and_tells_the_member(scene, django_capture_on_commit_callbacks):
    alice = scene["alice"]
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(alice).post(reverse("members:data-export-request"))
    assert response.status_code == 302 and response["Location"] == reverse("members:data-export")
    export = DataExport.objects.get(user=alice)
    assert export.status == DataExportStatus.READY
    assert export.expires_at - export.finished_at == timedelta(days=exports.DATA_EXPORT_VALID_DAYS)
    assert export.file.name.startswith(f"exports/{alice.pk}/")
    (notification,) = Notification.objects.filter(recipient=alice, kind=NotificationKind.DATA_EXPORT)
    assert notification.url == reverse("members:data-export")
    assert "Your data export is ready" in notification.text

    # Running the task again (a retry, a duplicate delivery) changes nothing and tells no one twice.
    from members.tasks import data_export_build_task

    assert data_export_build_task(export.pk) == DataExportStatus.READY
    assert Notification.objects.filter(recipient=alice, kind=NotificationKind.DATA_EXPORT).count() == 1


def test_a_second_request_within_the_hour_is_refused(scene):
    alice = scene["alice"]
    build_for(alice)
    response = client_for(alice).post(reverse("members:data-export-request"), follow=True)
    assert any("less than an hour ago" in message for message in messages_of(response))
    assert DataExport.objects.filter(user=alice).count() == 1


def test_only_the_member_downloads_their_export_and_only_for_seven_days(
    scene, time_machine, django_capture_on_commit_callbacks
):
    alice, bob = scene["alice"], scene["bob"]
    export, files = build_for(alice)
    url = reverse("members:data-export-download", kwargs={"export_id": export.pk})

    response = client_for(alice).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    assert read_zip(b"".join(response.streaming_content)) == files
    assert client_for(bob).get(url).status_code == 404
    assert client_for(alice).post(url).status_code == 405
    anonymous = client_for(alice)
    anonymous.logout()
    assert anonymous.get(url).status_code == 302

    time_machine.move_to(timezone.now() + timedelta(days=7, minutes=1))
    assert client_for(alice).get(url).status_code == 404
    stored = export.file.name
    with django_capture_on_commit_callbacks(execute=True):
        assert exports.data_exports_purge() == 1
    export.refresh_from_db()
    assert export.status == DataExportStatus.EXPIRED and not export.file
    assert not export.file.storage.exists(stored)


def test_the_data_page_lists_exports_and_is_linked_from_the_profile(scene):
    alice = scene["alice"]
    export, _files = build_for(alice)
    browser = client_for(alice)
    page = browser.get(reverse("members:data-export"))
    assert page.status_code == 200
    body = page.content.decode()
    assert reverse("members:data-export-download", kwargs={"export_id": export.pk}) in body
    assert reverse("members:data-export-request") in body
    partial = browser.get(reverse("members:data-export"), headers={"HX-Request": "true"})
    assert b"<html" not in partial.content and b'id="data-exports"' in partial.content
    link = f'<a href="{reverse("members:data-export")}">Download my data</a>'
    assert link in browser.get(alice.get_absolute_url()).content.decode()
    assert link not in client_for(scene["bob"]).get(alice.get_absolute_url()).content.decode()


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get(reverse("members:data-export"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_deleting_the_account_deletes_the_exports(scene, django_capture_on_commit_callbacks):
    alice = scene["alice"]
    export, _files = build_for(alice)
    storage, name = export.file.storage, export.file.name
    with django_capture_on_commit_callbacks(execute=True):
        account_delete(actor=alice, user=alice)
    assert not DataExport.objects.filter(pk=export.pk).exists()
    assert not storage.exists(name)


def test_the_export_reads_a_bounded_number_of_queries(scene):
    """Rows are read in batches: more content costs no more queries."""
    from spaces.services.posts import post_create

    alice = scene["alice"]
    library = scene["post"].space

    def queries() -> int:
        report = exports.ZipReport()
        with CaptureQueriesContext(connection) as captured:
            exports.write_zip(io.BytesIO(), exports.export_parts(alice, report), report=report)
        return len(captured)

    queries()  # warm the caches (content types, roles)
    few = queries()
    for n in range(6):
        post_create(actor=alice, space=library, body=f"Another post {n}")
        services.comment_create(actor=alice, target=scene["question"].item, body=f"Comment {n}")
    assert queries() == few


def test_moderators_and_staff_cannot_download_someone_elses_export(scene, staff):
    export, _files = build_for(scene["alice"])
    url = reverse("members:data-export-download", kwargs={"export_id": export.pk})
    assert client_for(staff).get(url).status_code == 404
    other = make_user()
    assert User.objects.filter(pk=other.pk).exists()
    assert client_for(other).get(url).status_code == 404
