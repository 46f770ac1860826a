"""``seed_scale`` at a tiny size: the bulk-written data keeps every invariant the services keep."""

from __future__ import annotations

import random
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Max, Q

from analytics import rollup
from analytics.kinds import CONTRIBUTION_KINDS
from analytics.models import ActivityBucket, ActivityEvent, MemberDay, RollupState
from communities.models import CommunityMembership, Onboarding
from copapp.markdown import render_markdown
from members.models import User
from spaces import search_index
from spaces.models import (
    Answer,
    Comment,
    Event,
    Item,
    Page,
    Post,
    Question,
    Reaction,
    Registration,
    Space,
    SpaceMembership,
    SpaceRole,
    Vote,
)

TINY = [
    "--tiny",
    "--no-progress",
    "--no-vacuum",
    "--verify",
    *("--members 150 --communities 2 --spaces 8 --pages 150 --questions 60 --answers 160 --events 15".split()),
    *("--posts 50 --comments 80 --votes 150 --likes 150 --activity 3000".split()),
]


@pytest.fixture(scope="module")
def _seeded_once(django_db_setup, django_db_blocker):
    """One seed for the whole module (it takes seconds), rolled back at the end."""
    out = StringIO()
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_scale", *TINY, stdout=out)
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(_seeded_once, db):
    return _seeded_once


def test_prints_what_it_built(seeded):
    assert "Seeded at scale" in seeded
    assert "spaces.Page" in seeded and "analytics.ActivityEvent" in seeded
    assert "scale-pass-2026" in seeded


def test_foreign_keys_hold(seeded):
    connection.check_constraints()


def test_every_content_row_has_its_item(seeded):
    for model, kind in [
        (Page, "page"),
        (Question, "question"),
        (Answer, "answer"),
        (Event, "event"),
        (Post, "post"),
        (Comment, "comment"),
    ]:
        rows = list(model.objects.values_list("item__kind", flat=True))
        assert rows and set(rows) == {kind}, model
    assert Item.objects.count() == sum(m.objects.count() for m in (Page, Question, Answer, Event, Post, Comment))
    assert not Page.objects.exclude(item__space_id=models_f("space_id")).exists()
    assert not Page.objects.exclude(item__title=models_f("title")).exists()
    assert not Question.objects.exclude(item__title=models_f("title")).exists()


def models_f(name):
    from django.db.models import F

    return F(name)


def test_page_versions_are_in_the_history(seeded):
    history = Page.history.model
    per_page = dict(history.objects.values("id").annotate(n=Count("history_id")).values_list("id", "n"))
    pages = list(Page.objects.values_list("pk", "version", "body", "title"))
    assert all(per_page[pk] == version for pk, version, _b, _t in pages)
    assert sum(per_page.values()) / len(pages) > 2  # about 3 on average
    latest = {}
    for row in history.objects.order_by("id", "version").values("id", "body", "title", "history_type"):
        latest[row["id"]] = row
    assert all(latest[pk]["body"] == body and latest[pk]["title"] == title for pk, _v, body, title in pages)
    assert Question.history.model.objects.count() == Question.objects.count()
    assert Answer.history.model.objects.count() == Answer.objects.count()


def test_counters_match_the_rows(seeded):
    live = Count("answers", filter=Q(answers__item__deleted_at__isnull=True))
    assert all(q.answer_count == q.live for q in Question.objects.annotate(live=live))
    votes = Counter(Vote.objects.values_list("item_id", flat=True))
    assert all(q.vote_score == votes[q.item_id] for q in Question.objects.all())
    assert all(a.vote_score == votes[a.item_id] for a in Answer.objects.all())
    assert not Vote.objects.filter(user_id=models_f("item__author_id")).exists()
    likes = Counter(Reaction.objects.values_list("item_id", flat=True))
    assert sum(likes.values()) > 0
    assert all(item.like_count == likes[item.pk] for item in Item.objects.all())
    statuses = Counter(Registration.objects.values_list("event_id", "status"))
    for event in Event.objects.all():
        assert event.going_count == statuses[(event.pk, "going")]
        assert event.maybe_count == statuses[(event.pk, "maybe")]
        assert event.waitlist_count == statuses[(event.pk, "waitlisted")]
        if event.capacity is not None:
            assert event.going_count <= event.capacity
        else:
            assert event.waitlist_count == 0
    accepted = Question.objects.filter(accepted_answer__isnull=False)
    assert accepted.exists()
    assert not accepted.exclude(accepted_answer__question_id=models_f("pk")).exists()


def test_memberships_are_consistent_with_roles(seeded):
    counts = Counter(SpaceMembership.objects.values_list("space_id", flat=True))
    for space in Space.objects.all():
        assert space.member_count == counts[space.pk]
        assert SpaceMembership.objects.filter(space=space, role=SpaceRole.ADMIN).exists()
    pairs = set(SpaceMembership.objects.values_list("user_id", "space__community_id"))
    communities = set(CommunityMembership.objects.values_list("user_id", "community_id"))
    onboarded = set(Onboarding.objects.values_list("user_id", "community_id"))
    assert pairs <= communities and communities <= onboarded
    # Whoever wrote in a space holds at least the editor role there.
    roles = {(u, s): r for u, s, r in SpaceMembership.objects.values_list("user_id", "space_id", "role")}
    for author, space in Item.objects.values_list("author_id", "space_id"):
        assert roles.get((author, space), 0) >= SpaceRole.EDITOR
    assert Space.objects.values("visibility").distinct().count() >= 2


def test_rendered_markdown_and_search_text_are_what_the_services_store(seeded):
    rng = random.Random(1)
    for page in rng.sample(list(Page.objects.all()), 25):
        assert page.body_html == render_markdown(page.body)
    for question in rng.sample(list(Question.objects.all()), 10):
        assert question.body_html == render_markdown(question.body)
    for post in rng.sample(list(Post.objects.all()), 10):
        assert post.body_html == render_markdown(post.body, linkify=True)
    items = list(Item.objects.only("pk", "kind"))
    stored = dict(Item.objects.values_list("pk", "search_text"))
    for item in rng.sample(items, 40):
        assert stored[item.pk] == search_index.item_search_text(item), item.kind


def test_long_tail_most_members_only_read(seeded):
    members = User.objects.filter(is_staff=False).count()
    per_member = Counter(ActivityEvent.objects.filter(kind__in=CONTRIBUTION_KINDS).values_list("member_id", flat=True))
    ranked = sorted(per_member.values(), reverse=True)
    top = sum(ranked[: members // 10])
    assert top >= 0.6 * sum(ranked)
    assert len(per_member) < members / 2
    readers = ActivityEvent.objects.filter(kind="visit").values("member_id").distinct().count()
    assert readers > len(per_member)


def test_activity_points_at_real_targets_and_rollups_are_current(seeded):
    assert 2500 <= ActivityEvent.objects.count() <= 3200
    views = ActivityEvent.objects.filter(kind="page_view").values_list("target_id", flat=True)
    assert set(views) <= set(Page.objects.values_list("pk", flat=True))
    assert not ActivityEvent.objects.filter(kind="visit", visit_day__isnull=True).exists()
    state = RollupState.objects.get(name=rollup.STATE_NAME)
    assert state.last_event_id == ActivityEvent.objects.aggregate(m=Max("pk"))["m"]
    assert MemberDay.objects.exists() and ActivityBucket.objects.exists()


def _rollup_rows():
    days = {
        (r.member_id, r.community_id, r.space_id, r.day): (
            r.country,
            r.organisation_type,
            r.events,
            r.visits,
            r.views,
            r.contributions,
            r.kind_counts,
            r.points,
        )
        for r in MemberDay.objects.all()
    }
    buckets = {
        (r.community_id, r.space_id, r.country, r.organisation_type, r.bucket): (r.events, r.contributions)
        for r in ActivityBucket.objects.all()
    }
    return days, buckets


@pytest.mark.postgres
def test_set_based_rollups_equal_the_python_rebuild(seeded):
    days, buckets = _rollup_rows()
    assert days and buckets
    rollup.rebuild()
    assert _rollup_rows() == (days, buckets)


@pytest.mark.postgres
def test_set_based_rollups_take_the_latest_profile_of_a_day(seeded):
    """A member whose country changed during a day: the day's row has the country of its latest event."""
    from spaces.management.commands._scale_rollup import rollups_rebuild

    member_id = ActivityEvent.objects.filter(kind="visit").values_list("member_id", flat=True).first()
    events = list(ActivityEvent.objects.filter(member_id=member_id).order_by("occurred_at", "pk"))
    ActivityEvent.objects.filter(pk__in=[e.pk for e in events[::2]]).update(
        country="Elsewhere", organisation_type="ngo"
    )
    rollups_rebuild()
    days, buckets = _rollup_rows()
    assert any(row[0] == "Elsewhere" for key, row in days.items() if key[0] == member_id)
    rollup.rebuild()
    assert _rollup_rows() == (days, buckets)
