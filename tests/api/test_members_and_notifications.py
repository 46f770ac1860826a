"""The member directory (public profile fields only, signed-in members only) and one's own notifications."""

from __future__ import annotations

import pytest

from members.models import Notification
from spaces import services
from spaces.models import SpaceRole, Visibility
from tests.api.support import ApiClient, new_token
from tests.factories import add_member, make_space, make_user

PUBLIC_FIELDS = {"username", "display_name", "job_title", "organisation", "country", "expertise", "url"}


@pytest.fixture
def member(db):
    user = make_user("amina", organisation="Statistics Fiji", country="Fiji", job_title="Statistician")
    user.profile.bio = "Census work."
    user.profile.save()
    return user


def test_directory_shows_public_profile_fields_only(member):
    api = ApiClient(new_token(make_user("reader")))
    listing = api.get("/members?q=fiji").json()
    assert listing["count"] == 1
    row = listing["results"][0]
    assert set(row) == PUBLIC_FIELDS
    assert (row["organisation"], row["country"]) == ("Statistics Fiji", "Fiji")
    assert member.email not in str(listing)
    detail = api.get(f"/members/{member.username}").json()
    assert detail["bio"] == "Census work." and "email" not in detail
    assert api.get("/members/nobody-here").status_code == 404


def test_deleted_and_inactive_members_are_not_listed(member):
    from members import services as member_services

    api = ApiClient(new_token(make_user("reader")))
    gone = make_user("gone")
    member_services.account_delete(actor=gone, user=gone)
    usernames = {row["username"] for row in api.get("/members?limit=100").json()["results"]}
    assert member.username in usernames and gone.username not in usernames
    assert api.get(f"/members/{gone.username}").status_code == 404


def test_me_shows_my_own_email_and_the_token_scope(member):
    me = ApiClient(new_token(member, "read")).get("/me").json()
    assert (me["email"], me["token_scope"]) == (member.email, "read")


def test_notifications_are_mine_only_and_can_be_marked_read(staff, community):
    space = make_space(staff, community, Visibility.PRIVATE, slug="wg")
    reader, other = make_user("reader"), make_user("other")
    add_member(space, reader, SpaceRole.VIEWER)
    add_member(space, other, SpaceRole.VIEWER)
    for user in (reader, other):
        services.watch_toggle(actor=user, space=space)
    page = services.page_create(actor=staff, space=space, title="Minutes of the meeting")
    api = ApiClient(new_token(reader))
    listing = api.get("/me/notifications?unread=true").json()
    mine = [n for n in listing["results"] if n["kind"] == "new_item"]
    assert len(mine) == 1 and "Minutes of the meeting" in mine[0]["message"]
    assert mine[0]["url"].endswith(page.get_absolute_url()) and mine[0]["space"] == f"{community.slug}/wg"
    assert listing["unread_count"] == listing["count"]
    theirs = Notification.objects.get(recipient=other, item=page.item)
    assert api.post(f"/me/notifications/{theirs.pk}/read").status_code == 404
    assert api.post(f"/me/notifications/{mine[0]['id']}/read").json()["read_at"] is not None
    assert Notification.objects.get(recipient=other, item=page.item).read_at is None
    done = api.post("/me/notifications/read-all").json()
    assert done["count"] == listing["count"] - 1
    assert api.get("/me/notifications?unread=true").json()["count"] == 0


def test_notifications_about_what_i_can_no_longer_see_are_not_listed(staff, community):
    space = make_space(staff, community, Visibility.PRIVATE, slug="wg")
    reader = make_user("reader")
    add_member(space, reader, SpaceRole.VIEWER)
    services.watch_toggle(actor=reader, space=space)
    services.page_create(actor=staff, space=space, title="Soon hidden")
    api = ApiClient(new_token(reader))
    assert any("Soon hidden" in n["message"] for n in api.get("/me/notifications").json()["results"])
    services.member_ban(actor=staff, space=space, user=reader, reason="test")
    assert not any("Soon hidden" in n["message"] for n in api.get("/me/notifications").json()["results"])
