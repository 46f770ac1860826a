"""A field's help text is announced with the field: every ``aria-describedby`` on a form points at an element of the
page. Django's widgets point at ``<id>_helptext``; the templates once gave the help text ``<id>_help``, so screen
readers read no help on the page editor, the search box or the invitation form."""

from __future__ import annotations

import re

from django.test import Client
from django.urls import reverse

from spaces.models import SpaceRole
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for


def described_by_missing(html: str) -> list[str]:
    ids = set(re.findall(r'\bid="([^"]+)"', html))
    refs = [ref for value in re.findall(r'aria-describedby="([^"]+)"', html) for ref in value.split()]
    return [ref for ref in refs if ref not in ids]


def test_every_help_text_a_field_points_at_is_on_the_page(db):
    staff = make_user(staff=True)
    community = make_community(staff)
    space = make_space(staff, community)
    editor = make_user()
    onboard(editor, community)
    add_member(space, editor, SpaceRole.ADMIN, by=staff)
    where = {"community_slug": community.slug, "space_slug": space.slug}
    pages = {
        "page editor": (client_for(editor), reverse("spaces:page-create", kwargs=where)),
        "invitation": (client_for(editor), reverse("spaces:invite", kwargs=where)),
        "search": (Client(), reverse("search:results") + "?q=census&community=" + community.slug),
    }
    for name, (browser, url) in pages.items():
        response = browser.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "aria-describedby" in html, name  # the page has described fields to check
        assert described_by_missing(html) == [], name
