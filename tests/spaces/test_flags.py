"""Flags: who may flag what, the form and the button, one open flag each, weights from history, auto-hiding."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.template import Context, Template
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from analytics.models import ActivityEvent
from spaces import selectors_stream, services
from spaces.models import Flag, FlagStatus, Item, ModerationAction, ModerationLogEntry, ModerationState, Visibility
from spaces.services import moderation
from tests.factories import make_user, onboard
from tests.spaces.helpers import client_for, form_errors, htmx, messages_of, template_names


# --- Set-up -------------------------------------------------------------------------------------------------
@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed(world_factory):
    return world_factory(Visibility.CLOSED)


def make_page(w, title: str = "Linkage keys", *, by=None):
    return services.page_create(actor=by or w.editor, space=w.space, title=title, body="Some text.")


def flag_url(kind: str, target_id: int) -> str:
    return reverse("spaces:flag", kwargs={"target_kind": kind, "target_id": target_id})


def item(pk: int) -> Item:
    return Item.objects.select_related("space__community", "author").get(pk=pk)


def member(w, name: str):
    """A signed-up member who has read the community's guidelines (a flagger with no history)."""
    person = make_user(name)
    onboard(person, w.community)
    return person


def with_history(w, name: str, *, upheld: int, dismissed: int):
    """A member whose earlier flags were resolved: ``upheld`` hidden by a moderator, ``dismissed`` dismissed."""
    person = member(w, name)
    for n in range(upheld + dismissed):
        target = item(make_page(w, f"{name} target {n}").item_id)
        moderation.flag_create(actor=person, target=target, reason="spam")
        if n < upheld:
            moderation.item_hide(actor=w.moderator, item=target)
        else:
            moderation.flags_dismiss(actor=w.moderator, target=target)
    return person


def render_button(target, user) -> str:
    request = RequestFactory().get("/somewhere/")
    request.user = user
    template = Template("{% load space_moderation %}{% flag_button target %}")
    return template.render(Context({"target": target, "user": user, "request": request}))


# --- Flagging through the views -----------------------------------------------------------------------------
def test_member_flags_a_page_with_a_reason_and_is_sent_back_with_thanks(w):
    page = make_page(w)

    response = client_for(w.viewer).post(flag_url("item", page.item_id), {"reason": "spam", "note": "Advert."})

    flag = Flag.objects.get()
    assert (flag.item_id, flag.space_id, flag.community_id) == (page.item_id, w.space.pk, w.community.pk)
    assert (flag.flagger, flag.target_author, flag.reason, flag.note) == (w.viewer, w.editor, "spam", "Advert.")
    assert flag.status == FlagStatus.OPEN and flag.weight == 1
    assert response.status_code == 302 and response.url == page.get_absolute_url()
    assert "The moderators will review" in messages_of(response)[0]
    assert ActivityEvent.objects.filter(kind="flagged", member=w.viewer, space_id=w.space.pk).exists()


def test_flag_page_shows_a_form_and_htmx_swaps_in_a_thank_you(w):
    page = make_page(w)
    browser = client_for(w.viewer)

    form_page = browser.get(flag_url("item", page.item_id))
    done = htmx(browser, "post", flag_url("item", page.item_id), {"reason": "off_topic"})

    assert form_page.status_code == 200 and "spaces/moderation_flag.html" in template_names(form_page)
    assert done.status_code == 200 and template_names(done)[0] == "spaces/partials/flag_done.html"
    assert Flag.objects.filter(flagger=w.viewer, reason="off_topic").exists()


def test_other_reason_needs_a_note(w):
    page = make_page(w)

    response = client_for(w.viewer).post(flag_url("item", page.item_id), {"reason": "other", "note": " "})

    assert response.status_code == 200
    assert "a note is needed" in form_errors(response)["note"][0]
    assert not Flag.objects.exists()


def test_one_open_flag_per_person_and_target_with_a_clear_message(w):
    page = make_page(w)
    browser = client_for(w.viewer)
    browser.post(flag_url("item", page.item_id), {"reason": "spam"})

    again = htmx(browser, "post", flag_url("item", page.item_id), {"reason": "abusive"})

    assert Flag.objects.count() == 1
    assert template_names(again)[0] == "spaces/partials/flag_form.html"
    assert "already flagged this" in again.content.decode()


def test_a_member_may_flag_again_once_their_flag_was_resolved(w):
    page = make_page(w)
    moderation.flag_create(actor=w.viewer, target=item(page.item_id), reason="spam")
    moderation.flags_dismiss(actor=w.moderator, target=item(page.item_id))

    moderation.flag_create(actor=w.viewer, target=item(page.item_id), reason="misleading")

    assert list(Flag.objects.order_by("pk").values_list("status", flat=True)) == ["dismissed", "open"]


def test_authors_cannot_flag_their_own_content_and_anonymous_visitors_are_sent_to_sign_in(w):
    page = make_page(w)

    own = client_for(w.editor).post(flag_url("item", page.item_id), {"reason": "spam"})
    response = Client().post(flag_url("item", page.item_id), {"reason": "spam"})

    assert own.status_code == 403
    assert response.status_code == 302 and reverse("account_login") in response.url
    assert not Flag.objects.exists()
    with pytest.raises(PermissionDenied):
        moderation.flag_create(actor=w.editor, target=item(page.item_id), reason="spam")


def test_outsider_cannot_flag_what_they_cannot_see(closed):
    page = make_page(closed)

    response = client_for(closed.outsider).post(flag_url("item", page.item_id), {"reason": "spam"})
    missing = client_for(closed.viewer).post(flag_url("item", 999_999), {"reason": "spam"})

    assert response.status_code == 404 and missing.status_code == 404
    assert not Flag.objects.exists()


def test_flag_view_refuses_other_methods(w):
    page = make_page(w)

    assert client_for(w.viewer).put(flag_url("item", page.item_id)).status_code == 405
    assert client_for(w.viewer).get(flag_url("video", page.item_id)).status_code == 404


def test_comments_questions_and_answers_can_be_flagged(w):
    page = make_page(w)
    comment = services.comment_create(actor=w.editor, target=page.item, body="Buy now")
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="Hi")
    answer = services.answer_post(actor=w.moderator, question=question, body="Names")

    for target in (comment.item, question.item, answer.item):
        client_for(w.viewer).post(flag_url("item", target.pk), {"reason": "spam"})

    assert set(Flag.objects.values_list("item__kind", flat=True)) == {"comment", "question", "answer"}


def test_member_flags_a_profile_which_belongs_to_no_space(w):
    response = client_for(w.viewer).post(flag_url("profile", w.editor.pk), {"reason": "abusive", "note": "Rude"})

    flag = Flag.objects.get()
    assert response.status_code == 302 and response.url == w.editor.get_absolute_url()
    assert (flag.item, flag.space, flag.community, flag.target_author) == (None, None, None, w.editor)
    assert client_for(w.viewer).post(flag_url("profile", w.viewer.pk), {"reason": "spam"}).status_code == 403


def test_member_flags_an_accepted_paper(w):
    from datetime import timedelta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from spaces.services.events import event_create, event_registration_set
    from spaces.services.papers import event_papers_configure, paper_decide, paper_submit

    starts = timezone.now() + timedelta(days=10)
    event = event_create(
        actor=w.moderator,
        space=w.space,
        title="Workshop",
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        time_zone="UTC",
    )
    event_papers_configure(actor=w.moderator, event=event, papers_open=True)
    event_registration_set(actor=w.editor, event=event, status="going")
    paper = paper_submit(
        actor=w.editor, event=event, title="Linkage", abstract="We link.", upload=SimpleUploadedFile("p.txt", b"x")
    )

    hidden = client_for(w.viewer).post(flag_url("paper", paper.pk), {"reason": "spam"})
    paper_decide(actor=w.moderator, paper=paper, accept=True, message="")
    shown = client_for(w.viewer).post(flag_url("paper", paper.pk), {"reason": "spam"})

    flag = Flag.objects.get()
    assert hidden.status_code == 404 and shown.status_code == 302
    assert (flag.item, flag.space, flag.target_author) == (None, w.space, w.editor)


# --- The flag button ------------------------------------------------------------------------------------------
def test_flag_button_is_shown_to_members_but_not_to_the_author_or_anonymous_visitors(w):
    page = make_page(w)
    target = item(page.item_id)

    assert f'action="{flag_url("item", page.item_id)}"' in render_button(target, w.viewer)
    assert 'name="reason"' in render_button(page, w.outsider)  # a typed row is flagged through its item
    assert render_button(target, w.editor).strip() == ""
    assert render_button(target, AnonymousUser()).strip() == ""


def test_flag_button_costs_no_query(w):
    target = item(make_page(w).item_id)
    viewer = w.viewer
    render_button(target, viewer)  # the member's roles are loaded once per request

    with CaptureQueriesContext(connection) as ctx:
        render_button(target, viewer)

    assert len(ctx.captured_queries) == 0


def test_page_question_and_comment_thread_carry_the_flag_button(w):
    page = make_page(w)
    services.comment_create(actor=w.editor, target=page.item, body="A comment")
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="Hi")
    services.answer_post(actor=w.moderator, question=question, body="Names")
    browser = client_for(w.viewer)

    page_html = browser.get(page.get_absolute_url()).content.decode()
    question_html = browser.get(question.get_absolute_url()).content.decode()

    assert page_html.count('class="flag-button') == 2  # the page and its comment
    assert question_html.count('class="flag-button') == 2  # the question and its answer


def test_each_flag_form_on_a_page_labels_its_own_fields(w):
    page = make_page(w)
    comment = services.comment_create(actor=w.editor, target=page.item, body="A comment")
    html = client_for(w.viewer).get(page.get_absolute_url()).content.decode()

    for item_id in (page.item_id, comment.item_id):
        form_id = f"flag-item-{item_id}"
        assert html.count(f'id="{form_id}-reason_0"') == 1  # ids never repeat between the forms
        assert f'for="{form_id}-note"' in html and f'id="{form_id}-note"' in html


def test_flag_form_speaks_the_reader_s_language(w):
    target = item(make_page(w).item_id)
    with translation.override("fr"):
        french = render_button(target, w.viewer)
    english = render_button(target, w.viewer)

    assert "What is wrong?" in english
    assert "What is wrong?" not in french


# --- Weights --------------------------------------------------------------------------------------------------
def test_weight_is_one_without_enough_history(w):
    assert moderation.flag_weight(member(w, "newcomer")) == 1
    assert moderation.flag_weight(with_history(w, "twice", upheld=2, dismissed=0)) == 1


def test_weight_is_one_and_a_half_with_three_earlier_flags_mostly_upheld(w):
    trusted = with_history(w, "trusted", upheld=3, dismissed=1)  # 75 % upheld

    assert moderation.flag_weight(trusted) == Decimal("1.5")
    flag = moderation.flag_create(actor=trusted, target=item(make_page(w, "Fresh").item_id), reason="spam")
    assert flag.weight == Decimal("1.5")


def test_weight_is_one_half_below_thirty_percent_upheld_and_one_in_between(w):
    assert moderation.flag_weight(with_history(w, "noisy", upheld=0, dismissed=3)) == Decimal("0.5")
    assert moderation.flag_weight(with_history(w, "middling", upheld=1, dismissed=1 + 1)) == 1  # 33 %


def test_weights_follow_the_settings(w, settings):
    settings.FLAG_TRUSTED_MIN_FLAGS, settings.FLAG_TRUSTED_WEIGHT = 1, 2
    assert moderation.flag_weight(with_history(w, "one", upheld=1, dismissed=0)) == 2


# --- Hidden automatically -------------------------------------------------------------------------------------
def test_flags_weighing_three_from_two_trusted_people_hide_the_content_pending_review(w):
    page = make_page(w)
    first, second = (with_history(w, name, upheld=3, dismissed=0) for name in ("ana", "ben"))

    moderation.flag_create(actor=first, target=item(page.item_id), reason="spam")
    assert item(page.item_id).moderation_state == ModerationState.VISIBLE
    moderation.flag_create(actor=second, target=item(page.item_id), reason="abusive")

    assert item(page.item_id).moderation_state == ModerationState.PENDING
    entry = ModerationLogEntry.objects.get(action=ModerationAction.AUTO_HIDE)
    assert (entry.actor, entry.subject, entry.space, entry.target_id) == (None, w.editor, w.space, page.item_id)
    assert entry.after["moderation_state"] == "pending"


def test_three_members_with_no_history_hide_content(w):
    page = make_page(w)
    for name in ("a", "b", "c"):
        moderation.flag_create(actor=member(w, name), target=item(page.item_id), reason="spam")

    assert item(page.item_id).moderation_state == ModerationState.PENDING


def test_one_person_cannot_hide_content_however_trusted(w, settings):
    settings.FLAG_TRUSTED_WEIGHT = 3
    page = make_page(w)
    trusted = with_history(w, "trusted", upheld=3, dismissed=0)

    moderation.flag_create(actor=trusted, target=item(page.item_id), reason="spam")
    with pytest.raises(ValidationError, match="already flagged"):
        moderation.flag_create(actor=trusted, target=item(page.item_id), reason="spam")

    assert Flag.objects.get(item_id=page.item_id).weight == 3
    assert item(page.item_id).moderation_state == ModerationState.VISIBLE


def test_flags_weighing_less_than_three_do_not_hide_content(w):
    page = make_page(w)
    noisy = [with_history(w, f"noisy{n}", upheld=0, dismissed=3) for n in range(4)]
    for person in noisy:
        moderation.flag_create(actor=person, target=item(page.item_id), reason="spam")

    assert sum(f.weight for f in Flag.objects.filter(item_id=page.item_id)) == 2
    assert item(page.item_id).moderation_state == ModerationState.VISIBLE
    assert not ModerationLogEntry.objects.filter(action=ModerationAction.AUTO_HIDE).exists()


def test_content_hidden_automatically_leaves_the_stream_for_others_but_not_for_its_author(w):
    page = make_page(w)
    for name in ("a", "b", "c"):
        moderation.flag_create(actor=member(w, name), target=item(page.item_id), reason="spam")

    def stream_ids(user):
        return set(selectors_stream.space_stream(w.space, user).values_list("pk", flat=True))

    assert page.item_id not in stream_ids(w.viewer)
    assert page.item_id in stream_ids(w.editor)  # its author
    assert page.item_id in stream_ids(w.moderator)
    author_view = client_for(w.editor).get(page.get_absolute_url())
    assert "hidden automatically while the moderators review" in author_view.content.decode()
    assert client_for(w.viewer).get(page.get_absolute_url()).status_code == 404


def test_the_last_flagger_is_sent_to_the_space_when_the_content_is_hidden(w):
    page = make_page(w)
    for name in ("a", "b"):
        moderation.flag_create(actor=member(w, name), target=item(page.item_id), reason="spam")

    response = client_for(w.viewer).post(flag_url("item", page.item_id), {"reason": "spam"})

    assert response.status_code == 302 and response.url == w.space.get_absolute_url()
