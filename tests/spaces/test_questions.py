"""Questions and answers: who may read, ask, answer, vote and accept; sorting, tags, similar questions,
edit history, bad input, XSS and query counts (issue 4, item 1)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.test import Client
from django.urls import reverse

from spaces import selectors_questions, services
from spaces.models import Answer, Item, Question, SpaceRole, Visibility, Vote
from spaces.permissions import can_see_item
from tests.factories import add_member, make_space, make_user
from tests.spaces.helpers import client_for, form_errors, htmx, messages_of, space_url
from tests.spaces.test_pages import count_queries

LOGIN_URL = reverse("account_login")
READERS = ["viewer", "editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
WRITERS = ["editor", "moderator", "admin", "community_moderator", "community_admin", "staff"]
NON_MEMBERS = ["outsider", "requester", "invited", "banned"]


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


def ask(w, title="How do we link census and tax records?", body="We have **no** common key.", *, by=None, tags=""):
    return services.question_ask(actor=by or w.editor, space=w.space, title=title, body=body, tags=tags)


def answer(question, by, body="Use probabilistic linkage on name and date of birth."):
    return services.answer_post(actor=by, question=question, body=body)


def q_url(name: str, question: Question, **kwargs) -> str:
    space = question.space
    return reverse(
        f"spaces:{name}",
        kwargs={
            "community_slug": space.community.slug,
            "space_slug": space.slug,
            "question_slug": question.slug,
            **kwargs,
        },
    )


def vote_url(item: Item) -> str:
    return space_url("vote", item.space, item_id=item.pk)


def browser_for(user) -> Client:
    return client_for(user) if user.is_authenticated else Client()


def question_urls(question: Question, ans: Answer) -> dict[str, str]:
    return {
        "list": space_url("questions", question.space),
        "ask": space_url("question-ask", question.space),
        "similar": space_url("question-similar", question.space) + "?title=census",
        "detail": q_url("question-detail", question),
        "edit": q_url("question-edit", question),
        "history": q_url("question-history", question),
        "diff": q_url("question-diff", question) + "?from=1&to=1",
        "answer-edit": q_url("answer-edit", question, answer_id=ans.pk),
        "answer-history": q_url("answer-history", question, answer_id=ans.pk),
        "answer-diff": q_url("answer-diff", question, answer_id=ans.pk) + "?from=1&to=1",
    }


def refreshed(obj):
    obj.refresh_from_db()
    return obj


# --- Who may read -------------------------------------------------------------------------------------------
def test_outsiders_and_anonymous_get_404_on_every_question_url_of_a_closed_space(closed_world):
    w = closed_world
    question = ask(w)
    ans = answer(question, w.moderator)
    urls = question_urls(question, ans)

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        expected = dict.fromkeys(urls, 404)
        if name == "anonymous":  # login_required answers first, before anything about the space is revealed
            expected.update({"ask": 302, "edit": 302, "answer-edit": 302})
        assert got == expected, name


def test_outsiders_get_404_when_posting_to_a_closed_space_question(closed_world):
    w = closed_world
    question = ask(w)
    ans = answer(question, w.moderator)
    posts = {
        "answer": (q_url("answer-post", question), {"body": "Leaked?"}),
        "vote": (vote_url(question.item), {"vote": "up"}),
        "accept": (q_url("answer-accept", question), {"answer": ans.pk}),
        "edit": (q_url("question-edit", question), {"title": "Hacked", "body": ""}),
        "ask": (space_url("question-ask", w.space), {"title": "Hacked"}),
    }

    got = {key: client_for(w.outsider).post(url, data).status_code for key, (url, data) in posts.items()}

    assert got == dict.fromkeys(posts, 404)
    question = refreshed(question)
    assert (question.title, question.answer_count, question.vote_score, question.accepted_answer_id) == (
        "How do we link census and tax records?",
        1,
        0,
        None,
    )


def test_non_members_of_a_private_space_get_403_on_its_questions(private_world):
    w = private_world
    question = ask(w)
    ans = answer(question, w.moderator)
    urls = {
        k: v
        for k, v in question_urls(question, ans).items()
        if k in {"list", "similar", "detail", "history", "diff", "answer-history", "answer-diff"}
    }

    for name in ["anonymous", *NON_MEMBERS]:
        browser = browser_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 403), name
    assert b"census" not in client_for(w.outsider).get(urls["detail"]).content


def test_members_of_a_private_space_read_questions_answers_and_history(private_world):
    w = private_world
    question = ask(w)
    ans = answer(question, w.moderator)
    urls = {
        k: v
        for k, v in question_urls(question, ans).items()
        if k in {"list", "similar", "detail", "history", "diff", "answer-history", "answer-diff"}
    }

    for name in READERS:
        browser = client_for(getattr(w, name))
        got = {key: browser.get(url).status_code for key, url in urls.items()}
        assert got == dict.fromkeys(urls, 200), name


def test_anonymous_visitors_read_an_open_space_questions_but_must_sign_in_to_act(open_world):
    w = open_world
    question = ask(w, tags="linkage")
    ans = answer(question, w.moderator)
    browser = Client()

    listing = browser.get(space_url("questions", w.space))
    detail = browser.get(q_url("question-detail", question))
    history = browser.get(q_url("question-history", question))
    posts = [
        (space_url("question-ask", w.space), {"title": "Anonymous?"}),
        (q_url("answer-post", question), {"body": "Anonymous answer"}),
        (vote_url(ans.item), {"vote": "up"}),
        (q_url("answer-accept", question), {"answer": ans.pk}),
    ]

    assert listing.status_code == detail.status_code == history.status_code == 200
    assert b"How do we link census" in listing.content
    assert b"Use probabilistic linkage" in detail.content
    assert b"Sign in to answer" in detail.content
    for url, data in posts:
        response = browser.post(url, data)
        assert response.status_code == 302 and response.url.startswith(LOGIN_URL), url
    assert Question.objects.count() == 1 and Answer.objects.count() == 1
    assert Vote.objects.count() == 0 and refreshed(question).accepted_answer_id is None


def test_questions_tab_shows_in_the_space_header_for_readers(open_world):
    response = Client().get(open_world.space.get_absolute_url())
    assert space_url("questions", open_world.space).encode() in response.content


def test_every_question_view_refuses_the_wrong_method(open_world):
    w = open_world
    question = ask(w)
    ans = answer(question, w.moderator)
    browser = client_for(w.editor)

    assert browser.get(q_url("answer-post", question)).status_code == 405
    assert browser.get(q_url("answer-accept", question)).status_code == 405
    assert browser.get(vote_url(ans.item)).status_code == 405
    assert browser.post(space_url("questions", w.space)).status_code == 405
    assert browser.post(space_url("question-similar", w.space)).status_code == 405


# --- Asking and answering -----------------------------------------------------------------------------------
@pytest.mark.parametrize("persona", WRITERS)
def test_contributors_ask_a_question_with_tags(open_world, persona):
    w = open_world
    browser = client_for(getattr(w, persona))

    response = browser.post(
        space_url("question-ask", w.space),
        {"title": "  Which   linkage keys? ", "body": "Details *here*", "tags": "Linkage, census, linkage"},
    )

    question = Question.objects.get()
    assert response.status_code == 302 and response.url == question.get_absolute_url()
    assert question.title == "Which linkage keys?"
    assert question.item.author == getattr(w, persona) and question.item.kind == "question"
    assert "<em>here</em>" in question.body_html
    assert sorted(t.name for t in question.tags.all()) == ["Linkage", "census"]
    assert question.versions.count() == 1


@pytest.mark.parametrize("visibility", [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED])
def test_viewers_cannot_ask_answer_or_vote(world_factory, visibility):
    w = world_factory(visibility)
    question = ask(w)
    browser = client_for(w.viewer)

    got = {
        "ask-form": browser.get(space_url("question-ask", w.space)).status_code,
        "ask": browser.post(space_url("question-ask", w.space), {"title": "Viewer question"}).status_code,
        "answer": browser.post(q_url("answer-post", question), {"body": "Viewer answer"}).status_code,
        "vote": browser.post(vote_url(question.item), {"vote": "up"}).status_code,
        "accept": browser.post(q_url("answer-accept", question), {"answer": ""}).status_code,
    }

    assert got == dict.fromkeys(got, 403)
    assert Question.objects.count() == 1 and Answer.objects.count() == 0 and Vote.objects.count() == 0
    assert b"Your answer" not in browser.get(q_url("question-detail", question)).content


def test_non_members_of_an_open_space_cannot_ask_or_answer(open_world):
    w = open_world
    question = ask(w)
    for name in NON_MEMBERS:
        browser = client_for(getattr(w, name))
        assert browser.post(space_url("question-ask", w.space), {"title": "Hi"}).status_code == 403, name
        assert browser.post(q_url("answer-post", question), {"body": "Hi"}).status_code == 403, name
    assert Question.objects.count() == 1 and Answer.objects.count() == 0


def test_editor_answers_and_the_count_follows_trash_and_restore(open_world):
    w = open_world
    question = ask(w)

    response = client_for(w.moderator).post(q_url("answer-post", question), {"body": "Try **blocking** first."})

    ans = Answer.objects.get()
    assert response.status_code == 302 and response.url.endswith(f"#answer-{ans.pk}")
    assert "<strong>blocking</strong>" in ans.body_html
    assert refreshed(question).answer_count == 1
    services.item_trash(actor=w.moderator, item=ans.item)
    assert refreshed(question).answer_count == 0
    services.item_restore(actor=w.admin, item=refreshed(ans.item))
    assert refreshed(question).answer_count == 1


def test_trashing_a_question_takes_its_answers_and_their_comments_with_it(open_world):
    w = open_world
    question = ask(w)
    ans = answer(question, w.moderator)
    comment = services.comment_create(actor=w.editor, target=ans.item, body="Thanks!")

    services.item_trash(actor=w.editor, item=question.item)

    gone = Item.objects.filter(pk__in=[question.item_id, ans.item_id, comment.item_id], deleted_at__isnull=False)
    assert gone.count() == 3
    assert client_for(w.editor).get(q_url("question-detail", question)).status_code == 404


def test_comments_work_on_questions_and_answers(open_world):
    w = open_world
    question = ask(w)
    ans = answer(question, w.moderator)
    browser = client_for(w.editor)

    browser.post(space_url("comment-create", w.space, item_id=question.item_id), {"body": "Which years?"})
    response = htmx(browser, "post", space_url("comment-create", w.space, item_id=ans.item_id), {"body": "Nice one"})

    assert response.status_code == 200 and b"Nice one" in response.content
    page = client_for(w.viewer).get(q_url("question-detail", question)).content.decode()
    assert "Which years?" in page and "Nice one" in page


# --- Editing and history --------------------------------------------------------------------------------------
def test_editing_a_question_keeps_history_with_a_word_diff(open_world):
    w = open_world
    question = ask(w, body="Link on name.")
    browser = client_for(w.editor)

    response = browser.post(
        q_url("question-edit", question),
        {"title": question.title, "body": "Link on name and birth date.", "tags": "linkage", "summary": "More keys"},
    )
    diff = browser.get(q_url("question-diff", question) + "?from=1&to=2")
    history = browser.get(q_url("question-history", question))

    question = refreshed(question)
    assert response.status_code == 302
    assert question.version == 2 and question.versions.count() == 2
    assert question.versions.first().history_change_reason == "More keys"
    assert question.versions.first().history_user == w.editor
    assert '<ins class="diff-ins"> and birth date</ins>' in diff.content.decode()
    assert b"More keys" in history.content


def test_editing_an_answer_keeps_history_and_the_diff_shows_it(open_world):
    w = open_world
    question = ask(w)
    ans = answer(question, w.moderator, body="Use names.")

    services.answer_edit(actor=w.moderator, answer=ans, body="Use names and dates.", summary="dates")
    diff = client_for(w.viewer).get(q_url("answer-diff", question, answer_id=ans.pk) + "?from=1&to=2")

    assert ans.versions.count() == 2
    assert '<ins class="diff-ins">' in diff.content.decode() and "dates" in diff.content.decode()


def test_restoring_a_question_version_writes_a_new_version_and_keeps_the_tags(open_world):
    w = open_world
    question = ask(w, body="Link on name.")
    services.question_edit(
        actor=w.editor, question=question, title="Linking census to tax", body="Vandalised.", tags="linkage"
    )
    browser = client_for(w.editor)

    history = browser.get(q_url("question-history", question)).content.decode()
    restore = q_url("question-restore", question, version=1)
    response = browser.post(restore)

    question = refreshed(question)
    assert f'action="{restore}"' in history and "Restore version 1" in history  # a button for the older version
    assert response.status_code == 302 and "Version 1 restored as a new version." in messages_of(response)
    assert (question.title, question.body, question.version) == (
        "How do we link census and tax records?",
        "Link on name.",
        3,
    )
    assert question.versions.first().history_change_reason == "Restored from version 1"
    assert question.versions.count() == 3  # the vandalised version stays in the history
    assert list(question.tags.values_list("name", flat=True)) == ["linkage"]
    assert Item.objects.get(pk=question.item_id).title == question.title  # lists and search show it too


def test_restoring_an_answer_version_and_what_restoring_refuses(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    ans = answer(question, w.editor, body="Use names and dates of birth.")
    services.answer_edit(actor=w.editor, answer=ans, body="Spam link.")
    other = make_user("other-editor")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)

    refused = client_for(other).post(q_url("answer-restore", question, answer_id=ans.pk, version=1))
    viewer_history = client_for(w.viewer).get(q_url("answer-history", question, answer_id=ans.pk)).content.decode()
    missing = client_for(w.editor).post(q_url("answer-restore", question, answer_id=ans.pk, version=9))
    assert refreshed(ans).body == "Spam link."
    restored = client_for(w.moderator).post(q_url("answer-restore", question, answer_id=ans.pk, version=1))
    same = client_for(w.moderator).post(q_url("answer-restore", question, answer_id=ans.pk, version=1))
    anonymous = Client().post(q_url("answer-restore", question, answer_id=ans.pk, version=2))

    assert refused.status_code == 403 and "Restore" not in viewer_history
    assert "There is no version 9 of this answer." in messages_of(missing)
    assert "Version 1 restored as a new version." in messages_of(restored)
    assert "Version 1 reads as the current one: nothing to restore." in messages_of(same)
    assert anonymous.status_code == 302 and anonymous["Location"].startswith(LOGIN_URL)
    ans = refreshed(ans)
    assert (ans.body, ans.version, ans.versions.count()) == ("Use names and dates of birth.", 3, 3)
    assert ans.versions.first().history_user == w.moderator


def test_only_the_author_or_a_moderator_edits_a_question_or_answer(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    ans = answer(question, w.editor)
    other = make_user("other-editor")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)

    assert client_for(other).get(q_url("question-edit", question)).status_code == 403
    assert client_for(other).post(q_url("answer-edit", question, answer_id=ans.pk), {"body": "x"}).status_code == 403
    assert client_for(w.moderator).get(q_url("question-edit", question)).status_code == 200
    services.answer_edit(actor=w.moderator, answer=ans, body="Moderated text.")
    assert refreshed(ans).body == "Moderated text."
    with pytest.raises(PermissionDenied):
        services.question_edit(actor=other, question=question, title="Mine now", body="")
    assert refreshed(question).title == "How do we link census and tax records?"


# --- Votes ----------------------------------------------------------------------------------------------------
def test_one_vote_per_person_that_can_be_withdrawn(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    browser = client_for(w.moderator)

    first = browser.post(vote_url(question.item), {"vote": "up"})
    again = browser.post(vote_url(question.item), {"vote": "up"})
    assert first.status_code == again.status_code == 302
    assert "You have already voted for this." in messages_of(again)
    assert refreshed(question).vote_score == 1 and Vote.objects.count() == 1

    browser.post(vote_url(question.item), {"vote": "withdraw"})
    assert refreshed(question).vote_score == 0 and Vote.objects.count() == 0


def test_nobody_votes_for_their_own_question_or_answer(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    ans = answer(question, w.moderator)

    own_question = client_for(w.editor).post(vote_url(question.item), {"vote": "up"})
    own_answer = htmx(client_for(w.moderator), "post", vote_url(ans.item), {"vote": "up"})

    assert "You cannot vote for your own question or answer." in messages_of(own_question)
    assert b"You cannot vote for your own question or answer." in own_answer.content
    assert Vote.objects.count() == 0 and refreshed(ans).vote_score == 0
    with pytest.raises(ValidationError):
        services.vote_cast(actor=w.editor, item=question.item)


def test_voting_on_an_answer_with_htmx_swaps_the_button(open_world):
    w = open_world
    question = ask(w)
    ans = answer(question, w.moderator)

    response = htmx(client_for(w.admin), "post", vote_url(ans.item), {"vote": "up"})

    content = response.content.decode()
    assert response.status_code == 200
    assert f'id="vote-{ans.item_id}"' in content and 'value="withdraw"' in content and "1 vote" in content
    assert refreshed(ans).vote_score == 1


def test_many_members_vote_and_the_score_counts_them(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    for persona in ["moderator", "admin", "community_admin", "staff"]:
        services.vote_cast(actor=getattr(w, persona), item=question.item)
    services.vote_withdraw(actor=w.admin, item=question.item)
    assert refreshed(question).vote_score == 3 == Vote.objects.filter(item=question.item).count()
    with pytest.raises(ValidationError, match="not voted"):
        services.vote_withdraw(actor=w.admin, item=question.item)


# --- Accepting ------------------------------------------------------------------------------------------------
def test_the_asker_accepts_changes_and_withdraws_the_accepted_answer(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    first, second = answer(question, w.moderator), answer(question, w.admin, body="Second answer")
    browser = client_for(w.editor)

    browser.post(q_url("answer-accept", question), {"answer": first.pk})
    assert refreshed(question).accepted_answer == first
    browser.post(q_url("answer-accept", question), {"answer": second.pk})
    assert refreshed(question).accepted_answer == second
    detail = browser.get(q_url("question-detail", question))
    assert [a.pk for a in detail.context["answers"]] == [second.pk, first.pk]  # accepted first
    browser.post(q_url("answer-accept", question), {"answer": ""})
    assert refreshed(question).accepted_answer is None


def test_a_moderator_accepts_but_another_editor_is_refused(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    ans = answer(question, w.admin)
    other = make_user("other-editor")
    add_member(w.space, other, SpaceRole.EDITOR, by=w.staff)

    refused = client_for(other).post(q_url("answer-accept", question), {"answer": ans.pk})
    assert refused.status_code == 403 and refreshed(question).accepted_answer_id is None
    client_for(w.moderator).post(q_url("answer-accept", question), {"answer": ans.pk})
    assert refreshed(question).accepted_answer == ans


def test_accepting_an_answer_of_another_question_is_refused_with_a_message(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    other_question = ask(w, title="Another question", by=w.editor)
    foreign = answer(other_question, w.moderator)

    response = client_for(w.editor).post(q_url("answer-accept", question), {"answer": foreign.pk})

    assert response.status_code == 302
    assert "That answer belongs to another question." in messages_of(response)
    assert refreshed(question).accepted_answer_id is None and refreshed(other_question).accepted_answer_id is None


# --- Sorting, tags ----------------------------------------------------------------------------------------------
def test_question_list_sorts_by_newest_votes_and_unanswered_and_filters_by_tag(open_world):
    w = open_world
    old = ask(w, title="Old popular question", tags="census")
    mid = ask(w, title="Middle question", tags="census, tax")
    new = ask(w, title="Newest question", tags="tax")
    for persona in ["moderator", "admin"]:
        services.vote_cast(actor=getattr(w, persona), item=old.item)
    services.vote_cast(actor=w.admin, item=mid.item)
    answer(mid, w.moderator)
    browser = Client()

    def titles(query: str) -> list[str]:
        return [q.title for q in browser.get(space_url("questions", w.space) + query).context["questions"]]

    assert titles("") == [new.title, mid.title, old.title]
    assert titles("?sort=votes") == [old.title, mid.title, new.title]
    assert titles("?sort=unanswered") == [new.title, old.title]
    assert titles("?tag=tax") == [new.title, mid.title]
    assert titles("?tag=census&sort=votes") == [old.title, mid.title]
    assert titles("?sort=nonsense") == [new.title, mid.title, old.title]
    assert browser.get(space_url("questions", w.space) + "?tag=unknown").status_code == 404


# --- Similar questions --------------------------------------------------------------------------------------------
def test_similar_questions_match_title_words_while_typing(open_world):
    w = open_world
    ask(w, title="Linking census records to tax data")
    ask(w, title="Seasonal adjustment of monthly series")

    response = htmx(Client(), "get", space_url("question-similar", w.space) + "?title=how+to+link+census+records")

    assert response.status_code == 200
    assert b"Linking census records" in response.content and b"Seasonal" not in response.content
    assert htmx(Client(), "get", space_url("question-similar", w.space) + "?title=the+a").content.strip() == b""


def test_similar_questions_never_include_questions_the_user_cannot_see(open_world):
    w = open_world
    visible = ask(w, title="Census linkage visible")
    hidden = ask(w, title="Census linkage hidden")
    restricted = ask(w, title="Census linkage restricted")
    trashed = ask(w, title="Census linkage trashed")
    Item.objects.filter(pk=hidden.item_id).update(moderation_state="hidden")
    Item.objects.filter(pk=restricted.item_id).update(is_restricted=True)
    services.item_trash(actor=w.editor, item=trashed.item)
    closed = make_space(w.staff, w.community, Visibility.CLOSED, slug="closed-census")
    closed_q = services.question_ask(actor=w.staff, space=closed, title="Census linkage secret", body="")

    for persona in ["anonymous", "outsider", "viewer"]:
        similar = selectors_questions.similar_questions(getattr(w, persona), w.space, "census linkage")
        assert [q.title for q in similar] == [visible.title], persona
        response = browser_for(getattr(w, persona)).get(space_url("question-similar", w.space) + "?title=census")
        assert b"visible" in response.content
        for q in (hidden, restricted, trashed, closed_q):
            assert q.title.encode() not in response.content, (persona, q.title)
    # the asker of the hidden question and the space's moderators still see it
    assert hidden.title in [q.title for q in selectors_questions.similar_questions(w.moderator, w.space, "census")]
    outsider_in_closed = client_for(w.outsider).get(space_url("question-similar", closed) + "?title=census")
    assert outsider_in_closed.status_code == 404


def test_answers_of_a_hidden_question_are_hidden_everywhere(open_world):
    w = open_world
    question = ask(w, by=w.editor)
    ans = answer(question, w.admin)
    Item.objects.filter(pk=question.item_id).update(moderation_state="hidden")
    ans_item = Item.objects.select_related("space").get(pk=ans.item_id)

    for persona in ["anonymous", "outsider", "viewer"]:
        user = getattr(w, persona)
        assert not Item.objects.visible_to(user).filter(pk=ans.item_id).exists(), persona
        assert not can_see_item(user, ans_item), persona
    assert Item.objects.visible_to(w.moderator).filter(pk=ans.item_id).exists()
    assert can_see_item(w.moderator, ans_item)


# --- Bad input --------------------------------------------------------------------------------------------------
def test_an_empty_title_is_refused_with_a_message_and_nothing_is_created(open_world):
    w = open_world
    response = client_for(w.editor).post(space_url("question-ask", w.space), {"title": "   ", "body": "x"})
    assert response.status_code == 200 and form_errors(response)["title"]
    assert Question.objects.count() == 0 and Item.objects.filter(kind="question").count() == 0
    with pytest.raises(ValidationError):
        services.question_ask(actor=w.editor, space=w.space, title="", body="")


def test_an_empty_answer_is_refused_with_a_message(open_world):
    w = open_world
    question = ask(w)
    response = client_for(w.moderator).post(q_url("answer-post", question), {"body": "  \n "})
    assert response.status_code == 400
    assert "Write an answer before posting it." in form_errors(response, "answer_form")["body"]
    assert Answer.objects.count() == 0 and refreshed(question).answer_count == 0


def test_too_many_tags_are_refused(open_world):
    w = open_world
    response = client_for(w.editor).post(
        space_url("question-ask", w.space), {"title": "Tags", "tags": "a1, b2, c3, d4, e5, f6"}
    )
    assert "Use at most 5 tags." in form_errors(response)["tags"]
    assert Question.objects.count() == 0


# --- XSS -----------------------------------------------------------------------------------------------------------
def test_script_in_titles_bodies_tags_and_answers_is_inert(open_world):
    w = open_world
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    question = ask(w, title=f"Title {payload}", body=f"Body {payload}", tags="<b>bold</b>")
    answer(question, w.moderator, body=f"Answer {payload}")
    browser = Client()

    pages = [
        browser.get(q_url("question-detail", question)),
        browser.get(space_url("questions", w.space)),
        browser.get(q_url("question-history", question)),
        htmx(browser, "get", space_url("question-similar", w.space) + "?title=Title+script"),
    ]

    for response in pages:
        content = response.content.decode()
        assert response.status_code == 200
        assert "<script>alert" not in content and "onerror=alert" not in content.replace("onerror=alert(1)&gt;", "")
        assert "<b>bold</b>" not in content


# --- Query counts ----------------------------------------------------------------------------------------------------
FEW, MANY = 3, 30


def _fill_questions(w, start: int, stop: int) -> None:
    for n in range(start, stop):
        question = ask(w, title=f"Question number {n}", tags=f"topic{n % 4}, shared")
        services.vote_cast(actor=w.moderator, item=question.item)
        if n % 2:
            answer(question, w.moderator)


def test_question_list_query_count_is_the_same_for_3_and_30_questions(open_world):
    w = open_world
    browser = client_for(w.viewer)
    url = space_url("questions", w.space)

    _fill_questions(w, 0, FEW)
    few = count_queries(browser, url)
    _fill_questions(w, FEW, MANY)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["questions"]) == 20
    assert (few, many) == (8, 8)  # the header's counts come from the cache


def _fill_answers(w, question, start: int, stop: int) -> None:
    voters = [w.moderator, w.admin]
    for n in range(start, stop):
        author = [w.editor, w.moderator, w.admin][n % 3]
        ans = answer(question, author, body=f"Answer number {n}")
        for voter in voters:
            if voter != author:
                services.vote_cast(actor=voter, item=ans.item)
        services.comment_create(actor=w.editor, target=ans.item, body=f"Comment on {n}")


def test_question_page_query_count_is_the_same_for_3_and_30_answers(open_world):
    w = open_world
    question = ask(w, by=w.community_admin, tags="census, tax")
    browser = client_for(w.editor)
    url = q_url("question-detail", question)

    _fill_answers(w, question, 0, FEW)
    few = count_queries(browser, url)
    _fill_answers(w, question, FEW, MANY)
    services.answer_accept(actor=w.community_admin, question=question, answer=question.answers.last())
    many = count_queries(browser, url)

    assert len(browser.get(url).context["answers"]) == MANY
    assert (few, many) == (10, 10)  # includes the question_view INSERT
