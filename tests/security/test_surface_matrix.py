"""The surface matrix of issue 10: one test per (surface x person x column of the expected-access table).

Each test renders one surface once, as one person, for the content of one column, and for every kind of content
counts that item's marker in what came back: it must be absent wherever ``expected_access.py`` says "no", and
present where the table says "yes" and the surface promises to show that kind (``surfaces.py``). Surfaces that
carry content off the site (Atom and iCal feeds) never carry restricted or hidden content, whoever asks.

The world (``content_world.py``) is built once per module (and xdist worker) inside a transaction rolled back at
the end; each test runs in a savepoint of it, so a test that writes (the edit cells) changes nothing for the next.
"""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from spaces.models import Page
from tests.security.content_world import DM_MARKER, DM_PARTICIPANTS, marker, rolled_back_world
from tests.security.expected_access import COLUMNS, KINDS, PERSONS, may_edit_page, may_see
from tests.security.surfaces import SURFACES, SURFACES_BY_NAME

pytestmark = pytest.mark.heavy  # CI runs these once, in its PostgreSQL stage (tests/plugins/services.py)

OFF_SITE_NEVER = {"restricted", "hidden"}  # what feeds and webhooks never carry
# Surfaces that do not depend on the column: rendered once per person and reused by the five columns.
PER_PERSON = {
    "member_directory",
    "notifications",
    "digest_preview",
    "analytics",
    "admin",
    "notification_emails",
    "digest_email",
}
MATRIX_SURFACES = [s for s in SURFACES if s.name != "webhooks"]

CELLS = [
    pytest.param(surface.name, person, column, id=f"{surface.name}-{person}-{column}")
    for surface in MATRIX_SURFACES
    for person in PERSONS
    for column in COLUMNS
]
WEBHOOK_CELLS = [pytest.param(column, kind, id=f"webhooks-{column}-{kind}") for column in COLUMNS for kind in KINDS]
EDIT_CELLS = [pytest.param(person, column, id=f"edit-{person}-{column}") for person in PERSONS for column in COLUMNS]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("surface-matrix")


@pytest.fixture(autouse=True)
def _uploads_in_tmp():
    """Replaces tests/conftest.py's per-test media folder: the module's world keeps its files for all its tests."""
    yield


@pytest.fixture(scope="module")
def cw(django_db_setup, django_db_blocker, media):
    with django_db_blocker.unblock(), rolled_back_world(media) as world:
        world.renders = {}
        yield world


def client_as(w, name: str) -> Client:
    client = Client()
    if name != "anonymous":
        client.force_login(getattr(w, name))
    return client


def render(w, surface, name: str, column: str) -> str:
    key = (surface.name, name, None if surface.name in PER_PERSON else column)
    if key not in w.renders:
        w.renders[key] = surface.render(client_as(w, name), w, name, column)
    return w.renders[key]


@pytest.mark.django_db
@pytest.mark.parametrize("surface_name,person,column", CELLS)
def test_cell(cw, surface_name, person, column):
    surface = SURFACES_BY_NAME[surface_name]
    text = render(cw, surface, person, column)
    problems = []
    for kind in KINDS:
        allowed = may_see(person, column, kind)
        if allowed is None:
            continue
        found = text.count(marker(column, kind))
        if not allowed:
            if found:
                problems.append(f"LEAK: {kind} shown {found}x to {person}")
        elif surface.every_member and column in OFF_SITE_NEVER:
            if found:
                problems.append(f"LEAK: {column} {kind} carried off the site ({found}x)")
        elif kind in surface.kinds and (surface.audience is None or person in surface.audience):
            if not found:
                problems.append(f"MISSING: {kind} not shown to {person}, who may see it")
    if person not in DM_PARTICIPANTS and DM_MARKER in text:
        problems.append("LEAK: a direct message between two other people")
    assert not problems, problems


@pytest.mark.django_db
@pytest.mark.parametrize("column,kind", WEBHOOK_CELLS)
def test_webhook_cell(cw, column, kind):
    """A space's webhook receives the new content that every member of the space sees, and nothing else."""
    surface = SURFACES_BY_NAME["webhooks"]
    text = render(cw, surface, "staff", column)
    found = text.count(marker(column, kind))
    if column in OFF_SITE_NEVER or may_see("restricted_out", column, kind) is not True:
        assert found == 0
    elif kind in surface.kinds:
        assert found >= 1
    else:
        assert found == 0  # comments and files are not sent


@pytest.mark.django_db
@pytest.mark.parametrize("person", PERSONS)
def test_direct_messages(cw, person):
    """A conversation is read only by its participants: on the web, in the API, in e-mails and digests."""
    client = client_as(cw, person)
    urls = [
        reverse("members:messages"),
        reverse("members:conversation", kwargs={"conversation_id": cw.conversation.pk}),
        "/api/v1/me/conversations",
        f"/api/v1/me/conversations/{cw.conversation.pk}/messages",
    ]
    text = "\n".join(client.get(url).content.decode() for url in urls)
    if person in DM_PARTICIPANTS:
        assert DM_MARKER in text
    else:
        assert DM_MARKER not in text


@pytest.mark.django_db
@pytest.mark.parametrize("person,column", EDIT_CELLS)
def test_edit_page(cw, person, column):
    """The page's edit form opens, and PATCH on the API changes it, exactly for those the table lets edit."""
    page = cw.columns[column].page
    client = client_as(cw, person)
    kw = {"community_slug": cw.community.slug, "space_slug": page.space.slug, "page_slug": page.slug}
    form = client.get(reverse("spaces:page-edit", kwargs=kw))
    api = client.patch(
        f"/api/v1/communities/{cw.community.slug}/spaces/{page.space.slug}/pages/{page.slug}",
        data={"body": "Edited by the matrix", "base_version": page.version},
        content_type="application/json",
    )
    changed = Page.objects.filter(pk=page.pk, body="Edited by the matrix").exists()
    if may_edit_page(person, column):
        assert (form.status_code, api.status_code, changed) == (200, 200, True), api.content
    else:
        assert form.status_code in (302, 403, 404) and api.status_code in (401, 403, 404) and not changed
        assert marker(column, "page") not in form.content.decode() + api.content.decode()
