"""The canary test of issue 10: one marker string in every private field, found nowhere it must not be.

``CANARY`` is seeded into the private content of the world of ``content_world.py``: the private space's, the
closed space's, the restricted pages' and the hidden items' titles, bodies, comments, answer bodies, file names and
file contents, event venues and meeting links, poll options, course lesson text, and a direct message between two
other people. Each copy carries a tag saying where it lives (``CANARY-7f3a9-closed-...``), so a person who may see
some of it (a viewer sees the closed space, not the hidden items) is checked against the rest.

Then every surface of ``surfaces.py`` is rendered as every person, for every column; every e-mail in the outbox
after the notifications and the digests of everyone; every export (the member's own data export ZIP, the
community member CSV, the analytics CSV exports, the space pages export ZIP); and every webhook payload. Whatever a
person must not see, by the literal table in ``expected_access.py``, must appear there zero times (compared
without case, so a slug made from a title counts too).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from django.test import Client
from django.urls import reverse

from tests.security.content_world import DM_PARTICIPANTS, marker, rolled_back_world
from tests.security.expected_access import COLUMNS, PERSONS, may_see
from tests.security.surfaces import SURFACES, digest_email, emails_to

pytestmark = pytest.mark.heavy  # CI runs these once, in its PostgreSQL stage (tests/plugins/services.py)

CANARY = "CANARY-7f3a9"
SECRET_COLUMNS = ["private", "closed", "restricted", "hidden"]
DM_TAG = "dm"
PER_PERSON = {
    "member_directory",
    "notifications",
    "digest_preview",
    "analytics",
    "admin",
    "notification_emails",
    "digest_email",
}
PERSON_SURFACES = [s for s in SURFACES if s.name != "webhooks"]


def canary(tag: str) -> str:
    return f"{CANARY}-{tag}-"


def canary_markers(column: str, kind: str) -> str:
    """The open column keeps its ordinary markers (it is public); every other column carries the canary."""
    if column == "open":
        return marker(column, kind)
    return f"{canary(column)}{kind}"


def forbidden_tags(person: str) -> list[str]:
    """Where the person may not look, read from the literal table (the page of each column stands for it)."""
    tags = [column for column in SECRET_COLUMNS if may_see(person, column, "page") is False]
    if person not in DM_PARTICIPANTS:
        tags.append(DM_TAG)
    return tags


def leaks(text: str, tags: list[str]) -> list[str]:
    lowered = text.lower()
    return [tag for tag in tags if canary(tag).lower() in lowered]


@pytest.fixture(scope="module")
def media(tmp_path_factory):
    return tmp_path_factory.mktemp("canary")


@pytest.fixture(autouse=True)
def _uploads_in_tmp():
    """The module's world keeps its files for all its tests (replaces tests/conftest.py's per-test folder)."""
    yield


@pytest.fixture(scope="module")
def cw(django_db_setup, django_db_blocker, media):
    with (
        django_db_blocker.unblock(),
        rolled_back_world(media, markers=canary_markers, dm_secret=f"{canary(DM_TAG)}message") as world,
    ):
        yield world


def client_as(w, name: str) -> Client:
    client = Client()
    if name != "anonymous":
        client.force_login(getattr(w, name))
    return client


def unzip_text(data: bytes) -> str:
    """Every member's name and text in a ZIP archive."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return "\n".join(n + "\n" + archive.read(n).decode(errors="replace") for n in archive.namelist())


def response_text(response) -> str:
    body = b"".join(response.streaming_content) if getattr(response, "streaming", False) else response.content
    if body[:2] == b"PK":
        return unzip_text(body)
    return body.decode(errors="replace")


CELLS = [
    pytest.param(surface.name, person, id=f"{surface.name}-{person}")
    for surface in PERSON_SURFACES
    for person in PERSONS
]


def test_world_seeds_the_canary_everywhere(cw):
    """The canary is really there: each secret column's content holds it, and the direct message too."""
    from members.models import Message
    from spaces.models import Event, FileVersion, Item, Lesson, PollOption

    for column in SECRET_COLUMNS:
        space = cw.spaces[column]
        titled = Item.objects.filter(space=space, title__icontains=canary(column)).count()
        assert titled >= (3 if column == "restricted" else 7), (column, titled)
        assert FileVersion.objects.filter(asset__space=space, asset__name__icontains=CANARY).exists()
        assert Lesson.objects.filter(course__space=space, page__body__contains=canary(column)).exists()
        if column != "restricted":
            event = Event.objects.get(item__space=space, item__title__contains=CANARY)
            assert canary(column) in event.venue and canary(column) in event.online_url
            assert PollOption.objects.filter(poll__item__space=space, label__contains=canary(column)).exists()
    assert Message.objects.filter(body__contains=canary(DM_TAG)).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("surface_name,person", CELLS)
def test_surface_never_shows_the_canary(cw, surface_name, person):
    surface = next(s for s in PERSON_SURFACES if s.name == surface_name)
    tags = forbidden_tags(person)
    columns = [COLUMNS[0]] if surface_name in PER_PERSON else COLUMNS
    found = {}
    for column in columns:
        text = surface.render(client_as(cw, person), cw, person, column)
        if hits := leaks(text, tags):
            found[column] = hits
    assert not found, f"{surface_name} shows {person} what they may not see: {found}"


@pytest.mark.django_db
@pytest.mark.parametrize("person", PERSONS)
def test_emails_never_carry_the_canary(cw, person):
    """Every notification e-mail and digest e-mail the person got (the whole outbox, filtered by recipient)."""
    text = emails_to(cw, person) + digest_email(None, cw, person, "open")
    if person in ("viewer", "moderator"):
        assert text, "the notifications and the digest of a member must have been sent"
    assert not leaks(text, forbidden_tags(person))


@pytest.mark.django_db
@pytest.mark.parametrize("person", [p for p in PERSONS if p != "anonymous"])
def test_member_data_export_never_carries_the_canary(cw, person):
    """The person's own data export ZIP (what they wrote, their notifications and conversations)."""
    from members.exports import data_export_build, data_export_request

    export = data_export_request(actor=getattr(cw, person))
    assert data_export_build(export_id=export.pk) == "ready"
    export.refresh_from_db()
    with export.file.open("rb") as archive:
        text = unzip_text(archive.read())
    assert text
    assert not leaks(text, forbidden_tags(person))


@pytest.mark.django_db
@pytest.mark.parametrize("person", PERSONS)
def test_other_exports_never_carry_the_canary(cw, person):
    """The community member CSV and each space's pages export, as the person asks for them."""
    client = client_as(cw, person)
    urls = [reverse("communities:members-csv", kwargs={"community_slug": cw.community.slug})]
    urls += [
        reverse("spaces:export-pages", kwargs={"community_slug": cw.community.slug, "space_slug": space.slug})
        for space in cw.spaces.values()
    ]
    text = "\n".join(response_text(client.get(url)) for url in urls)
    assert not leaks(text, forbidden_tags(person))


@pytest.mark.django_db
def test_webhook_payloads_never_carry_restricted_hidden_or_private_messages(cw):
    """A space's webhook gets what every member of that space sees: never a restricted page, a hidden item or a
    direct message, in any space."""
    text = "\n".join(body for bodies in cw.webhook_bodies.values() for body in bodies)
    assert canary("closed") in text  # the closed space's own webhook does get the closed space's content
    assert not leaks(text, ["restricted", "hidden", DM_TAG])
