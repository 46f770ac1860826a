"""Shared by the access tests: the worlds of the matrix and small helpers to observe an answer."""

from __future__ import annotations

from django.contrib.messages import constants as message_levels
from django.contrib.messages import get_messages
from django.urls import reverse

from spaces.models import Invitation, Item, JoinRequest, Space, SpaceBan, SpaceMembership
from tests.conftest import build_world

GHOST_SLUG = "no-such-space"
VISIBILITIES = ["open", "private", "closed"]


def make_world(visibility: str):
    """``build_world`` plus a unique space name, a page in the space and an e-mail address nobody has used."""
    w = build_world(visibility)
    # A name that appears nowhere else on any page, so "the name is on the page" means "the space is shown".
    w.space.name = f"Quokka {visibility} workroom"
    w.space.save(update_fields=["name"])
    w.item_title = f"Matrix item {visibility} 7c1f"
    Item.objects.create(kind="page", space=w.space, author=w.staff, title=w.item_title)
    w.new_invitee_email = f"brand-new-{visibility}@example.org"
    return w


def space_url(w, name: str, *, slug: str | None = None, **kwargs) -> str:
    return reverse(
        f"spaces:{name}",
        kwargs={"community_slug": w.community.slug, "space_slug": slug or w.space.slug, **kwargs},
    )


def snapshot(w) -> dict:
    """Everything a space action could change, to assert "nothing changed"."""
    sid = w.space.pk
    return {
        "space": list(
            Space.objects.filter(pk=sid).values_list(
                "name", "slug", "description", "visibility", "default_role", "is_archived"
            )
        ),
        "memberships": sorted(SpaceMembership.objects.filter(space_id=sid).values_list("user_id", "role")),
        "requests": sorted(JoinRequest.objects.filter(space_id=sid).values_list("user_id", "status")),
        "invitations": sorted(Invitation.objects.filter(space_id=sid).values_list("email", "role", "status")),
        "bans": sorted(SpaceBan.objects.filter(space_id=sid).values_list("user_id", flat=True)),
    }


def error_messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request) if m.level == message_levels.ERROR]


def is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(reverse("account_login") + "?next=")


def login(client, w, persona: str) -> None:
    if persona != "anonymous":
        client.force_login(getattr(w, persona))
