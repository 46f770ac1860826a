"""The review queue and moderator actions by each role, community bans, hidden content and the audit log."""

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from communities import services as community_services
from communities.models import CommunityBan
from spaces import selectors_content, selectors_moderation, selectors_questions, selectors_stream, services
from spaces.models import (
    Flag,
    FlagStatus,
    Item,
    ModerationAction,
    ModerationLogEntry,
    ModerationState,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    Visibility,
)
from spaces.services import moderation
from tests.factories import add_member, make_space, make_user, onboard
from tests.spaces.helpers import client_for, messages_of, space_url

User = get_user_model()


# --- Set-up -------------------------------------------------------------------------------------------------
@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed(world_factory):
    return world_factory(Visibility.CLOSED)


def item(pk: int) -> Item:
    return Item.objects.select_related("space__community", "author").get(pk=pk)


def flagged_page(w, title: str = "Cheap watches", *, by=None, flaggers=None, reason: str = "spam", note: str = ""):
    """A page by ``by`` (the editor) flagged by each of ``flaggers`` (the viewer)."""
    page = services.page_create(actor=by or w.editor, space=w.space, title=title, body=f"Body of {title}.")
    for flagger in flaggers or [w.viewer]:
        moderation.flag_create(actor=flagger, target=item(page.item_id), reason=reason, note=note)
    return page


def act_url(kind: str, target_id: int) -> str:
    return reverse("spaces:moderation-act", kwargs={"target_kind": kind, "target_id": target_id})


def act(user, page, action: str, message: str = "", **extra):
    return client_for(user).post(act_url("item", page.item_id), {"action": action, "message": message, **extra})


def queue_url(w) -> str:
    return space_url("review-queue", w.space)


def community_queue_url(community) -> str:
    return reverse("spaces:community-review-queue", kwargs={"community_slug": community.slug})


def log_entries(action: str):
    return ModerationLogEntry.objects.filter(action=action)


def statuses(page) -> set[str]:
    return set(Flag.objects.filter(item_id=page.item_id).values_list("status", flat=True))


# --- Who opens the queue --------------------------------------------------------------------------------------
def test_review_queue_is_for_the_space_moderators_and_above(w):
    flagged_page(w)
    expected = {
        "outsider": 403,
        "viewer": 403,
        "editor": 403,
        "banned": 403,
        "moderator": 200,
        "admin": 200,
        "community_moderator": 200,
        "community_admin": 200,
        "staff": 200,
    }

    got = {name: client_for(getattr(w, name)).get(queue_url(w)).status_code for name in expected}
    anonymous = Client().get(queue_url(w))

    assert got == expected
    assert anonymous.status_code == 302 and reverse("account_login") in anonymous.url


def test_queue_of_a_closed_space_does_not_exist_for_outsiders(closed):
    assert client_for(closed.outsider).get(queue_url(closed)).status_code == 404
    assert client_for(closed.viewer).get(queue_url(closed)).status_code == 403


def test_queue_groups_flags_by_item_with_reasons_notes_flaggers_weights_and_a_link(w):
    page = flagged_page(w, flaggers=[w.viewer], note="Links to a shop.")
    moderation.flag_create(actor=w.outsider, target=item(page.item_id), reason="abusive")
    flagged_page(w, "Off topic", flaggers=[w.viewer], reason="off_topic")

    response = client_for(w.moderator).get(queue_url(w))

    entries = response.context["entries"]
    html = response.content.decode()
    assert [len(e.flags) for e in entries] == [2, 1]  # heaviest first
    first = entries[0]
    assert (first.label, first.total_weight, first.flagger_count) == ("Cheap watches", 2, 2)
    assert dict(first.reasons) == {"Spam": 1, "Abusive or disrespectful": 1}
    assert first.url == page.get_absolute_url() and first.excerpt == "Body of Cheap watches."
    for text in ("Links to a shop.", w.viewer.public_name, w.outsider.public_name, page.get_absolute_url()):
        assert text in html
    assert response.context["review_count"] == 2


def test_moderators_see_buttons_for_what_they_may_do(w):
    flagged_page(w)
    flagged_page(w, "By the admin", by=w.admin)

    entries = {e.label: e for e in client_for(w.moderator).get(queue_url(w)).context["entries"]}

    editor_entry, admin_entry = entries["Cheap watches"], entries["By the admin"]
    assert editor_entry.can_hide and editor_entry.can_warn and editor_entry.can_remove and editor_entry.edit_url
    assert editor_entry.can_ban_space and not editor_entry.can_ban_community  # a space moderator only
    assert not admin_entry.can_ban_space  # moderators do not ban admins
    community_entries = client_for(w.community_moderator).get(queue_url(w)).context["entries"]
    assert {e.label: e.can_ban_community for e in community_entries} == {"Cheap watches": True, "By the admin": True}


# --- A moderator of one space cannot act in another ----------------------------------------------------------
def test_moderator_of_one_space_cannot_see_or_act_in_another(w, closed):
    other = make_space(w.staff, w.community, Visibility.OPEN, slug="other-space")
    other_moderator = make_user("othermod")
    add_member(other, other_moderator, SpaceRole.MODERATOR, by=w.staff)
    page = flagged_page(w)
    closed_page = flagged_page(closed)

    assert client_for(other_moderator).get(queue_url(w)).status_code == 403
    assert act(other_moderator, page, "hide").status_code == 403  # can see the open space's page: 403
    assert act(w.moderator, closed_page, "hide").status_code == 404  # cannot see the closed space at all
    assert client_for(w.moderator).get(queue_url(closed)).status_code == 404
    assert item(page.item_id).moderation_state == item(closed_page.item_id).moderation_state == "visible"
    with pytest.raises(PermissionDenied):
        moderation.item_hide(actor=other_moderator, item=item(page.item_id))


def test_viewers_and_editors_cannot_act(w):
    page = flagged_page(w)

    for user in (w.viewer, w.editor, w.outsider):
        assert act(user, page, "dismiss").status_code == 403
    assert act(w.moderator, page, "explode").status_code == 400
    assert act(w.moderator, page, "dismiss").status_code == 302
    assert client_for(w.moderator).get(act_url("item", page.item_id)).status_code == 405


# --- Each action ----------------------------------------------------------------------------------------------
def test_dismiss_shows_content_hidden_automatically_again_and_records_who_resolved(w):
    page = flagged_page(w, flaggers=[w.viewer, w.outsider, w.invited])
    assert item(page.item_id).moderation_state == ModerationState.PENDING

    response = act(w.moderator, page, "dismiss", "Fine as it is.")

    assert response.status_code == 302 and response.url == queue_url(w)
    assert messages_of(response) == ["Flags dismissed."]
    assert item(page.item_id).moderation_state == ModerationState.VISIBLE
    flags = Flag.objects.filter(item_id=page.item_id)
    assert {(f.status, f.resolved_by_id) for f in flags} == {(FlagStatus.DISMISSED, w.moderator.pk)}
    assert all(f.resolved_at for f in flags)
    entry = log_entries(ModerationAction.DISMISS).get()
    assert (entry.actor, entry.subject, entry.reason) == (w.moderator, w.editor, "Fine as it is.")
    assert entry.before == {"open_flags": 3, "moderation_state": "pending"}
    assert entry.after == {"open_flags": 0, "moderation_state": "visible"}


def test_hide_keeps_the_content_for_its_author_with_the_reason_and_from_everyone_else(w):
    page = flagged_page(w)

    response = act(w.moderator, page, "hide", "Advertising is not allowed here.")

    assert response.status_code == 302
    assert item(page.item_id).moderation_state == ModerationState.HIDDEN
    assert statuses(page) == {FlagStatus.UPHELD}
    author_view = client_for(w.editor).get(page.get_absolute_url())
    assert author_view.status_code == 200
    assert "Advertising is not allowed here." in author_view.content.decode()
    assert client_for(w.moderator).get(page.get_absolute_url()).status_code == 200
    for other in (w.viewer, w.outsider):
        assert client_for(other).get(page.get_absolute_url()).status_code == 404
    assert Client().get(page.get_absolute_url()).status_code == 404
    entry = log_entries(ModerationAction.HIDE).get()
    assert entry.before["moderation_state"] == "visible" and entry.after["moderation_state"] == "hidden"
    assert entry.target_label == "Cheap watches" and entry.space == w.space and entry.community == w.community


def test_unhide_shows_the_content_again(w):
    page = flagged_page(w)
    act(w.moderator, page, "hide")

    response = act(w.moderator, page, "unhide", "On second thoughts.")

    assert messages_of(response) == ["Shown again."]
    assert item(page.item_id).moderation_state == ModerationState.VISIBLE
    assert client_for(w.viewer).get(page.get_absolute_url()).status_code == 200
    assert log_entries(ModerationAction.UNHIDE).get().reason == "On second thoughts."


def test_warn_records_the_message_for_the_author(w):
    page = flagged_page(w)

    empty = act(w.moderator, page, "warn", "  ")
    response = act(w.moderator, page, "warn", "Please keep to the topic.")

    assert "Write the message" in messages_of(empty)[0]
    assert messages_of(response) == ["Warning recorded; the author will be told."]
    entry = log_entries(ModerationAction.WARN).get()
    assert (entry.actor, entry.subject, entry.reason) == (w.moderator, w.editor, "Please keep to the topic.")
    assert statuses(page) == {FlagStatus.UPHELD}


def test_remove_moves_the_content_to_the_trash(w):
    page = flagged_page(w)

    act(w.moderator, page, "remove", "Spam.")

    assert item(page.item_id).deleted_at is not None
    assert statuses(page) == {FlagStatus.UPHELD}
    assert log_entries(ModerationAction.REMOVE).get().after["deleted"] is True
    assert client_for(w.editor).get(page.get_absolute_url()).status_code == 404


def test_ban_from_the_space_takes_the_author_out(w):
    page = flagged_page(w)

    act(w.moderator, page, "ban_space", "Repeated spam.")

    assert SpaceBan.objects.filter(space=w.space, user=w.editor, reason="Repeated spam.").exists()
    assert not SpaceMembership.objects.filter(space=w.space, user=w.editor).exists()
    assert statuses(page) == {FlagStatus.UPHELD}
    entry = log_entries(ModerationAction.BAN_SPACE).get(actor=w.moderator)
    assert (entry.subject, entry.space, entry.before["role"]) == (w.editor, w.space, "Editor")


def test_moderators_cannot_ban_an_admin_author(w):
    page = flagged_page(w, by=w.admin)

    assert act(w.moderator, page, "ban_space").status_code == 403
    assert not SpaceBan.objects.filter(user=w.admin).exists()


def test_space_moderators_cannot_ban_from_the_community(w):
    page = flagged_page(w)

    assert act(w.moderator, page, "ban_community").status_code == 403
    assert not CommunityBan.objects.exists()


def test_community_ban_blocks_every_space_including_one_created_afterwards(w):
    earlier = make_space(w.staff, w.community, Visibility.PRIVATE, slug="earlier")
    add_member(earlier, w.editor, SpaceRole.EDITOR, by=w.staff)
    page = flagged_page(w)

    response = act(w.community_moderator, page, "ban_community", "Spam across spaces.")
    later = make_space(w.staff, w.community, Visibility.OPEN, slug="later")

    assert messages_of(response) == ["The author is banned from the community and every space in it."]
    assert CommunityBan.objects.filter(community=w.community, user=w.editor).exists()
    assert set(SpaceBan.objects.filter(user=w.editor).values_list("space__slug", flat=True)) == {
        w.space.slug,
        "earlier",
        "later",
    }
    assert not SpaceMembership.objects.filter(user=w.editor).exists()
    with pytest.raises(PermissionDenied):
        services.space_join(actor=User.objects.get(pk=w.editor.pk), space=later)
    entry = log_entries(ModerationAction.BAN_COMMUNITY).get()
    assert (entry.community, entry.subject, entry.space) == (w.community, w.editor, None)
    assert entry.before["space_roles"] == {w.space.slug: "Editor", "earlier": "Editor"}


def test_lifting_a_community_ban_keeps_an_earlier_space_ban(w):
    other = make_space(w.staff, w.community, Visibility.OPEN, slug="other")
    ban = community_services.community_ban(actor=w.community_moderator, community=w.community, user=w.viewer)
    assert SpaceBan.objects.filter(user=w.viewer).count() == 2
    space_ban = SpaceBan.objects.get(space=other, user=w.viewer)
    with pytest.raises(ValidationError, match="whole community"):
        services.member_unban(actor=w.community_moderator, ban=space_ban)

    community_services.community_unban(actor=w.community_moderator, ban=ban)

    assert not CommunityBan.objects.exists()
    assert not SpaceBan.objects.filter(user=w.viewer).exists()
    assert SpaceBan.objects.filter(user=w.banned, space=w.space).exists()  # banned from the space before
    assert log_entries(ModerationAction.UNBAN).get().subject == w.viewer


def test_community_unban_from_the_queue_page(w):
    community_services.community_ban(actor=w.staff, community=w.community, user=w.viewer, reason="Spam")
    ban = CommunityBan.objects.get()
    url = reverse("spaces:community-unban", kwargs={"community_slug": w.community.slug, "ban_id": ban.pk})

    assert client_for(w.moderator).post(url).status_code == 403
    listed = client_for(w.community_moderator).get(community_queue_url(w.community))
    response = client_for(w.community_moderator).post(url)

    assert list(listed.context["bans"]) == [ban]
    assert response.status_code == 302 and not CommunityBan.objects.exists()


def test_community_moderators_and_staff_cannot_be_banned_from_the_community(w):
    for target in (w.community_admin, w.staff, w.community_moderator):
        with pytest.raises(PermissionDenied):
            community_services.community_ban(actor=w.community_moderator, community=w.community, user=target)


# --- Hidden content vanishes from lists for others --------------------------------------------------------------
def test_hidden_question_and_comment_vanish_from_lists_streams_and_threads_but_not_for_author_or_moderators(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Buy followers?", body="Cheap")
    page = services.page_create(actor=w.admin, space=w.space, title="Guide", body="Text")
    comment = services.comment_create(actor=w.editor, target=page.item, body="Visit my shop")
    for target in (question.item, comment.item):
        moderation.flag_create(actor=w.viewer, target=item(target.pk), reason="spam")
        moderation.item_hide(actor=w.moderator, item=item(target.pk), reason="Spam")

    def seen(user):
        questions = set(selectors_questions.question_list(user, w.space).values_list("pk", flat=True))
        stream = set(selectors_stream.space_stream(w.space, user).values_list("pk", flat=True))
        thread = {c.pk for c in selectors_content.comment_thread(item(page.item_id), user)}
        return question.pk in questions, question.item_id in stream, comment.pk in thread

    assert seen(w.viewer) == (False, False, False)
    assert seen(w.outsider) == (False, False, False)
    assert seen(w.editor) == (True, True, True)  # the author
    assert seen(w.moderator) == (True, True, True)
    assert client_for(w.viewer).get(question.get_absolute_url()).status_code == 404
    author_page = client_for(w.editor).get(question.get_absolute_url()).content.decode()
    assert "A moderator has hidden this question." in author_page and "Reason: Spam" in author_page


# --- Community queue, profiles and restricted content -----------------------------------------------------------
def test_community_queue_lists_every_space_and_members_profiles(w):
    second = make_space(w.staff, w.community, Visibility.CLOSED, slug="second")
    add_member(second, w.editor, SpaceRole.EDITOR, by=w.staff)
    add_member(second, w.viewer, SpaceRole.VIEWER, by=w.staff)
    flagged_page(w)
    page = services.page_create(actor=w.editor, space=second, title="Closed spam", body="x")
    moderation.flag_create(actor=w.viewer, target=item(page.item_id), reason="spam")
    moderation.flag_create(actor=w.viewer, target=w.editor, reason="abusive", note="Insults")
    outside = make_user("stranger")
    moderation.flag_create(actor=w.viewer, target=outside, reason="spam")

    response = client_for(w.community_moderator).get(community_queue_url(w.community))

    assert response.status_code == 200
    labels = {e.label for e in response.context["entries"]}
    assert labels == {"Cheap watches", "Closed spam", w.editor.public_name}
    assert client_for(w.moderator).get(community_queue_url(w.community)).status_code == 403
    assert client_for(w.viewer).get(community_queue_url(w.community)).status_code == 403
    site = client_for(w.staff).get(reverse("spaces:site-review-queue"))
    assert outside.public_name in {e.label for e in site.context["entries"]}
    assert client_for(w.community_moderator).get(reverse("spaces:site-review-queue")).status_code == 403


def test_community_moderator_warns_and_bans_a_flagged_member(w):
    moderation.flag_create(actor=w.viewer, target=w.editor, reason="abusive")
    url = act_url("profile", w.editor.pk)
    browser = client_for(w.community_moderator)

    browser.post(url, {"action": "warn", "message": "Be kind.", "community": w.community.slug})
    moderation.flag_create(actor=w.outsider, target=w.editor, reason="abusive")
    browser.post(url, {"action": "ban_community", "message": "Abuse.", "community": w.community.slug})

    assert log_entries(ModerationAction.WARN).get().community == w.community
    assert CommunityBan.objects.filter(user=w.editor, community=w.community).exists()
    assert set(Flag.objects.values_list("status", flat=True)) == {FlagStatus.UPHELD}
    assert client_for(w.moderator).post(url, {"action": "warn", "message": "x"}).status_code == 403


def test_flags_on_a_restricted_page_go_to_admins_only(w):
    page = services.page_create(actor=w.editor, space=w.space, title="Private notes", body="x")
    services.page_set_restrictions(
        actor=w.editor, page=page, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    moderation.flag_create(actor=w.viewer, target=item(page.item_id), reason="misleading")

    moderator_labels = {e.label for e in selectors_moderation.review_queue(w.moderator, space=w.space)}
    admin_labels = {e.label for e in selectors_moderation.review_queue(w.admin, space=w.space)}

    assert moderator_labels == set() and admin_labels == {"Private notes"}


# --- The audit log ------------------------------------------------------------------------------------------------
def test_every_action_is_logged_and_the_log_is_shown_to_moderators_only(w):
    pages = [flagged_page(w, f"Page {n}") for n in range(5)]
    for page, action in zip(pages, ["dismiss", "hide", "warn", "remove", "ban_space"], strict=True):
        act(w.moderator, page, action, f"Because {action}")
    act(w.moderator, pages[1], "unhide")
    log_url = space_url("moderation-log", w.space)

    response = client_for(w.moderator).get(log_url)

    entries = response.context["entries"]
    actions = [e.action for e in entries if e.actor == w.moderator]
    assert sorted(actions) == sorted(["dismiss", "hide", "warn", "remove", "ban_space", "unhide"])
    assert [e.subject for e in entries if e.actor == w.staff] == [w.banned]  # the world's own ban, logged too
    assert "Because warn" in response.content.decode()
    for user, code in [(w.viewer, 403), (w.editor, 403), (w.admin, 200), (w.community_moderator, 200)]:
        assert client_for(user).get(log_url).status_code == code
    community_log = reverse("spaces:community-moderation-log", kwargs={"community_slug": w.community.slug})
    assert len(client_for(w.community_moderator).get(community_log).context["entries"]) == len(entries)
    assert client_for(w.moderator).get(community_log).status_code == 403


def test_the_log_cannot_be_edited_or_deleted(w, admin_client_for):
    act(w.moderator, flagged_page(w), "hide", "Spam")
    entry = ModerationLogEntry.objects.get(action="hide")
    log_url = space_url("moderation-log", w.space)
    community_log = reverse("spaces:community-moderation-log", kwargs={"community_slug": w.community.slug})

    assert client_for(w.moderator).post(log_url, {"reason": "changed"}).status_code == 405
    assert client_for(w.community_moderator).post(community_log).status_code == 405
    admin = admin_client_for()
    change = reverse("admin:spaces_moderationlogentry_change", args=[entry.pk])
    delete = reverse("admin:spaces_moderationlogentry_delete", args=[entry.pk])
    assert admin.post(change, {"reason": "changed", "action": "dismiss"}).status_code == 403
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert (entry.reason, entry.action) == ("Spam", "hide")


@pytest.fixture
def admin_client_for(db):
    def make():
        root = User.objects.create_user(email="root@example.org", password="x", is_staff=True, is_superuser=True)
        return client_for(root)

    return make


# --- Query counts ------------------------------------------------------------------------------------------------
def queries_for(browser, url: str) -> int:
    assert browser.get(url).status_code == 200
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def add_flagged(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        author = w.editor if n % 2 else w.moderator
        page = services.page_create(actor=author, space=w.space, title=f"Flagged {n}", body=f"Text {n}")
        moderation.flag_create(actor=w.viewer, target=item(page.item_id), reason="spam", note=f"Note {n}")
        if n % 3 == 0:
            moderation.flag_create(actor=w.outsider, target=item(page.item_id), reason="abusive")
        if n % 5 == 0:
            question = services.question_ask(actor=w.editor, space=w.space, title=f"Question {n}", body="Q")
            answer = services.answer_post(actor=w.admin, question=question, body="A")
            comment = services.comment_create(actor=w.editor, target=page.item, body="C")
            for target in (question.item, answer.item, comment.item):
                moderation.flag_create(actor=w.viewer, target=item(target.pk), reason="spam")
    moderation.flag_create(actor=w.viewer, target=make_user(f"member{start}"), reason="spam")


def test_review_queue_query_count_is_the_same_for_3_and_30_flagged_items(w):
    browser = client_for(w.moderator)

    add_flagged(w, 0, 3)
    few = queries_for(browser, queue_url(w))
    add_flagged(w, 3, 30)
    many = queries_for(browser, queue_url(w))

    assert len(browser.get(queue_url(w)).context["entries"]) == 30 + 6 * 3
    assert few == many


def test_community_queue_and_log_query_counts_are_the_same_for_3_and_30_flagged_items(w):
    onboard(w.editor, w.community)
    browser = client_for(w.community_moderator)
    url = community_queue_url(w.community)
    log_url = reverse("spaces:community-moderation-log", kwargs={"community_slug": w.community.slug})

    add_flagged(w, 0, 3)
    moderation.item_hide(actor=w.moderator, item=Item.objects.get(title="Flagged 1"))
    few, few_log = queries_for(browser, url), queries_for(browser, log_url)
    add_flagged(w, 3, 30)
    for n in range(3, 30, 4):
        moderation.item_hide(actor=w.moderator, item=Item.objects.get(title=f"Flagged {n}"))
    many, many_log = queries_for(browser, url), queries_for(browser, log_url)

    assert (few, few_log) == (many, many_log)
