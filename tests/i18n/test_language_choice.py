"""Choosing the interface language (issue 8, item 4): visitors by cookie or browser, members by the choice stored on
their profile, which wins on every device; e-mails go out in the recipient's language."""

from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from members import services as member_services
from members.language import LANGUAGE_SESSION_KEY
from members.models import Notification, Profile
from spaces import services
from spaces.models import SpaceRole, Visibility
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.i18n.helpers import visible_text
from tests.spaces.helpers import client_for

STRONG_PASSWORD = "correct-horse-battery-staple-42"


def language_of_page(response) -> str:
    return response.headers["Content-Language"]


def test_visitors_get_english_by_default(db):
    response = Client().get(reverse("home"))

    assert language_of_page(response) == "en"
    assert "Sign in" in visible_text(response.content.decode())


def test_visitors_get_their_browser_language(db):
    response = Client(HTTP_ACCEPT_LANGUAGE="fr-FR,fr;q=0.9,en;q=0.5").get(reverse("home"))

    assert language_of_page(response) == "fr"
    assert "Se connecter" in visible_text(response.content.decode())


def test_a_visitor_switches_language_with_the_footer_form(db):
    browser = Client()

    response = browser.post(reverse("set_language"), {"language": "fr", "next": reverse("communities:list")})
    page = browser.get(response.url)

    assert response.status_code == 302 and response.url == reverse("communities:list")
    assert browser.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"
    assert language_of_page(page) == "fr"


def test_the_switcher_leads_back_to_the_page_it_was_used_on(db):
    browser = Client()
    page = reverse("communities:list") + "?page=1"

    response = browser.post(reverse("set_language"), {"language": "fr"}, HTTP_REFERER=f"http://testserver{page}")

    assert response.status_code == 302 and response.url == f"http://testserver{page}"


def test_the_switcher_is_a_labelled_form_with_a_button_on_every_page(db):
    html = Client().get(reverse("home")).content.decode()

    assert f'action="{reverse("set_language")}"' in html
    assert '<label for="language-switcher-select">Language</label>' in html
    assert '<option value="fr" lang="fr">Français</option>' in html
    assert '<button class="btn btn-secondary btn-small" type="submit">Change language</button>' in html


def test_a_member_who_switches_language_keeps_it_on_the_profile(db):
    member = make_user("amina")
    browser = client_for(member)

    response = browser.post(reverse("set_language"), {"language": "fr", "next": reverse("home")})

    assert response.status_code == 302
    assert Profile.objects.get(user=member).preferred_language == "fr"
    assert language_of_page(browser.get(reverse("home"))) == "fr"


def test_an_unknown_language_changes_nothing(db):
    member = make_user("amina")
    browser = client_for(member)

    browser.post(reverse("set_language"), {"language": "xx", "next": reverse("home")})

    assert Profile.objects.get(user=member).preferred_language == "en"
    assert language_of_page(browser.get(reverse("home"))) == "en"


def test_the_stored_choice_wins_over_the_cookie_and_browser_of_a_new_device(db):
    member = make_user("amina")
    member_services.profile_language_set(actor=member, user=member, language="fr")
    device = Client(HTTP_ACCEPT_LANGUAGE="en")
    device.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"

    device.post(reverse("account_login"), {"login": member.email, "password": "test-pass-123"})
    page = device.get(reverse("home"))

    assert language_of_page(page) == "fr"
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fr"  # the device remembers it after sign-out
    device.post(reverse("account_logout"))
    assert language_of_page(device.get(reverse("home"))) == "fr"


def test_a_member_who_never_chose_reads_english_whatever_the_browser_says(db):
    member = make_user("amina")
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")
    browser.force_login(member)

    assert language_of_page(browser.get(reverse("home"))) == "en"


def test_choosing_a_language_on_the_profile_form_applies_at_once(db):
    member = make_user("amina")
    browser = client_for(member)
    browser.get(reverse("home"))  # the session now holds English
    data = {"display_name": "Amina", "time_zone": "UTC", "preferred_language": "fr", "organisation_type": ""}

    response = browser.post(reverse("members:profile-edit"), data)

    assert response.status_code == 302
    assert browser.session[LANGUAGE_SESSION_KEY] == "fr"
    assert language_of_page(browser.get(reverse("home"))) == "fr"


def test_a_visitor_who_signs_up_in_french_keeps_french(db, django_capture_on_commit_callbacks):
    browser = Client(HTTP_ACCEPT_LANGUAGE="fr")

    with django_capture_on_commit_callbacks(execute=True):
        browser.post(
            reverse("account_signup"),
            {"email": "amina@example.org", "password1": STRONG_PASSWORD, "password2": STRONG_PASSWORD},
        )

    assert Profile.objects.get(user__email="amina@example.org").preferred_language == "fr"


def test_a_reply_is_e_mailed_in_the_recipients_language(db, django_capture_on_commit_callbacks):
    staff = make_user("personnel", staff=True)
    community = make_community(staff, slug="statistiques")
    space = make_space(staff, community, Visibility.OPEN, slug="couplage")
    amina, bertrand = make_user("amina"), make_user("bertrand")
    member_services.profile_language_set(actor=amina, user=amina, language="fr")
    for member in (amina, bertrand):
        onboard(member, community)
        add_member(space, member, SpaceRole.EDITOR, by=staff)
    page = services.page_create(actor=amina, space=space, title="Guide du couplage", body="Texte.")
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        services.comment_create(actor=bertrand, target=page.item, body="Merci !")

    [email] = [message for message in mail.outbox if amina.email in message.to]
    assert "vous a répondu" in email.subject + email.body
    assert "You get this e-mail" not in email.body


def test_moderators_each_read_a_join_request_in_their_own_language(db, django_capture_on_commit_callbacks):
    """One event, several moderators: the stored text is composed in each recipient's language."""
    staff = make_user("personnel", staff=True)
    community = make_community(staff, slug="statistiques")
    space = make_space(staff, community, Visibility.PRIVATE, slug="couplage")
    claire, david = make_user("claire"), make_user("david")
    member_services.profile_language_set(actor=claire, user=claire, language="fr")
    for moderator in (claire, david):
        onboard(moderator, community)
        add_member(space, moderator, SpaceRole.MODERATOR, by=staff)
    newcomer = make_user("newcomer")
    onboard(newcomer, community)

    with django_capture_on_commit_callbacks(execute=True):
        services.join_request_create(actor=newcomer, space=space, message="Bonjour")

    texts = dict(Notification.objects.filter(kind="join_request").values_list("recipient__email", "text"))
    assert texts[claire.email] == f"{newcomer.public_name} demande à rejoindre {space.name}"
    assert texts[david.email] == f"{newcomer.public_name} asks to join {space.name}"
