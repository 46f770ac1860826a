"""A member's roles are read once per request and written into list filters as id lists (``access_context``).

Whatever changes a role (a service, the admin, a cascade, a plain ORM write), lists and predicates must answer
from the new roles at once, even for a user object that already holds the old ones.
"""

from guardian.shortcuts import assign_perm, remove_perm

from spaces import services
from spaces.models import Item, SpaceBan, SpaceMembership, SpaceRole, Visibility
from spaces.permissions import can_read_space
from tests.spaces.test_pages import make_page


def _sees(user, item) -> bool:
    return Item.objects.visible_to(user).filter(pk=item.pk).exists()


def test_a_membership_written_outside_the_services_opens_the_closed_space_at_once(world_factory):
    w = world_factory(Visibility.CLOSED)
    page = make_page(w)
    assert not _sees(w.outsider, page.item) and not can_read_space(w.outsider, w.space)

    SpaceMembership.objects.create(space=w.space, user=w.outsider, role=SpaceRole.VIEWER)

    assert _sees(w.outsider, page.item) and can_read_space(w.outsider, w.space)


def test_a_membership_deleted_outside_the_services_closes_the_space_at_once(world_factory):
    w = world_factory(Visibility.CLOSED)
    page = make_page(w)
    assert _sees(w.viewer, page.item)

    SpaceMembership.objects.filter(space=w.space, user=w.viewer).delete()

    assert not _sees(w.viewer, page.item) and not can_read_space(w.viewer, w.space)


def test_a_ban_written_outside_the_services_takes_effect_at_once(world_factory):
    w = world_factory(Visibility.CLOSED)
    page = make_page(w)
    assert _sees(w.viewer, page.item)

    SpaceBan.objects.create(space=w.space, user=w.viewer, banned_by=w.staff, reason="test")

    assert not _sees(w.viewer, page.item)


def test_naming_someone_on_a_restricted_page_is_seen_at_once(world_factory):
    w = world_factory(Visibility.OPEN)
    page = make_page(w)
    services.page_set_restrictions(actor=w.admin, page=page, restrict_view=True, restrict_edit=False)
    assert not _sees(w.viewer, page.item)

    assign_perm("spaces.view_restricted_item", w.viewer, page.item)
    assert _sees(w.viewer, page.item)

    remove_perm("spaces.view_restricted_item", w.viewer, page.item)
    assert not _sees(w.viewer, page.item)
