"""A member who chose French reads every page in French (issue 8, item 4): no English interface string of the
catalog, and no English word, in the visible text of the main pages. The content is written in French here, so
whatever English remains comes from the interface."""

from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from members import services as member_services
from spaces import services
from spaces.models import SpaceRole, Visibility
from spaces.services import events as event_services
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.i18n.helpers import english_leftovers, visible_text
from tests.spaces.helpers import client_for


@pytest.fixture
def french_world(db):
    staff = make_user("personnel", staff=True)
    community = make_community(staff, slug="statistiques-asie", questions=["Quels sont vos projets ?"])
    space = make_space(staff, community, Visibility.OPEN, slug="couplage-registres")
    amina = make_user("amina")
    member_services.profile_language_set(actor=amina, user=amina, language="fr")  # before anything is sent to her
    collegue = make_user("bertrand")
    for member in (amina, collegue):
        onboard(member, community)
    add_member(space, amina, SpaceRole.ADMIN, by=staff)
    add_member(space, collegue, SpaceRole.EDITOR, by=staff)
    page = services.page_create(
        actor=amina, space=space, title="Guide du couplage", body="Méthodes de **couplage** probabiliste."
    )
    services.comment_create(actor=collegue, target=page.item, body="Très utile, merci.")
    question = services.question_ask(
        actor=amina, space=space, title="Quelle clé utiliser pour apparier ?", body="Nos fichiers diffèrent."
    )
    services.answer_post(actor=collegue, question=question, body="Le numéro fiscal, quand il existe.")
    start = (timezone.now() + timedelta(days=40)).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    event = event_services.event_create(
        actor=amina,
        space=space,
        title="Atelier de couplage",
        description="Comparaison des méthodes.",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        time_zone="Asia/Bangkok",
        venue="Centre de conférences, Bangkok",
        capacity=30,
    )
    event_services.event_registration_set(actor=collegue, event=event, status="going")
    return amina, space, page, question, event


def _pages(space, page, question, event) -> dict[str, str]:
    return {
        "home": reverse("home"),
        "space home": space.get_absolute_url(),
        "page": page.get_absolute_url(),
        "question": question.get_absolute_url(),
        "event": event.get_absolute_url(),
        "notifications": reverse("members:notifications"),
        "notification settings": reverse("members:notification-preferences"),
        "profile settings": reverse("members:profile-edit"),
    }


def test_member_who_chose_french_sees_no_english_interface_text(french_world):
    amina, space, page, question, event = french_world
    browser = client_for(amina)

    leftovers = {}
    for name, url in _pages(space, page, question, event).items():
        response = browser.get(url)
        assert response.status_code == 200, name
        assert response.headers["Content-Language"] == "fr", name
        assert '<html lang="fr"' in response.content.decode(), name
        found = english_leftovers(response.content.decode())
        if found:
            leftovers[name] = found

    assert leftovers == {}


def test_the_same_pages_are_in_english_for_a_member_who_did_not_choose(french_world):
    amina, space, page, question, event = french_world
    member_services.profile_language_set(actor=amina, user=amina, language="en")
    browser = client_for(amina)

    text = visible_text(browser.get(event.get_absolute_url()).content.decode())

    assert "Registration" in text and "Inscription" not in text


FRENCH_MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()


def test_dates_are_written_with_french_month_names(french_world):
    amina, space, page, question, event = french_world
    browser = client_for(amina)  # her time zone is UTC

    event_text = visible_text(browser.get(event.get_absolute_url()).content.decode())
    page_text = visible_text(browser.get(page.get_absolute_url()).content.decode())

    starts = event.starts_at.astimezone(UTC)
    assert f"{starts.day} {FRENCH_MONTHS[starts.month - 1]}" in event_text
    edited = page.last_edited_at.astimezone(UTC)
    assert f"{edited.day} {FRENCH_MONTHS[edited.month - 1]} {edited.year}" in page_text


def test_date_inputs_keep_the_iso_value_browsers_need_in_french(french_world):
    amina, space, page, question, event = french_world

    html = client_for(amina).get(reverse("search:results"), {"q": "couplage", "date_from": "2030-03-03"}).content

    assert b'value="2030-03-03"' in html
