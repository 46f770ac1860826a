"""Polls: who may create, vote and close; single and multiple choice; one vote per member, changeable until
closing; when results are shown; bad input; htmx; query counts (issue 4, item 7)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from analytics.models import ActivityEvent
from spaces import selectors_polls
from spaces import services as space_services
from spaces.models import Item, ItemKind, Poll, PollOption, PollVote, ResultsShown, Visibility
from spaces.services import polls as services
from tests.factories import make_user, onboard
from tests.spaces.helpers import client_for, form_errors, htmx, messages_of, space_url, template_names
from tests.spaces.test_pages import count_queries

NON_MEMBERS = ["outsider", "requester", "invited", "banned"]
VOTERS = ["viewer", "editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]


# --- Helpers ------------------------------------------------------------------------------------------------
@pytest.fixture
def open_world(world_factory):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory):
    return world_factory(Visibility.CLOSED)


def make_poll(w, question="Where should we meet in June?", options=("Nairobi", "Lima", "Online"), **kw) -> Poll:
    kw.setdefault("actor", w.editor)
    return services.poll_create(space=w.space, question=question, options=list(options), **kw)


def poll_url(name: str, poll: Poll) -> str:
    return space_url(name, poll.space, poll_id=poll.pk)


def option_ids(poll: Poll, *labels: str) -> list[int]:
    by_label = dict(PollOption.objects.filter(poll=poll).values_list("label", "pk"))
    return [by_label[label] for label in labels]


def counts(poll: Poll) -> tuple[int, dict[str, int]]:
    """(voter count, vote count per option label), straight from the database."""
    voters = Poll.objects.values_list("voter_count", flat=True).get(pk=poll.pk)
    return voters, dict(PollOption.objects.filter(poll=poll).values_list("label", "vote_count"))


def choices_of(poll: Poll, user) -> set[str]:
    return set(PollVote.objects.filter(poll=poll, user=user).values_list("option__label", flat=True))


def vote(poll: Poll, user, *labels: str) -> set[int]:
    return services.poll_vote(actor=user, poll=fresh(poll), option_ids=option_ids(poll, *labels))


def fresh(poll: Poll) -> Poll:
    return Poll.objects.select_related("item__space__community", "space__community").get(pk=poll.pk)


def browser_for(user) -> Client:
    return client_for(user) if user.is_authenticated else Client()


def snapshot(poll: Poll) -> tuple:
    return counts(poll), sorted(PollVote.objects.filter(poll=poll).values_list("user_id", "option__label"))


# --- Creating -----------------------------------------------------------------------------------------------
def test_editor_opens_a_poll_through_the_form(open_world):
    w = open_world
    closes = (timezone.localtime() + timedelta(days=7)).replace(second=0, microsecond=0)
    response = client_for(w.editor).post(
        space_url("poll-create", w.space),
        {
            "question": "  Which   day suits you? ",
            "description": "For the **June** call.",
            "options": "Monday\r\nTuesday\r\n\r\nFriday\r\n",
            "multiple": "on",
            "closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
            "results_shown": "after_close",
        },
    )

    poll = Poll.objects.get()
    assert response.status_code == 302
    assert response["Location"] == poll.get_absolute_url()
    assert (poll.question, poll.item.title, poll.item.kind, poll.item.author) == (
        "Which day suits you?",
        "Which day suits you?",
        ItemKind.POLL,
        w.editor,
    )
    assert list(poll.options.values_list("label", "position")) == [("Monday", 0), ("Tuesday", 1), ("Friday", 2)]
    assert (poll.multiple, poll.results_shown, poll.closes_at) == (True, ResultsShown.AFTER_CLOSE, closes)
    assert "<strong>June</strong>" in poll.description_html
    assert ActivityEvent.objects.filter(kind="poll_created", member=w.editor, target_id=poll.pk).exists()


def test_viewers_vote_but_cannot_create_polls(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = space_url("poll-create", w.space)

    assert browser.get(url).status_code == 403
    data = {"question": "Sneaky?", "options": "a\nb", "results_shown": "after_vote"}
    assert browser.post(url, data).status_code == 403
    with pytest.raises(PermissionDenied):
        make_poll(w, actor=w.viewer)
    assert not Poll.objects.exists()
    assert b"New poll" not in browser.get(space_url("polls", w.space)).content
    assert b"New poll" in client_for(w.editor).get(space_url("polls", w.space)).content


def test_anonymous_visitors_are_sent_to_sign_in_to_create_or_vote(open_world):
    w = open_world
    poll = make_poll(w)
    browser = Client()

    for url in [space_url("poll-create", w.space), poll_url("poll-vote", poll), poll_url("poll-close", poll)]:
        response = browser.post(url, {"option": option_ids(poll, "Lima")})
        assert response.status_code == 302 and response["Location"].startswith(reverse("account_login")), url
    assert counts(poll) == (0, {"Nairobi": 0, "Lima": 0, "Online": 0})


# --- Voting -------------------------------------------------------------------------------------------------
def test_single_choice_vote_counts_the_option_and_the_voter(open_world):
    w = open_world
    poll = make_poll(w)

    response = client_for(w.viewer).post(poll_url("poll-vote", poll), {"option": option_ids(poll, "Lima")})

    assert response.status_code == 302 and response["Location"] == poll.get_absolute_url()
    assert choices_of(poll, w.viewer) == {"Lima"}
    assert counts(poll) == (1, {"Nairobi": 0, "Lima": 1, "Online": 0})
    assert ActivityEvent.objects.filter(kind="poll_voted", member=w.viewer, target_id=poll.pk).exists()


def test_multiple_choice_counts_each_chosen_option_and_the_member_once(open_world):
    w = open_world
    poll = make_poll(w, multiple=True)

    vote(poll, w.viewer, "Nairobi", "Online")
    vote(poll, w.editor, "Online")

    assert choices_of(poll, w.viewer) == {"Nairobi", "Online"}
    assert counts(poll) == (2, {"Nairobi": 1, "Lima": 0, "Online": 2})


def test_changing_a_vote_moves_the_counts_and_keeps_one_vote_per_member(open_world):
    w = open_world
    single = make_poll(w)
    several = make_poll(w, question="Which topics?", options=("Linkage", "Privacy", "Metadata"), multiple=True)

    vote(single, w.viewer, "Lima")
    vote(single, w.viewer, "Online")
    vote(single, w.viewer, "Online")  # the same choice again changes nothing
    vote(several, w.viewer, "Linkage", "Privacy")
    vote(several, w.viewer, "Privacy", "Metadata")

    assert choices_of(single, w.viewer) == {"Online"}
    assert counts(single) == (1, {"Nairobi": 0, "Lima": 0, "Online": 1})
    assert choices_of(several, w.viewer) == {"Privacy", "Metadata"}
    assert counts(several) == (1, {"Linkage": 0, "Privacy": 1, "Metadata": 1})
    assert PollVote.objects.filter(user=w.viewer).count() == 3


def test_the_database_refuses_a_second_vote_for_the_same_option(open_world):
    w = open_world
    poll = make_poll(w)
    vote(poll, w.viewer, "Lima")
    lima = PollOption.objects.get(poll=poll, label="Lima")

    with pytest.raises(IntegrityError), transaction.atomic():
        PollVote.objects.create(poll=poll, option=lima, user=w.viewer)


@pytest.mark.parametrize("name", VOTERS)
def test_everyone_holding_a_role_may_vote(open_world, name):
    w = open_world
    poll = make_poll(w)

    response = client_for(getattr(w, name)).post(poll_url("poll-vote", poll), {"option": option_ids(poll, "Online")})

    assert response.status_code == 302
    assert counts(poll) == (1, {"Nairobi": 0, "Lima": 0, "Online": 1})


@pytest.mark.parametrize("name", NON_MEMBERS)
def test_people_without_a_role_in_an_open_space_see_the_poll_but_cannot_vote(open_world, name):
    w = open_world
    poll = make_poll(w)
    browser = client_for(getattr(w, name))

    assert browser.get(poll.get_absolute_url()).status_code == 200
    response = browser.post(poll_url("poll-vote", poll), {"option": option_ids(poll, "Online")})

    assert response.status_code == 403
    assert counts(poll)[0] == 0


def test_votes_are_refused_after_the_closing_time(open_world, time_machine):
    w = open_world
    poll = make_poll(w, closes_at=timezone.now() + timedelta(hours=2))
    vote(poll, w.viewer, "Lima")
    before = snapshot(poll)

    time_machine.move_to(timezone.now() + timedelta(hours=2, minutes=1))
    with pytest.raises(ValidationError, match="closed"):
        vote(poll, w.viewer, "Online")
    with pytest.raises(ValidationError, match="closed"):
        vote(poll, w.editor, "Online")
    response = client_for(w.viewer).post(poll_url("poll-vote", poll), {"option": option_ids(poll, "Online")})

    assert response.status_code == 302
    assert "This poll has closed: votes can no longer be cast or changed." in messages_of(response)
    assert snapshot(poll) == before


def test_a_vote_can_be_changed_until_the_poll_closes(open_world, time_machine):
    w = open_world
    poll = make_poll(w, closes_at=timezone.now() + timedelta(hours=2))
    vote(poll, w.viewer, "Lima")

    time_machine.move_to(timezone.now() + timedelta(hours=1, minutes=59))
    vote(poll, w.viewer, "Nairobi")

    assert choices_of(poll, w.viewer) == {"Nairobi"}
    assert counts(poll) == (1, {"Nairobi": 1, "Lima": 0, "Online": 0})


# --- Closing early ------------------------------------------------------------------------------------------
def test_the_author_closes_the_poll_early_and_votes_stop(open_world):
    w = open_world
    poll = make_poll(w)
    vote(poll, w.viewer, "Lima")

    response = client_for(w.editor).post(poll_url("poll-close", poll))

    assert response.status_code == 302
    assert fresh(poll).closes_at <= timezone.now()
    with pytest.raises(ValidationError):
        vote(poll, w.viewer, "Online")
    assert choices_of(poll, w.viewer) == {"Lima"}
    assert ActivityEvent.objects.filter(kind="poll_closed", member=w.editor).exists()


def test_a_moderator_may_close_any_poll_but_other_members_may_not(open_world):
    w = open_world
    poll = make_poll(w)
    other_editor = make_user("other")
    onboard(other_editor, w.community)
    space_services.space_join(actor=other_editor, space=w.space)

    for name, user in [("viewer", w.viewer), ("other editor", other_editor), ("outsider", w.outsider)]:
        assert client_for(user).post(poll_url("poll-close", poll)).status_code == 403, name
        assert fresh(poll).closes_at is None
    assert client_for(w.moderator).post(poll_url("poll-close", poll)).status_code == 302
    assert fresh(poll).closes_at is not None
    response = client_for(w.moderator).post(poll_url("poll-close", poll))
    assert "This poll is already closed." in messages_of(response)


def test_wrong_methods_get_405(open_world):
    w = open_world
    poll = make_poll(w)
    browser = client_for(w.moderator)

    assert browser.get(poll_url("poll-vote", poll)).status_code == 405
    assert browser.get(poll_url("poll-close", poll)).status_code == 405
    assert browser.post(poll.get_absolute_url()).status_code == 405
    assert browser.post(space_url("polls", w.space)).status_code == 405


# --- When results are shown ---------------------------------------------------------------------------------
def card_for(poll: Poll, user) -> dict:
    return selectors_polls.poll_card(fresh(poll), user)


def test_after_vote_results_are_hidden_until_the_member_votes(open_world):
    w = open_world
    poll = make_poll(w, results_shown=ResultsShown.AFTER_VOTE)
    vote(poll, w.moderator, "Nairobi")
    browser = client_for(w.viewer)

    page = browser.get(poll.get_absolute_url()).content.decode()
    assert not card_for(poll, w.viewer)["show_results"]
    assert "The results are shown once you have voted." in page
    assert "1 vote (100%)" not in page

    vote(poll, w.viewer, "Lima")
    page = browser.get(poll.get_absolute_url()).content.decode()

    assert card_for(poll, w.viewer)["show_results"]
    assert "1 vote (50%)" in page and "0 votes (0%)" in page
    assert "Change my vote" in page


def test_after_close_results_are_hidden_from_voters_until_the_poll_closes(open_world):
    w = open_world
    poll = make_poll(w, results_shown=ResultsShown.AFTER_CLOSE)
    vote(poll, w.viewer, "Lima")
    vote(poll, w.admin, "Lima")

    page = client_for(w.viewer).get(poll.get_absolute_url()).content.decode()
    assert "The results will be shown after the poll closes." in page
    assert "2 votes (100%)" not in page
    assert "You chose:" in page and "<strong>Lima</strong>" in page
    assert not card_for(poll, w.viewer)["show_results"]
    assert not card_for(poll, w.outsider)["show_results"]

    services.poll_close(actor=w.editor, poll=fresh(poll))

    for user in [w.viewer, w.outsider, w.anonymous]:
        assert card_for(poll, user)["show_results"]
    assert "2 votes (100%)" in Client().get(poll.get_absolute_url()).content.decode()


@pytest.mark.parametrize("name", ["editor", "moderator", "community_moderator", "admin", "staff"])
def test_the_author_and_moderators_always_see_the_results(open_world, name):
    w = open_world
    poll = make_poll(w, results_shown=ResultsShown.AFTER_CLOSE)
    vote(poll, w.viewer, "Online")

    card = card_for(poll, getattr(w, name))

    assert card["show_results"]
    assert [(o.label, o.vote_count, o.percent) for o in card["options"]] == [
        ("Nairobi", 0, 0),
        ("Lima", 0, 0),
        ("Online", 1, 100),
    ]


def test_percentages_are_of_the_members_who_voted(open_world):
    w = open_world
    poll = make_poll(w, multiple=True)
    vote(poll, w.viewer, "Nairobi", "Lima")
    vote(poll, w.editor, "Lima")
    vote(poll, w.moderator, "Online")

    card = card_for(poll, w.editor)

    assert [(o.label, o.percent, o.chosen) for o in card["options"]] == [
        ("Nairobi", 33, False),
        ("Lima", 67, True),
        ("Online", 33, False),
    ]


# --- Bad input ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"options": ["Only one"]}, "options", "Give at least 2 options to choose from."),
        ({"options": ["", "  ", "Yes"]}, "options", "Give at least 2 options to choose from."),
        ({"options": ["Yes", "No", " yes "]}, "options", "Each option must be different: “yes” appears twice."),
        ({"options": [f"Option {n}" for n in range(21)]}, "options", "Offer at most 20 options."),
        ({"question": "   "}, "question", "Write the question members will answer."),
        ({"closes_at": "past"}, "closes_at", "Choose a closing time in the future"),
        ({"results_shown": "never"}, "results_shown", "Choose when the results are shown."),
    ],
)
def test_bad_poll_input_is_refused_with_a_clear_message_and_creates_nothing(open_world, changes, field, message):
    w = open_world
    if changes.get("closes_at") == "past":
        changes = {"closes_at": timezone.now() - timedelta(minutes=1)}
    data = {"question": "Where?", "options": ["Here", "There"], **changes}

    with pytest.raises(ValidationError) as exc:
        make_poll(w, **data)

    assert any(m.startswith(message) for m in exc.value.message_dict[field])
    assert not Poll.objects.exists() and not Item.objects.filter(kind=ItemKind.POLL).exists()


def test_the_form_shows_service_errors_and_creates_nothing(open_world):
    w = open_world
    past = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")

    response = client_for(w.editor).post(
        space_url("poll-create", w.space),
        {"question": "Where?", "options": "Here\nhere", "closes_at": past, "results_shown": "after_vote"},
    )

    assert response.status_code == 200
    errors = form_errors(response)
    assert errors["options"] == ["Each option must be different: “here” appears twice."]
    assert errors["closes_at"][0].startswith("Choose a closing time in the future")
    assert not Poll.objects.exists()


@pytest.mark.parametrize(
    ("choice", "message"),
    [
        ("two", "This poll takes one choice only."),
        ("none", "Choose an option before voting."),
        ("other-poll", "That option is not part of this poll."),
        ("garbage", "That option is not part of this poll."),
    ],
)
def test_bad_votes_are_refused_with_a_clear_message_and_change_nothing(open_world, choice, message):
    w = open_world
    poll = make_poll(w)
    other = make_poll(w, question="Another?", options=("Yes", "No"))
    vote(poll, w.viewer, "Lima")
    before = snapshot(poll), snapshot(other)
    posted = {
        "two": option_ids(poll, "Nairobi", "Online"),
        "none": [],
        "other-poll": option_ids(other, "Yes"),
        "garbage": ["lima"],
    }[choice]

    with pytest.raises(ValidationError, match=message):
        services.poll_vote(actor=w.viewer, poll=fresh(poll), option_ids=posted)
    response = client_for(w.viewer).post(poll_url("poll-vote", poll), {"option": posted})

    assert message in messages_of(response)
    assert (snapshot(poll), snapshot(other)) == before
    assert choices_of(poll, w.viewer) == {"Lima"}


def test_a_multiple_choice_poll_refuses_an_option_of_another_poll_among_valid_ones(open_world):
    w = open_world
    poll = make_poll(w, multiple=True)
    other = make_poll(w, question="Another?", options=("Yes", "No"))

    with pytest.raises(ValidationError, match="That option is not part of this poll."):
        services.poll_vote(
            actor=w.viewer, poll=fresh(poll), option_ids=[*option_ids(poll, "Lima"), *option_ids(other, "No")]
        )

    assert counts(poll) == (0, {"Nairobi": 0, "Lima": 0, "Online": 0})
    assert not PollVote.objects.exists()


# --- htmx ---------------------------------------------------------------------------------------------------
def test_htmx_vote_returns_the_poll_card_with_results(open_world):
    w = open_world
    poll = make_poll(w)

    response = htmx(client_for(w.viewer), "post", poll_url("poll-vote", poll), {"option": option_ids(poll, "Lima")})

    assert response.status_code == 200
    assert template_names(response) == ["spaces/partials/poll_card.html"]
    content = response.content.decode()
    assert f'id="poll-card-{poll.pk}"' in content and "<html" not in content
    assert "1 vote (100%)" in content
    assert counts(poll) == (1, {"Nairobi": 0, "Lima": 1, "Online": 0})


def test_htmx_vote_error_is_shown_in_the_card(open_world):
    w = open_world
    poll = make_poll(w)

    response = htmx(client_for(w.viewer), "post", poll_url("poll-vote", poll), {})

    assert response.status_code == 200
    assert "Choose an option before voting." in response.content.decode()
    assert 'role="alert"' in response.content.decode()
    assert counts(poll)[0] == 0


# --- Who may see ----------------------------------------------------------------------------------------------
def poll_urls(poll: Poll) -> dict[str, str]:
    return {
        "list": space_url("polls", poll.space),
        "create": space_url("poll-create", poll.space),
        "detail": poll.get_absolute_url(),
    }


def test_outsiders_get_404_on_every_poll_url_of_a_closed_space(closed_world):
    w = closed_world
    poll = make_poll(w)

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in poll_urls(poll).items()}
        expected = {"list": 404, "create": 302 if name == "anonymous" else 404, "detail": 404}
        assert got == expected, name
    for url in [poll_url("poll-vote", poll), poll_url("poll-close", poll)]:
        assert client_for(w.outsider).post(url, {"option": option_ids(poll, "Lima")}).status_code == 404
    assert snapshot(poll) == ((0, {"Nairobi": 0, "Lima": 0, "Online": 0}), [])
    assert fresh(poll).closes_at is None


def test_non_members_of_a_private_space_get_403_on_its_polls(private_world):
    w = private_world
    poll = make_poll(w)

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        assert browser.get(space_url("polls", w.space)).status_code == 403, name
        response = browser.get(poll.get_absolute_url())
        assert response.status_code == 403, name
        assert b"Where should we meet" not in response.content


def test_members_of_a_closed_space_list_and_open_polls(closed_world):
    w = closed_world
    poll = make_poll(w)
    vote(poll, w.viewer, "Lima")

    response = client_for(w.viewer).get(space_url("polls", w.space))

    assert response.status_code == 200
    assert [p.pk for p in response.context["polls"]] == [poll.pk]
    assert response.context["polls"][0].has_voted
    assert b"You voted" in response.content
    assert client_for(w.viewer).get(poll.get_absolute_url()).status_code == 200


def test_a_trashed_poll_disappears_from_the_list_and_its_page(open_world):
    w = open_world
    poll = make_poll(w)
    kept = make_poll(w, question="Still here?")
    space_services.item_trash(actor=w.moderator, item=Item.objects.select_related("space").get(pk=poll.item_id))

    response = client_for(w.viewer).get(space_url("polls", w.space))

    assert [p.pk for p in response.context["polls"]] == [kept.pk]
    assert client_for(w.viewer).get(poll.get_absolute_url()).status_code == 404
    with pytest.raises(Http404):
        selectors_polls.get_poll_for_user(w.viewer, w.community.slug, w.space.slug, poll.pk)


def test_the_poll_list_is_newest_first_and_marks_open_closed_and_voted(open_world):
    w = open_world
    first = make_poll(w, question="First?")
    second = make_poll(w, question="Second?")
    vote(first, w.viewer, "Lima")
    services.poll_close(actor=w.editor, poll=fresh(second))

    response = client_for(w.viewer).get(space_url("polls", w.space))

    polls = response.context["polls"]
    assert [(p.question, p.has_voted, p.is_closed, p.option_count) for p in polls] == [
        ("Second?", False, True, 3),
        ("First?", True, False, 3),
    ]


def test_the_poll_page_offers_comments_to_members(open_world):
    w = open_world
    poll = make_poll(w)

    content = client_for(w.editor).get(poll.get_absolute_url()).content.decode()

    assert (
        reverse(
            "spaces:comment-create",
            kwargs={"community_slug": w.community.slug, "space_slug": w.space.slug, "item_id": poll.item_id},
        )
        in content
    )
    assert "<fieldset>" in content and "<legend>Choose one option" in content
    assert 'type="radio"' in content


def test_a_multiple_choice_poll_offers_checkboxes(open_world):
    w = open_world
    poll = make_poll(w, multiple=True)

    content = client_for(w.viewer).get(poll.get_absolute_url()).content.decode()

    assert content.count('type="checkbox" name="option"') == 3
    assert "<legend>Choose one or more options" in content


# --- Query counts -------------------------------------------------------------------------------------------
def add_polls(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        poll = make_poll(w, question=f"Poll {n}?", multiple=n % 2 == 0, closes_at=None)
        if n % 3 == 0:
            vote(poll, w.viewer, "Lima")


def test_poll_list_query_count_is_constant(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = space_url("polls", w.space)

    add_polls(w, 0, 3)
    few = count_queries(browser, url)
    add_polls(w, 3, 30)
    many = count_queries(browser, url)

    response = browser.get(url)
    assert len(response.context["polls"]) == 20  # a page of the 30
    assert response.context["page_obj"].paginator.count == 30
    assert few == many
    assert many == 6  # the header's counts come from the cache


def test_poll_page_query_count_is_constant_with_more_options_and_voters(open_world):
    w = open_world
    few_poll = make_poll(w, options=[f"Option {n}" for n in range(3)], multiple=True)
    many_poll = make_poll(w, question="Big?", options=[f"Option {n}" for n in range(20)], multiple=True)
    for poll, size in [(few_poll, 3), (many_poll, 20)]:
        for user in [w.viewer, w.editor, w.moderator]:
            vote(poll, user, *[f"Option {n}" for n in range(size)])
    browser = client_for(w.viewer)

    few = count_queries(browser, few_poll.get_absolute_url())
    many = count_queries(browser, many_poll.get_absolute_url())

    assert few == many
    assert many == 11  # + the bookmark button (one query on a detail page) and the poll_view INSERT


def test_poll_text_is_escaped(open_world):
    w = open_world
    poll = make_poll(
        w,
        question="<script>alert('q')</script>?",
        options=["<img src=x onerror=alert(1)>", "Plain"],
        description="<script>alert('d')</script>",
        results_shown=ResultsShown.AFTER_VOTE,
    )
    vote(poll, w.viewer, "Plain")

    for url in [poll.get_absolute_url(), space_url("polls", w.space)]:
        content = client_for(w.viewer).get(url).content.decode()
        assert "<script>alert" not in content and "<img src=x" not in content, url
    assert "&lt;img src=x onerror=alert(1)&gt;" in client_for(w.viewer).get(poll.get_absolute_url()).content.decode()
