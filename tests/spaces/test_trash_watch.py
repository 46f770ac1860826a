"""The trash (delete, restore, purge), watching pages and spaces, and the "recently changed" list."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import storages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from spaces import services
from spaces.models import Comment, FileAsset, FileVersion, Item, Page, Visibility, Watch
from spaces.selectors_content import item_url, watchers_of
from spaces.tasks import trash_purge_task
from tests.spaces.helpers import client_for, htmx, messages_of, png_bytes, space_url, template_names

PERSONAS = ["anonymous", "outsider", "viewer", "editor", "moderator", "admin", "community_admin", "staff"]


@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    return settings.PRIVATE_MEDIA_ROOT


def make_page(w, title: str, *, parent=None, by=None) -> Page:
    return services.page_create(actor=by or w.editor, space=w.space, title=title, body=f"About {title}.", parent=parent)


def attach_file(w, page: Page, name: str = "chart.png") -> FileAsset:
    upload = SimpleUploadedFile(name, png_bytes(), content_type="image/png")
    return services.file_upload(actor=w.editor, space=w.space, upload=upload, page=page)


def tree(w):
    """root > child > grandchild, a file on the child, comments on the root, the grandchild and the file."""
    root = make_page(w, "Root")
    child = make_page(w, "Child", parent=root)
    grandchild = make_page(w, "Grandchild", parent=child)
    asset = attach_file(w, child)
    comments = [
        services.comment_create(actor=w.editor, target=root.item, body="On the root"),
        services.comment_create(actor=w.moderator, target=grandchild.item, body="On the grandchild"),
        services.comment_create(actor=w.admin, target=asset.item, body="On the file"),
    ]
    comments.append(services.comment_create(actor=w.admin, target=root.item, body="A reply", parent=comments[0]))
    return root, child, grandchild, asset, comments


def item_ids(root, child, grandchild, asset, comments) -> set[int]:
    return {root.item_id, child.item_id, grandchild.item_id, asset.item_id, *(c.item_id for c in comments)}


def user_of(w, name):
    return getattr(w, name)


# --- Moving to the trash ------------------------------------------------------------------------------------
def test_trashing_a_page_takes_its_subtree_files_and_comments_with_one_stamp(open_world):
    w = open_world
    parts = tree(w)
    other = make_page(w, "Unrelated")

    count = services.item_trash(actor=w.editor, item=parts[0].item)

    ids = item_ids(*parts)
    assert count == len(ids) == 8
    stamps = set(Item.objects.filter(pk__in=ids).values_list("deleted_at", flat=True))
    assert len(stamps) == 1 and None not in stamps
    assert set(Item.objects.filter(pk__in=ids).values_list("deleted_by", flat=True)) == {w.editor.pk}
    for name in PERSONAS:
        visible = set(Item.objects.visible_to(user_of(w, name)).values_list("pk", flat=True))
        assert not visible & ids, name
        assert other.item_id in visible, name
    recent = client_for(w.admin).get(space_url("recent-changes", w.space)).content.decode()
    for title in ["Root", "Child", "Grandchild", "chart.png", "On the root"]:
        assert f"“{title}”" not in recent and f">{title}<" not in recent
    assert ">Unrelated<" in recent


def test_subtree_walk_costs_one_query_per_level_not_per_page(open_world):
    w = open_world
    root = make_page(w, "Root")
    for i in range(6):
        make_page(w, f"Child {i}", parent=root)
    from spaces.services.trash import _contents

    with CaptureQueriesContext(connection) as wide:
        _contents(root.item)
    for i in range(14):
        make_page(w, f"More {i}", parent=root)
    with CaptureQueriesContext(connection) as wider:
        ids = _contents(root.item)

    assert len(ids) == 21
    assert len(wide) == len(wider)


@pytest.mark.parametrize("who,status", [("viewer", 403), ("editor", 403), ("moderator", 302), ("admin", 302)])
def test_moderators_trash_pages_of_others_editors_and_viewers_cannot(open_world, who, status):
    w = open_world
    page = make_page(w, "Shared", by=w.staff)

    response = client_for(user_of(w, who)).post(space_url("item-trash", w.space, item_id=page.item_id))

    page.item.refresh_from_db()
    assert response.status_code == status
    assert (page.item.deleted_at is not None) == (status == 302)


def test_item_trash_view_answers_404_to_outsiders_and_405_to_get(closed_world):
    w = closed_world
    page = make_page(w, "Members only")
    url = space_url("item-trash", w.space, item_id=page.item_id)

    assert client_for(w.outsider).post(url).status_code == 404
    assert client_for(w.editor).get(url).status_code == 405
    assert Client().post(url).status_code == 302
    assert Item.objects.get(pk=page.item_id).deleted_at is None


def test_author_trashes_own_page_through_the_view(open_world):
    w = open_world
    page = make_page(w, "Mine")

    response = client_for(w.editor).post(space_url("item-trash", w.space, item_id=page.item_id))

    assert response.status_code == 302
    assert response.url == w.space.get_absolute_url()
    assert messages_of(response) == ["“Mine” was deleted. A space admin can restore it for a while."]
    page.item.refresh_from_db()
    assert page.item.deleted_at is not None


def test_trashing_twice_is_refused(open_world):
    w = open_world
    page = make_page(w, "Once")
    services.item_trash(actor=w.editor, item=page.item)

    with pytest.raises(ValidationError):
        services.item_trash(actor=w.editor, item=page.item)


# --- The trash page -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("who", ["viewer", "editor", "moderator", "community_moderator"])
def test_non_admins_who_see_the_space_get_403_on_the_trash(open_world, who):
    w = open_world

    assert client_for(user_of(w, who)).get(space_url("trash", w.space)).status_code == 403


def test_trash_for_anonymous_outsider_and_methods(closed_world):
    w = closed_world
    url = space_url("trash", w.space)

    assert Client().get(url).status_code == 302
    assert client_for(w.outsider).get(url).status_code == 404
    assert client_for(w.banned).get(url).status_code == 404
    assert client_for(w.admin).post(url).status_code == 405


def test_admin_sees_what_is_in_the_trash_with_who_when_and_days_left(open_world):
    w = open_world
    page = make_page(w, "Old notes")
    services.item_trash(actor=w.editor, item=page.item)

    response = client_for(w.admin).get(space_url("trash", w.space))

    html = response.content.decode()
    assert response.status_code == 200
    assert "Old notes" in html
    assert w.editor.public_name in html
    assert 'class="num" title="' in html and ">30</td>" in html
    assert space_url("trash-restore", w.space, item_id=page.item_id) in html


def test_trash_page_query_count_is_constant(open_world):
    w = open_world

    def trash_pages(n):
        for i in range(n):
            page = make_page(w, f"Gone {i} {timezone.now().timestamp()}")
            services.comment_create(actor=w.editor, target=page.item, body="bye")
            services.item_trash(actor=w.editor, item=page.item)

    browser = client_for(w.admin)
    browser.get(w.space.get_absolute_url())  # the first request of a session also saves it
    trash_pages(3)
    with CaptureQueriesContext(connection) as few:
        browser.get(space_url("trash", w.space))
    trash_pages(12)
    with CaptureQueriesContext(connection) as many:
        html = browser.get(space_url("trash", w.space)).content.decode()

    assert html.count("Restore") >= 30
    assert len(few) == len(many)


# --- Restoring ----------------------------------------------------------------------------------------------
def test_admin_restores_a_page_with_everything_trashed_with_it_but_not_what_went_before(open_world):
    w = open_world
    root, child, grandchild, asset, comments = tree(w)
    services.comment_delete(actor=w.moderator, comment=comments[1])  # on its own, before the page
    earlier = Item.objects.get(pk=comments[1].item_id).deleted_at
    services.item_trash(actor=w.editor, item=root.item)

    response = client_for(w.admin).post(space_url("trash-restore", w.space, item_id=root.item_id))

    assert response.status_code == 302
    assert response.url == space_url("trash", w.space)
    assert messages_of(response) == ["“Root” and 6 items inside it were restored."]
    restored = item_ids(root, child, grandchild, asset, comments) - {comments[1].item_id}
    assert set(Item.objects.visible_to(w.viewer).filter(pk__in=restored).values_list("pk", flat=True)) == restored
    assert Item.objects.get(pk=comments[1].item_id).deleted_at == earlier


@pytest.mark.parametrize("who", ["moderator", "editor"])
def test_only_admins_restore(open_world, who):
    w = open_world
    page = make_page(w, "Gone")
    services.item_trash(actor=w.moderator, item=page.item)

    response = client_for(user_of(w, who)).post(space_url("trash-restore", w.space, item_id=page.item_id))

    assert response.status_code == 403
    with pytest.raises(PermissionDenied):
        services.item_restore(actor=user_of(w, who), item=Item.objects.get(pk=page.item_id))


def test_restoring_something_inside_a_trashed_page_says_to_restore_the_page_first(open_world):
    w = open_world
    root, child, *_rest = tree(w)
    services.item_trash(actor=w.editor, item=root.item)

    response = client_for(w.admin).post(space_url("trash-restore", w.space, item_id=child.item_id))

    assert messages_of(response) == ["“Child” is inside “Root”, which is in the trash too: restore that first."]
    assert Item.objects.get(pk=child.item_id).deleted_at is not None


def test_restore_after_the_retention_period_is_refused_with_a_message(open_world):
    w = open_world
    page = make_page(w, "Ancient")
    services.item_trash(actor=w.editor, item=page.item)

    with time_machine.travel(timezone.now() + timedelta(days=settings.TRASH_RETENTION_DAYS, hours=1)):
        response = client_for(w.admin).post(space_url("trash-restore", w.space, item_id=page.item_id))

    assert messages_of(response) == ["“Ancient” was deleted more than 30 days ago and can no longer be restored."]
    assert Item.objects.get(pk=page.item_id).deleted_at is not None


def test_restore_just_inside_the_retention_period_works(open_world):
    w = open_world
    page = make_page(w, "Nearly")
    services.item_trash(actor=w.editor, item=page.item)

    with time_machine.travel(timezone.now() + timedelta(days=29, hours=23)):
        services.item_restore(actor=w.admin, item=Item.objects.select_related("space").get(pk=page.item_id))

    assert Item.objects.get(pk=page.item_id).deleted_at is None


# --- Purging ------------------------------------------------------------------------------------------------
def test_purge_after_30_days_removes_rows_history_and_blobs_and_is_idempotent(
    open_world, django_capture_on_commit_callbacks
):
    w = open_world
    root, child, grandchild, asset, comments = tree(w)
    keep = make_page(w, "Keep")
    blob = FileVersion.objects.get(asset=asset).file.name
    storage = storages["private"]
    assert storage.exists(blob)
    ids = item_ids(root, child, grandchild, asset, comments)
    page_ids = [root.pk, child.pk, grandchild.pk]
    comment_ids = [c.pk for c in comments]
    services.item_trash(actor=w.editor, item=root.item)

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        with django_capture_on_commit_callbacks(execute=True):
            assert trash_purge_task.delay().get() == 0
    assert Item.objects.filter(pk__in=ids).count() == len(ids)

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        with django_capture_on_commit_callbacks(execute=True):
            assert trash_purge_task.delay().get() == len(ids)
        with django_capture_on_commit_callbacks(execute=True):
            assert trash_purge_task.delay().get() == 0

    assert not Item.objects.filter(pk__in=ids).exists()
    assert not Page.objects.filter(pk__in=page_ids).exists()
    assert not FileAsset.objects.filter(pk=asset.pk).exists()
    assert not FileVersion.objects.filter(asset_id=asset.pk).exists()
    assert not Comment.objects.filter(pk__in=comment_ids).exists()
    assert not Comment.history.filter(id__in=comment_ids).exists()
    assert not Page.history.filter(id__in=page_ids).exists()
    assert not storage.exists(blob)
    assert Page.objects.filter(pk=keep.pk).exists()


def test_purge_is_scheduled_daily():
    entry = settings.CELERY_BEAT_SCHEDULE["purge-trash"]

    assert entry["task"] == "spaces.tasks.trash_purge_task"
    assert entry["schedule"] == 24 * 3600


# --- Watching -----------------------------------------------------------------------------------------------
def test_member_watches_and_unwatches_a_page(open_world):
    w = open_world
    page = make_page(w, "Watched")
    url = space_url("watch-item", w.space, item_id=page.item_id)
    browser = client_for(w.viewer)

    on = browser.post(url, {"next": page.get_absolute_url()})
    assert on.status_code == 302 and on.url == page.get_absolute_url()
    assert Watch.objects.filter(user=w.viewer, item=page.item).exists()
    assert w.viewer in watchers_of(page.item)

    off = htmx(browser, "post", url)
    assert template_names(off) == ["spaces/partials/watch_button.html"]
    assert ">Watch<" in off.content.decode()
    assert not Watch.objects.filter(user=w.viewer, item=page.item).exists()
    assert w.viewer not in watchers_of(page.item)


def test_member_watches_a_space_from_its_header_and_is_a_watcher_of_its_items(open_world):
    w = open_world
    page = make_page(w, "Anything")
    comment = services.comment_create(actor=w.editor, target=page.item, body="Hi")
    browser = client_for(w.viewer)
    assert "Watch this space" in browser.get(w.space.get_absolute_url()).content.decode()

    response = htmx(browser, "post", space_url("watch-space", w.space))

    assert "Stop watching this space" in response.content.decode()
    assert 'aria-pressed="true"' in response.content.decode()
    assert list(watchers_of(page.item)) == [w.viewer]
    assert list(watchers_of(comment.item)) == [w.viewer]
    assert "Stop watching this space" in browser.get(w.space.get_absolute_url()).content.decode()


def test_watchers_of_a_comment_include_watchers_of_what_it_is_on(open_world):
    w = open_world
    page = make_page(w, "Discussed")
    comment = services.comment_create(actor=w.editor, target=page.item, body="Hi")
    services.watch_toggle(actor=w.admin, item=page.item)

    assert list(watchers_of(comment.item)) == [w.admin]


def test_watch_needs_sight_of_the_thing(closed_world, private_world):
    closed, private = closed_world, private_world
    page = make_page(closed, "Hidden")

    assert client_for(closed.outsider).post(space_url("watch-space", closed.space)).status_code == 404
    assert (
        client_for(closed.outsider).post(space_url("watch-item", closed.space, item_id=page.item_id)).status_code == 404
    )
    assert client_for(private.outsider).post(space_url("watch-space", private.space)).status_code == 403
    assert "Watch this space" not in client_for(private.outsider).get(private.space.get_absolute_url()).content.decode()
    assert Client().post(space_url("watch-space", closed.space)).status_code == 302
    assert client_for(closed.viewer).get(space_url("watch-space", closed.space)).status_code == 405
    assert not Watch.objects.exists()


def test_watch_toggle_service_rules(open_world):
    w = open_world
    page = make_page(w, "Rules")
    comment = services.comment_create(actor=w.editor, target=page.item, body="Hi")

    assert services.watch_toggle(actor=w.viewer, space=w.space) is True
    assert services.watch_toggle(actor=w.viewer, space=w.space) is False
    with pytest.raises(ValidationError):
        services.watch_toggle(actor=w.viewer, item=page.item, space=w.space)
    with pytest.raises(ValidationError):
        services.watch_toggle(actor=w.viewer, item=comment.item)


# --- Recently changed ---------------------------------------------------------------------------------------
def test_recent_changes_lists_visible_items_newest_first_with_links(open_world):
    w = open_world
    with time_machine.travel(timezone.now() - timedelta(hours=2)):
        older = make_page(w, "Older page")
    newer = make_page(w, "Newer page")
    comment = services.comment_create(actor=w.moderator, target=older.item, body="Fresh comment")

    response = Client().get(space_url("recent-changes", w.space))

    html = response.content.decode()
    assert response.status_code == 200
    comment_link = f'href="{older.get_absolute_url()}#comment-{comment.pk}"'
    newer_link, older_link = f'href="{newer.get_absolute_url()}"', f'href="{older.get_absolute_url()}"'
    assert html.index(comment_link) < html.index(newer_link) < html.index(older_link)
    assert "Comment on “Older page”" in html
    assert 'aria-current="page">Recent changes<' in html


def test_item_url_falls_back_to_the_space_for_kinds_without_pages(open_world):
    w = open_world
    item = Item.objects.create(kind="poll", space=w.space, author=w.editor, title="Which day?")

    assert item_url(item) == w.space.get_absolute_url()


def test_recent_changes_access(closed_world, private_world):
    assert client_for(closed_world.outsider).get(space_url("recent-changes", closed_world.space)).status_code == 404
    assert Client().get(space_url("recent-changes", closed_world.space)).status_code == 404
    assert client_for(private_world.outsider).get(space_url("recent-changes", private_world.space)).status_code == 403
    assert client_for(closed_world.viewer).get(space_url("recent-changes", closed_world.space)).status_code == 200
    assert client_for(closed_world.viewer).post(space_url("recent-changes", closed_world.space)).status_code == 405


def _recent_queries(w, browser) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        html = browser.get(space_url("recent-changes", w.space)).content.decode()
    return len(ctx), html


@pytest.mark.parametrize("who", ["viewer", "admin"])
def test_recent_changes_query_count_is_the_same_at_3_and_30_items(open_world, who):
    w = open_world
    browser = client_for(user_of(w, who))
    browser.get(w.space.get_absolute_url())  # the first request of a session also saves it

    def add(start, n):
        for i in range(start, start + n):
            kind = i % 3
            if kind == 0:
                make_page(w, f"Page {i}")
            elif kind == 1:
                services.comment_create(actor=w.editor, target=first.item, body=f"Comment {i}")
            else:
                attach_file(w, first, name=f"file-{i}.png")

    first = make_page(w, "First")
    add(1, 2)
    few, html_few = _recent_queries(w, browser)
    add(3, 27)
    many, html_many = _recent_queries(w, browser)

    assert html_few.count('class="list-item"') == 3
    assert html_many.count('class="list-item"') == 30
    assert few == many == 6  # the header's counts come from the cache


def test_anonymous_sees_recent_changes_of_an_open_space_without_watch_button(open_world):
    w = open_world
    make_page(w, "Public")

    html = Client().get(space_url("recent-changes", w.space)).content.decode()

    assert "Public" in html
    assert "Watch this space" not in html
    assert reverse("spaces:trash", kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug}) not in html
