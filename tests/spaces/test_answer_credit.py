"""An accepted answer credits its author: an ``answer_accepted`` activity event for them (analytics counts it as
a credit: points, never activity of their own), except when they accepted their own answer."""

import pytest

from analytics.models import ActivityEvent
from spaces import services
from spaces.models import Visibility


@pytest.fixture
def w(world_factory):
    return world_factory(Visibility.OPEN)


def credits():
    return ActivityEvent.objects.filter(kind="answer_accepted")


def test_accepting_an_answer_credits_its_author(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="None in common.")
    answer = services.answer_post(actor=w.admin, question=question, body="Names and dates of birth.")

    services.answer_accept(actor=w.editor, question=question, answer=answer)

    credit = credits().get()
    assert (credit.member, credit.target_type, credit.target_id) == (w.admin, "spaces.answer", answer.pk)
    assert (credit.community_id, credit.space_id) == (w.community.pk, w.space.pk)
    accept = ActivityEvent.objects.get(kind="answer_accept")
    assert accept.member == w.editor  # the asker's own action stays theirs


def test_a_moderator_accepting_credits_the_answers_author_not_the_moderator(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="None in common.")
    answer = services.answer_post(actor=w.admin, question=question, body="Names.")

    services.answer_accept(actor=w.moderator, question=question, answer=answer)

    assert list(credits().values_list("member", flat=True)) == [w.admin.pk]


def test_accepting_your_own_answer_earns_no_credit(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="None in common.")
    own = services.answer_post(actor=w.editor, question=question, body="Found it myself: names.")

    services.answer_accept(actor=w.editor, question=question, answer=own)

    assert ActivityEvent.objects.filter(kind="answer_accept").exists()
    assert not credits().exists()


def test_withdrawing_acceptance_credits_nobody(w):
    question = services.question_ask(actor=w.editor, space=w.space, title="Which keys?", body="None in common.")
    answer = services.answer_post(actor=w.admin, question=question, body="Names.")
    services.answer_accept(actor=w.editor, question=question, answer=answer)

    services.answer_accept(actor=w.editor, question=question, answer=None)

    assert credits().count() == 1
