"""Finding peers (issue 9, item 2): directory filters, people you may want to meet, following members and the
stream of what they contribute, which never shows what the follower may not see."""

import html
import re
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from communities import services as community_services
from members import selectors, services_follow, services_messages
from members import services as member_services
from members.models import Follow
from spaces import services as space_services
from spaces.models import SpaceRole, Visibility
from spaces.permissions import access_context
from spaces.services.events import event_create
from spaces.services.moderation import item_hide
from spaces.services.posts import post_create
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for, htmx, messages_of


@pytest.fixture(autouse=True)
def _no_new_account_limits(settings):
    settings.NEW_ACCOUNT_HOURS = 0


def expertise(user, *names: str) -> None:
    member_services.profile_update(actor=user, user=user, expertise=list(names))


def join(user, community) -> None:
    """Membership of a community, as joining one of its spaces gives."""
    community_services.community_membership_ensure(user=user, community=community)


def listed(response) -> set[str]:
    return {member.username for member in response.context["page"].object_list}


def tag_id(name: str) -> int:
    from members.models import Expertise

    return Expertise.objects.get(name=name).pk


# --- Directory filters ------------------------------------------------------------------------------------------
@pytest.fixture
def people(staff):
    statistics = make_community(staff, slug="statistics")
    health = make_community(staff, slug="health-data")
    people = {
        "amina": make_user("amina", country="Senegal", organisation_type="nso"),
        "juan": make_user("juan", country="Peru", organisation_type="nso"),
        "mei": make_user("mei", country="Viet Nam", organisation_type="academia"),
        "lone": make_user("lone", country="Peru"),
    }
    expertise(people["amina"], "census", "record linkage")
    expertise(people["juan"], "census")
    expertise(people["mei"], "record linkage")
    join(people["amina"], statistics)
    join(people["mei"], statistics)
    join(people["juan"], health)
    return {**people, "statistics": statistics, "health": health}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"expertise": "census"}, {"amina", "juan"}),
        ({"expertise": "record linkage"}, {"amina", "mei"}),
        ({"community": "statistics"}, {"amina", "mei"}),
        ({"community": "health-data"}, {"juan"}),
        ({"expertise": "census", "community": "statistics"}, {"amina"}),
        ({"expertise": "census", "country": "Peru"}, {"juan"}),
        ({"community": "statistics", "organisation_type": "academia"}, {"mei"}),
        ({"expertise": "record linkage", "q": "mei"}, {"mei"}),
    ],
)
def test_directory_filters_by_expertise_and_community_alone_and_combined(people, params, expected):
    if "expertise" in params:
        params = {**params, "expertise": tag_id(params["expertise"])}

    response = client_for(people["lone"]).get(reverse("members:directory"), params)

    assert response.status_code == 200
    assert listed(response) == {people[name].username for name in expected}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"expertise": "not-a-number"}, "expertise"),
        ({"expertise": "999999"}, "expertise"),
        ({"community": "no-such-community"}, "community"),
        ({"community": "<script>"}, "community"),
    ],
)
def test_invalid_directory_filters_are_reported_and_ignored(people, params, field):
    response = client_for(people["lone"]).get(reverse("members:directory"), {**params, "country": "Peru"})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert listed(response) == {people["juan"].username, people["lone"].username}  # the valid filter still applies
    assert 'role="alert"' in response.content.decode()


def test_directory_lists_expertise_and_communities_to_choose_from(people):
    response = client_for(people["lone"]).get(reverse("members:directory"))
    page = response.content.decode()

    assert f'<option value="{tag_id("census")}">census</option>' in page
    assert '<option value="statistics">Statistics</option>' in page
    assert '<option value="health-data">Health Data</option>' in page


def test_directory_htmx_filter_returns_the_results_partial(people):
    response = htmx(client_for(people["lone"]), "get", reverse("members:directory"), {"community": "health-data"})

    assert "<html" not in response.content.decode()
    assert listed(response) == {people["juan"].username}


def test_directory_next_page_keeps_expertise_and_community_filters(staff):
    community = make_community(staff, slug="census-group")
    viewer = make_user("viewer")
    for n in range(26):
        person = make_user(f"enumerator{n}")
        expertise(person, "census")
        if n % 2 == 0 or n < 24:
            join(person, community)
    browser = client_for(viewer)
    params = {"expertise": tag_id("census"), "community": "census-group"}
    first = browser.get(reverse("members:directory"), params)
    assert first.context["page"].paginator.count == 25
    next_href = re.search(r'href="([^"]*page=2[^"]*)"', first.content.decode()).group(1)

    second = browser.get(reverse("members:directory") + html.unescape(next_href))

    assert second.context["expertise_id"] == tag_id("census")
    assert second.context["community_slug"] == "census-group"
    assert second.context["page"].paginator.count == 25
    assert len(second.context["page"].object_list) == 1


def _directory_queries(browser, url: str) -> int:
    browser.get(url)
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def test_filtered_directory_query_count_does_not_grow_with_members(staff, django_assert_max_num_queries):
    community = make_community(staff, slug="peers")
    browser = client_for(make_user("viewer"))

    def add(start: int, stop: int) -> None:
        for n in range(start, stop):
            person = make_user(f"peer{n}", country="Fiji")
            expertise(person, "census", f"topic {n}")
            join(person, community)

    add(0, 3)
    url = reverse("members:directory") + f"?expertise={tag_id('census')}&community=peers&country=Fiji"
    few = _directory_queries(browser, url)
    add(3, 30)
    with django_assert_max_num_queries(few):
        response = browser.get(url)
    assert response.context["page"].paginator.count == 30
    assert _directory_queries(browser, url) == few


# --- Following ------------------------------------------------------------------------------------------------
def test_member_follows_and_unfollows_from_the_profile(db):
    me, other = make_user("me"), make_user("other")
    browser = client_for(me)
    profile_url = reverse("members:profile", kwargs={"username": other.username})
    assert "1 follower" not in browser.get(profile_url).content.decode()

    response = browser.post(reverse("members:member-follow", kwargs={"username": other.username}))

    assert response.status_code == 302
    assert response.url == profile_url
    assert messages_of(response) == ["You follow Other."]
    assert Follow.objects.filter(follower=me, followed=other).exists()
    page = browser.get(profile_url).content.decode()
    assert "1 follower" in page
    assert reverse("members:member-unfollow", kwargs={"username": other.username}) in page

    response = browser.post(reverse("members:member-unfollow", kwargs={"username": other.username}))

    assert response.status_code == 302
    assert not Follow.objects.exists()
    assert "0 followers" in browser.get(profile_url).content.decode()


def test_following_twice_keeps_one_row(db):
    me, other = make_user("me"), make_user("other")
    services_follow.follow_create(actor=me, member=other)
    services_follow.follow_create(actor=me, member=other)

    assert Follow.objects.filter(follower=me, followed=other).count() == 1


def test_follow_with_htmx_returns_the_button(db):
    me, other = make_user("me"), make_user("other")

    response = htmx(client_for(me), "post", reverse("members:member-follow", kwargs={"username": other.username}))

    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert 'id="follow-box"' in body
    assert "1 follower" in body
    assert "Unfollow" in body


def test_member_cannot_follow_themselves(db):
    me = make_user("me")

    response = client_for(me).post(reverse("members:member-follow", kwargs={"username": me.username}))

    assert response.status_code == 302
    assert messages_of(response) == ["You cannot follow yourself."]
    assert not Follow.objects.exists()
    with pytest.raises(ValidationError):
        services_follow.follow_create(actor=me, member=me)


@pytest.mark.parametrize("direction", ["i_blocked", "they_blocked"])
def test_blocked_pairs_cannot_follow(db, direction):
    me, other = make_user("me"), make_user("other")
    blocker, blocked = (me, other) if direction == "i_blocked" else (other, me)
    services_messages.member_block(actor=blocker, member=blocked)

    response = client_for(me).post(reverse("members:member-follow", kwargs={"username": other.username}))

    assert messages_of(response) == ["You cannot follow this member."]
    assert not Follow.objects.exists()
    page = client_for(me).get(reverse("members:profile", kwargs={"username": other.username})).content.decode()
    assert reverse("members:member-follow", kwargs={"username": other.username}) not in page


def test_follow_needs_post_and_sign_in(db):
    other = make_user("other")
    url = reverse("members:member-follow", kwargs={"username": other.username})

    assert client_for(make_user("me")).get(url).status_code == 405
    response = Client().post(url)
    assert response.status_code == 302
    assert response.url.startswith(reverse("account_login"))
    assert not Follow.objects.exists()


def test_deleted_or_unknown_members_cannot_be_followed(db):
    me, gone = make_user("me"), make_user("gone")
    member_services.account_delete(actor=gone, user=gone)
    browser = client_for(me)

    assert browser.post(reverse("members:member-follow", kwargs={"username": gone.username})).status_code == 404
    assert browser.post(reverse("members:member-follow", kwargs={"username": "nobody"})).status_code == 404


def test_following_page_lists_the_people_i_follow(db):
    me, first, second, stranger = make_user("me"), make_user("first"), make_user("second"), make_user("stranger")
    services_follow.follow_create(actor=me, member=first)
    services_follow.follow_create(actor=me, member=second)
    services_follow.follow_create(actor=stranger, member=me)

    response = client_for(me).get(reverse("members:following"))

    assert response.status_code == 200
    assert {m.username for m in response.context["page"].object_list} == {first.username, second.username}
    assert "You follow 2 members." in response.content.decode()


def test_profile_shows_block_button_except_on_my_own(db):
    me, other = make_user("me"), make_user("other")
    browser = client_for(me)
    block_url = reverse("members:member-block", kwargs={"username": other.username})

    assert block_url in browser.get(reverse("members:profile", kwargs={"username": other.username})).content.decode()
    own = browser.get(reverse("members:profile", kwargs={"username": me.username})).content.decode()
    assert "/block/" not in own
    assert "members:member-follow" not in own and "/follow/" not in own

    response = browser.post(block_url, {"next": reverse("members:profile", kwargs={"username": other.username})})
    assert response.status_code == 302
    page = browser.get(reverse("members:profile", kwargs={"username": other.username})).content.decode()
    assert reverse("members:member-unblock", kwargs={"username": other.username}) in page


# --- People you may want to meet --------------------------------------------------------------------------------
@pytest.fixture
def meet(staff):
    community = make_community(staff, slug="meet")
    space = make_space(staff, community, Visibility.OPEN, slug="census-room")
    me = make_user("me", country="Fiji")
    expertise(me, "census", "record linkage", "sampling")
    add_member(space, me, by=staff)
    people = {
        "two_tags": make_user("twotags", country="Chile"),
        "one_tag_fiji": make_user("onetagfiji", country="Fiji"),
        "one_tag": make_user("onetag", country="Peru"),
        "fiji": make_user("fijian", country="fiji"),
        "answerer": make_user("answerer", country="Kenya"),
        "nothing": make_user("nothing", country="Kenya"),
    }
    expertise(people["two_tags"], "census", "sampling", "prices")
    expertise(people["one_tag_fiji"], "record linkage")
    expertise(people["one_tag"], "census")
    expertise(people["nothing"], "prices")
    add_member(space, people["answerer"], SpaceRole.EDITOR, by=staff)
    question = space_services.question_ask(actor=staff, space=space, title="How do you weight a sample?")
    other = space_services.question_ask(actor=staff, space=space, title="Which frame do you use?")
    for q in (question, other):
        space_services.answer_post(actor=people["answerer"], question=q, body="We use the census frame.")
    return {"me": me, "staff": staff, "space": space, "community": community, **people}


def test_suggestions_are_ranked_by_expertise_then_country_then_answers(meet):
    suggestions = selectors.people_to_meet(meet["me"])

    assert [s.member.username for s in suggestions] == [
        meet[name].username for name in ["two_tags", "one_tag_fiji", "one_tag", "fiji", "answerer"]
    ]
    reasons = {s.member.username: s.reasons for s in suggestions}
    assert reasons[meet["two_tags"].username] == ["Shares 2 areas of expertise"]
    assert reasons[meet["one_tag_fiji"].username] == ["Shares 1 area of expertise", "Also in Fiji"]
    assert reasons[meet["fiji"].username] == ["Also in fiji"]
    assert reasons[meet["answerer"].username] == ["Answered 2 questions in your spaces"]


def test_suggestions_leave_out_self_followed_blocked_and_inactive_members(meet):
    services_follow.follow_create(actor=meet["me"], member=meet["two_tags"])
    services_messages.member_block(actor=meet["one_tag"], member=meet["me"])
    services_messages.member_block(actor=meet["me"], member=meet["fiji"])
    meet["one_tag_fiji"].is_active = False
    meet["one_tag_fiji"].save(update_fields=["is_active"])

    names = [s.member.username for s in selectors.people_to_meet(meet["me"])]

    assert names == [meet["answerer"].username]


def test_suggestions_are_at_most_six(meet):
    for n in range(8):
        expertise(make_user(f"extra{n}"), "census")

    assert len(selectors.people_to_meet(meet["me"])) == 6


def test_hidden_answers_are_not_counted_for_suggestions(meet):
    answer_item = meet["answerer"].items.filter(kind="answer").first()
    item_hide(actor=meet["staff"], item=answer_item, reason="off topic")

    reasons = {s.member.username: s.reasons for s in selectors.people_to_meet(meet["me"])}

    assert reasons[meet["answerer"].username] == ["Answered 1 question in your spaces"]


def test_answers_in_a_closed_space_never_show_in_suggestions_to_outsiders(world_factory):
    w = world_factory(Visibility.CLOSED)
    question = space_services.question_ask(actor=w.moderator, space=w.space, title="Secret census question")
    space_services.answer_post(actor=w.editor, question=question, body="Secret answer")
    open_space = make_space(w.staff, w.community, Visibility.OPEN, slug="open-room")
    add_member(open_space, w.outsider, by=w.staff)

    outsider_view = {s.member.username: s.reasons for s in selectors.people_to_meet(w.outsider)}

    assert w.editor.username not in outsider_view
    member_view = {s.member.username: s.reasons for s in selectors.people_to_meet(w.viewer)}
    assert member_view[w.editor.username] == ["Answered 1 question in your spaces"]


def test_home_shows_suggestions_with_their_reasons(meet):
    response = client_for(meet["me"]).get(reverse("home"))
    page = response.content.decode()

    assert "People you may want to meet" in page
    assert "Shares 2 areas of expertise" in page
    assert "Also in Fiji" in page
    assert "Answered 2 questions in your spaces" in page
    assert reverse("members:member-follow", kwargs={"username": meet["two_tags"].username}) in page


def test_suggestions_query_count_is_constant_and_the_ranking_is_cached(meet, django_assert_num_queries):
    """Ranking takes a few queries however many members there are; then it is cached per member and set of roles,
    and each read is one query that leaves out whoever the member followed or blocked since."""
    meet["me"].refresh_from_db()
    selectors.people_to_meet(meet["me"])  # loads the member's roles once, as the request middleware would
    cache.clear()
    with django_assert_num_queries(5):  # candidates by expertise, country and answers; the ranking; the read
        few = selectors.people_to_meet(meet["me"])
    for n in range(20):
        person = make_user(f"extra{n}", country="Fiji")
        expertise(person, "census")
        add_member(meet["space"], person, SpaceRole.EDITOR, by=meet["staff"])
    access_context(meet["me"])  # roles changed somewhere: the next request loads them again, once
    with django_assert_num_queries(1):
        cached = selectors.people_to_meet(meet["me"])
    assert [s.member.pk for s in cached] == [s.member.pk for s in few]  # the cached ranking
    services_follow.follow_create(actor=meet["me"], member=few[0].member)
    with django_assert_num_queries(1):
        after_follow = selectors.people_to_meet(meet["me"])
    assert few[0].member.pk not in [s.member.pk for s in after_follow]  # at once, not after the cache expires
    cache.clear()
    me = type(meet["me"]).objects.get(pk=meet["me"].pk)  # a new request
    access_context(me)  # its roles, loaded once per request by the middleware
    with django_assert_num_queries(5):  # 20 more candidates, the same queries
        many = selectors.people_to_meet(me)
    assert len(few) == 5 and len(many) == 6


def test_joining_a_space_ranks_suggestions_afresh(meet):
    """The cache key holds the member's roles: after joining a space, answers there count at once."""
    me = meet["me"]
    closed = make_space(meet["staff"], meet["community"], Visibility.CLOSED, slug="closed-room")
    expert = make_user("closedexpert", country="Kenya")
    add_member(closed, expert, SpaceRole.EDITOR, by=meet["staff"])
    q = space_services.question_ask(actor=meet["staff"], space=closed, title="A closed question?")
    space_services.answer_post(actor=expert, question=q, body="A closed answer.")
    assert expert.username not in [s.member.username for s in selectors.people_to_meet(me)]
    add_member(closed, me, by=meet["staff"])
    me = me.__class__.objects.get(pk=me.pk)  # a new request
    assert expert.username in [s.member.username for s in selectors.people_to_meet(me)]


# --- The stream of people followed --------------------------------------------------------------------------------
def _contribute(author, space, n: int, *, staff) -> None:
    for i in range(n):
        space_services.page_create(actor=author, space=space, title=f"Page {i} by {author.username}", body="Text")
        question = space_services.question_ask(actor=author, space=space, title=f"Question {i} {author.username}?")
        space_services.answer_post(actor=author, question=question, body="My own answer")
        post_create(actor=author, space=space, body=f"Post {i}")


def test_stream_shows_what_followed_members_created(staff):
    community = make_community(staff, slug="stream")
    space = make_space(staff, community, Visibility.OPEN, slug="stream-room")
    me, author, stranger = make_user("me"), make_user("author"), make_user("stranger")
    add_member(space, author, SpaceRole.EDITOR, by=staff)
    add_member(space, stranger, SpaceRole.EDITOR, by=staff)
    _contribute(author, space, 1, staff=staff)
    _contribute(stranger, space, 1, staff=staff)
    event_create(
        actor=staff,
        space=space,
        title="Not by the author",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
        time_zone="UTC",
    )
    services_follow.follow_create(actor=me, member=author)

    items = selectors.following_stream(me)

    assert {i.author_id for i in items} == {author.pk}
    assert sorted(i.kind for i in items) == ["answer", "page", "post", "question"]
    page = client_for(me).get(reverse("home")).content.decode()
    assert "From people you follow" in page
    assert "Page 0 by author" in page
    stream = page.split('id="following-stream"')[1].split("</section>")[0]
    assert f"Answer to “Question 0 {author.username}?”" in stream
    assert "Stranger" not in stream


def test_outsider_following_a_member_sees_nothing_of_a_closed_space(world_factory):
    w = world_factory(Visibility.CLOSED)
    _contribute(w.editor, w.space, 2, staff=w.staff)
    event_create(
        actor=w.editor,
        space=w.space,
        title="Closed meeting",
        starts_at=timezone.now(),
        ends_at=timezone.now() + timedelta(hours=1),
        time_zone="UTC",
    )
    services_follow.follow_create(actor=w.outsider, member=w.editor)
    services_follow.follow_create(actor=w.viewer, member=w.editor)

    assert selectors.following_stream(w.outsider) == []
    assert len(selectors.following_stream(w.viewer)) == 9
    page = client_for(w.outsider).get(reverse("home")).content.decode()
    assert "Page 0 by editor" not in page
    assert "Closed meeting" not in page
    assert "Post 1" not in page


def test_stream_leaves_out_blocked_authors_and_hidden_items(staff):
    community = make_community(staff, slug="blocks")
    space = make_space(staff, community, Visibility.OPEN, slug="blocks-room")
    me, blocked, hidden = make_user("me"), make_user("blocked"), make_user("hidden")
    for author in (blocked, hidden):
        add_member(space, author, SpaceRole.EDITOR, by=staff)
        space_services.page_create(actor=author, space=space, title=f"By {author.username}", body="x")
        services_follow.follow_create(actor=me, member=author)
    services_messages.member_block(actor=me, member=blocked)
    item_hide(actor=staff, item=hidden.items.get(), reason="spam")

    assert selectors.following_stream(me) == []


def test_following_stream_query_count_is_constant(staff, django_assert_num_queries):
    community = make_community(staff, slug="counts")
    space = make_space(staff, community, Visibility.OPEN, slug="counts-room")
    me = make_user("me")
    add_member(space, me, by=staff)

    def add_authors(start: int, stop: int) -> None:
        for n in range(start, stop):
            author = make_user(f"author{n}")
            add_member(space, author, SpaceRole.EDITOR, by=staff)
            _contribute(author, space, 1, staff=staff)
            services_follow.follow_create(actor=me, member=author)

    add_authors(0, 1)
    browser = client_for(me)
    few = _directory_queries(browser, reverse("home"))
    assert len(browser.get(reverse("home")).context["items"]) == 4
    add_authors(1, 8)
    many = _directory_queries(browser, reverse("home"))
    assert len(browser.get(reverse("home")).context["items"]) == 20
    assert few == many
    me.refresh_from_db()
    selectors.following_stream(me)
    with django_assert_num_queries(1):
        items = selectors.following_stream(me)
    with django_assert_num_queries(0):
        [(i.title, i.author.public_name, i.space.get_absolute_url()) for i in items]
        from spaces.selectors_content import item_label, item_url

        [(item_url(i), item_label(i)) for i in items]


def test_blocking_ends_following_both_ways(db):
    ana, ben = make_user("ana-block"), make_user("ben-block")
    services_follow.follow_create(actor=ana, member=ben)
    services_follow.follow_create(actor=ben, member=ana)
    services_messages.member_block(actor=ana, member=ben)
    assert not Follow.objects.filter(follower__in=[ana, ben]).exists()
