"""The work plan: who edits the product and milestones, who moves a milestone along, progress, next deadline,
overdue marks, linked pages shown only to people who can see them, bad input and query counts (issue 4, item 6).

Time is frozen at noon on 10 June 2030 (UTC) where dates matter: "today" is the space's community's date.
"""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.template.loader import render_to_string
from django.test import Client
from django.utils import timezone

from analytics.models import ActivityEvent
from spaces import selectors_workplan
from spaces import services as space_services
from spaces.models import Item, Milestone, MilestoneStatus, Visibility, WorkPlan
from spaces.services import workplan as services
from tests.factories import make_space, make_user
from tests.spaces.helpers import client_for, form_errors, messages_of, space_url
from tests.spaces.test_pages import count_queries

TODAY = dt.date(2030, 6, 10)
NON_MEMBERS = ["outsider", "requester", "invited", "banned"]


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(dt.datetime(2030, 6, 10, 12, 0, tzinfo=dt.UTC), tick=False)


@pytest.fixture
def open_world(world_factory, frozen):
    return world_factory(Visibility.OPEN)


@pytest.fixture
def private_world(world_factory, frozen):
    return world_factory(Visibility.PRIVATE)


@pytest.fixture
def closed_world(world_factory, frozen):
    return world_factory(Visibility.CLOSED)


def days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def milestone(w, title="Draft the outline", due=5, *, by=None, **kw) -> Milestone:
    return services.milestone_create(actor=by or w.moderator, space=w.space, title=title, due_date=days(due), **kw)


def m_url(name: str, m: Milestone) -> str:
    return space_url(name, m.space, milestone_id=m.pk)


def fresh(m: Milestone) -> Milestone:
    return Milestone.objects.select_related("space__community", "owner").get(pk=m.pk)


def page(w, title="Good practice: record linkage", *, by=None):
    return space_services.page_create(actor=by or w.editor, space=w.space, title=title, body="Notes")


def browser_for(user) -> Client:
    return client_for(user) if user.is_authenticated else Client()


# --- The product --------------------------------------------------------------------------------------------
def test_a_moderator_states_the_product_through_the_form(open_world):
    w = open_world

    response = client_for(w.moderator).post(
        space_url("work-plan-edit", w.space),
        {
            "product": " A collection of good practices  for the June meeting ",
            "description": "",
            "due_date": "2030-06-28",
        },
    )

    assert response.status_code == 302 and response["Location"] == space_url("work-plan", w.space)
    plan = WorkPlan.objects.get(space=w.space)
    assert (plan.product, plan.due_date, plan.updated_by) == (
        "A collection of good practices for the June meeting",
        dt.date(2030, 6, 28),
        w.moderator,
    )
    assert ActivityEvent.objects.filter(kind="work_plan_update", member=w.moderator).exists()
    page_html = client_for(w.viewer).get(space_url("work-plan", w.space)).content.decode()
    assert "A collection of good practices for the June meeting" in page_html


def test_saving_the_product_twice_keeps_one_work_plan(open_world):
    w = open_world
    services.work_plan_update(actor=w.moderator, space=w.space, product="First")
    services.work_plan_update(actor=w.admin, space=w.space, product="Second", due_date=days(20))

    assert list(WorkPlan.objects.filter(space=w.space).values_list("product", "due_date")) == [("Second", days(20))]


@pytest.mark.parametrize("name", ["viewer", "editor"])
def test_only_moderators_edit_the_work_plan(open_world, name):
    w = open_world
    m = milestone(w)
    browser = client_for(getattr(w, name))
    posts = {
        "work-plan-edit": (space_url("work-plan-edit", w.space), {"product": "Hijacked"}),
        "milestone-create": (space_url("milestone-create", w.space), {"title": "X", "due_date": "2030-07-01"}),
        "milestone-edit": (m_url("milestone-edit", m), {"title": "Renamed", "due_date": "2030-07-01"}),
        "milestone-delete": (m_url("milestone-delete", m), {}),
        "milestone-status": (m_url("milestone-status", m), {"status": "done"}),
    }

    got = {key: browser.post(url, data).status_code for key, (url, data) in posts.items()}
    got.update({f"GET {key}": browser.get(posts[key][0]).status_code for key in ["work-plan-edit", "milestone-edit"]})

    assert set(got.values()) == {403}, got
    assert not WorkPlan.objects.exists()
    assert list(Milestone.objects.values_list("title", "status")) == [("Draft the outline", "planned")]
    with pytest.raises(PermissionDenied):
        services.work_plan_update(actor=getattr(w, name), space=w.space, product="Hijacked")
    assert "Add a milestone" not in browser.get(space_url("work-plan", w.space)).content.decode()


@pytest.mark.parametrize("name", ["moderator", "admin", "community_moderator", "staff"])
def test_moderators_and_above_add_edit_and_delete_milestones(open_world, name):
    w = open_world
    browser = client_for(getattr(w, name))
    linked = page(w)

    response = browser.post(
        space_url("milestone-create", w.space),
        {
            "title": "Collect examples",
            "due_date": "2030-06-20",
            "owner": w.editor.pk,
            "status": "planned",
            "linked_items": [linked.item_id],
        },
    )
    assert response.status_code == 302, form_errors(response)
    m = Milestone.objects.get()
    assert (m.title, m.due_date, m.owner, list(m.linked_items.all())) == (
        "Collect examples",
        dt.date(2030, 6, 20),
        w.editor,
        [linked.item],
    )

    response = browser.post(
        m_url("milestone-edit", m), {"title": "Collect ten examples", "due_date": "2030-06-21", "status": "in_progress"}
    )
    assert response.status_code == 302
    m = fresh(m)
    assert (m.title, m.due_date, m.owner, m.status, m.linked_items.count()) == (
        "Collect ten examples",
        dt.date(2030, 6, 21),
        None,
        "in_progress",
        0,
    )

    assert browser.get(m_url("milestone-delete", m)).status_code == 405
    assert browser.post(m_url("milestone-delete", m)).status_code == 302
    assert not Milestone.objects.exists()


def test_anonymous_visitors_are_sent_to_sign_in_to_edit(open_world):
    w = open_world
    m = milestone(w)

    for url in [space_url("work-plan-edit", w.space), m_url("milestone-status", m), m_url("milestone-edit", m)]:
        response = Client().post(url, {"status": "done", "product": "X"})
        assert response.status_code == 302 and "/accounts/login/" in response["Location"], url
    assert fresh(m).status == "planned"


# --- Milestone status -----------------------------------------------------------------------------------------
def test_the_owner_sets_the_status_of_their_own_milestone(open_world):
    w = open_world
    m = milestone(w, owner=w.editor)
    browser = client_for(w.editor)

    response = browser.post(m_url("milestone-status", m), {"status": "done"})

    assert response.status_code == 302
    m = fresh(m)
    assert m.status == MilestoneStatus.DONE
    assert m.completed_at == timezone.now()
    assert ActivityEvent.objects.filter(kind="milestone_status", member=w.editor).exists()
    browser.post(m_url("milestone-status", m), {"status": "in_progress"})
    assert (fresh(m).status, fresh(m).completed_at) == ("in_progress", None)


def test_other_members_cannot_set_the_status_of_someone_elses_milestone(open_world):
    w = open_world
    m = milestone(w, owner=w.editor)
    viewer_owned = milestone(w, title="Viewer's part", owner=w.viewer)

    assert client_for(w.admin).post(m_url("milestone-status", m), {"status": "done"}).status_code == 302
    assert client_for(w.viewer).post(m_url("milestone-status", m), {"status": "planned"}).status_code == 403
    # Owners move their milestone along while they may contribute; a viewer does not.
    assert client_for(w.viewer).post(m_url("milestone-status", viewer_owned), {"status": "done"}).status_code == 403
    assert (fresh(m).status, fresh(viewer_owned).status) == ("done", "planned")


def test_a_bad_status_is_refused_and_changes_nothing(open_world):
    w = open_world
    m = milestone(w, owner=w.editor)

    response = client_for(w.editor).post(m_url("milestone-status", m), {"status": "finished-ish"})

    assert "Choose a status." in messages_of(response)
    assert fresh(m).status == "planned"
    with pytest.raises(ValidationError):
        services.milestone_set_status(actor=w.editor, milestone=fresh(m), status="finished-ish")


# --- Bad input ----------------------------------------------------------------------------------------------
def test_the_owner_must_be_a_member_of_the_space(open_world):
    w = open_world

    for person in [w.outsider, w.banned, make_user("stranger")]:
        with pytest.raises(ValidationError) as exc:
            milestone(w, owner=person)
        assert exc.value.message_dict["owner"] == ["The owner must be a member of this space."]
    response = client_for(w.moderator).post(
        space_url("milestone-create", w.space), {"title": "X", "due_date": "2030-07-01", "owner": w.outsider.pk}
    )

    assert response.status_code == 200 and "owner" in form_errors(response)
    assert not Milestone.objects.exists()


def test_missing_title_or_date_is_refused(open_world):
    w = open_world

    with pytest.raises(ValidationError) as exc:
        services.milestone_create(actor=w.moderator, space=w.space, title="  ", due_date=None)

    assert exc.value.message_dict == {
        "title": ["Give the milestone a title."],
        "due_date": ["Give the milestone a due date."],
    }
    assert not Milestone.objects.exists()


def test_linked_items_must_be_visible_pages_or_events_of_the_same_space(open_world, world_factory):
    w = open_world
    restricted = page(w, "Admins only", by=w.admin)
    space_services.page_set_restrictions(
        actor=w.admin, page=restricted, viewers=[], restrict_view=True, restrict_edit=False
    )
    question = space_services.question_ask(actor=w.editor, space=w.space, title="Which keys?")
    elsewhere = make_space(w.staff, w.community, Visibility.OPEN, slug="elsewhere")
    other_page = space_services.page_create(actor=w.staff, space=elsewhere, title="Elsewhere")

    for bad in [restricted.item, question.item, other_page.item]:
        with pytest.raises(ValidationError) as exc:
            milestone(w, linked_items=[bad])
        assert exc.value.message_dict["linked_items"] == ["Link only pages and events of this space that you can see."]
    assert not Milestone.objects.exists()
    assert milestone(w, by=w.admin, linked_items=[restricted.item]).linked_items.get() == restricted.item


def test_a_moderator_who_cannot_see_a_restricted_link_keeps_it_when_editing(open_world):
    w = open_world
    restricted = page(w, "Admins only", by=w.admin)
    space_services.page_set_restrictions(
        actor=w.admin, page=restricted, viewers=[], restrict_view=True, restrict_edit=False
    )
    public = page(w, "Open notes")
    m = milestone(w, by=w.admin, linked_items=[restricted.item, public.item])

    response = client_for(w.moderator).post(
        m_url("milestone-edit", m), {"title": "Renamed", "due_date": "2030-06-30", "status": "planned"}
    )

    assert response.status_code == 302
    assert set(fresh(m).linked_items.all()) == {restricted.item}


# --- Progress, next deadline, overdue -------------------------------------------------------------------------
def test_summary_shows_progress_next_deadline_and_overdue(open_world):
    w = open_world
    services.work_plan_update(actor=w.moderator, space=w.space, product="Good practices", due_date=days(18))
    milestone(w, "Late draft", due=-3)
    milestone(w, "Late but done", due=-2, status=MilestoneStatus.DONE)
    milestone(w, "Dropped idea", due=-1, status=MilestoneStatus.DROPPED)
    milestone(w, "Due today", due=0, status=MilestoneStatus.IN_PROGRESS)
    milestone(w, "Next week", due=7)
    milestone(w, "Already done", due=9, status=MilestoneStatus.DONE)

    summary = selectors_workplan.work_plan_summary(w.space, w.viewer)

    assert summary["plan"].product == "Good practices"
    assert (summary["done"], summary["total"], summary["percent"]) == (2, 5, 40)  # the dropped one does not count
    assert (summary["next_milestone"].title, summary["days_left"]) == ("Due today", 0)
    assert summary["overdue_count"] == 1
    assert [m.title for m in summary["overdue"]] == ["Late draft"]
    assert summary["has_work_plan"] and not summary["can_edit_work_plan"]

    html = render_to_string("spaces/partials/work_plan_summary.html", {"summary": summary})
    assert "Good practices" in html
    assert "2 of 5 milestones done (40%)" in html
    assert "Next deadline:" in html and "Due today" in html and "(today)" in html
    assert "1 overdue milestone" in html and "Late draft" in html


def test_a_plan_with_no_open_milestone_is_summed_up_without_looking_for_deadlines(open_world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    w = open_world
    milestone(w, "Late but done", due=-2, status=MilestoneStatus.DONE)
    milestone(w, "Dropped idea", due=4, status=MilestoneStatus.DROPPED)

    with CaptureQueriesContext(connection) as ctx:
        summary = selectors_workplan.work_plan_summary(w.space, w.viewer)

    assert (summary["done"], summary["total"], summary["percent"], summary["overdue_count"]) == (1, 1, 100, 0)
    assert summary["next_milestone"] is None and summary["overdue"] == [] and summary["has_work_plan"]
    assert not [q for q in ctx.captured_queries if q["sql"].startswith('SELECT "spaces_milestone"')]


def test_overdue_is_decided_by_the_communitys_date(open_world, time_machine):
    w = open_world
    w.community.time_zone = "Pacific/Auckland"  # already 11 June there at 20:00 UTC on 10 June
    w.community.save(update_fields=["time_zone"])
    milestone(w, "Due 10 June", due=0)
    time_machine.move_to(dt.datetime(2030, 6, 10, 20, 0, tzinfo=dt.UTC), tick=False)
    space = type(w.space).objects.select_related("community").get(pk=w.space.pk)

    summary = selectors_workplan.work_plan_summary(space, w.viewer)

    assert summary["today"] == dt.date(2030, 6, 11)
    assert summary["overdue_count"] == 1 and summary["next_milestone"] is None


def test_the_work_plan_page_marks_overdue_milestones(open_world):
    w = open_world
    late = milestone(w, "Late draft", due=-1, owner=w.editor)
    on_time = milestone(w, "On time", due=1)
    done_late = milestone(w, "Done late", due=-5, status=MilestoneStatus.DONE)

    response = client_for(w.viewer).get(space_url("work-plan", w.space))

    assert response.status_code == 200
    rows = {m.pk: m for m in response.context["milestones"]}
    assert (rows[late.pk].is_overdue, rows[on_time.pk].is_overdue, rows[done_late.pk].is_overdue) == (
        True,
        False,
        False,
    )
    html = response.content.decode()
    assert html.count('class="milestone-overdue"') == 1
    assert html.count(">Overdue</span>") == 1
    assert f'id="milestone-{late.pk}" class="milestone-overdue"' in html


def test_the_status_form_is_offered_only_to_those_who_may_use_it(open_world):
    w = open_world
    mine = milestone(w, "Mine", owner=w.editor)
    theirs = milestone(w, "Theirs", owner=w.moderator)

    rows = {m.pk: m for m in client_for(w.editor).get(space_url("work-plan", w.space)).context["milestones"]}
    viewer_html = client_for(w.viewer).get(space_url("work-plan", w.space)).content.decode()

    assert (rows[mine.pk].can_update, rows[theirs.pk].can_update, rows[mine.pk].can_edit) == (True, False, False)
    assert 'name="status"' not in viewer_html


# --- Linked items and visibility --------------------------------------------------------------------------
def test_linked_pages_the_viewer_cannot_see_are_not_shown(open_world):
    w = open_world
    restricted = page(w, "Secret budget notes", by=w.admin)
    space_services.page_set_restrictions(
        actor=w.admin, page=restricted, viewers=[w.viewer], restrict_view=True, restrict_edit=False
    )
    hidden_later = page(w, "Soon in the trash")
    public = page(w, "Open outline")
    milestone(w, "Budget", by=w.admin, linked_items=[restricted.item, hidden_later.item, public.item])
    space_services.item_trash(actor=w.moderator, item=Item.objects.select_related("space").get(pk=hidden_later.item_id))

    def titles(user):
        response = browser_for(user).get(space_url("work-plan", w.space))
        assert response.status_code == 200
        links = [item.title for item, _url in response.context["milestones"][0].visible_links]
        return links, response.content.decode()

    for user in [w.editor, w.moderator, w.outsider, w.anonymous]:
        links, html = titles(user)
        assert links == ["Open outline"], user
        assert "Secret budget notes" not in html and "Soon in the trash" not in html
    for user in [w.viewer, w.admin]:  # named on the page, and the space's admin
        links, html = titles(user)
        assert links == ["Open outline", "Secret budget notes"]
        assert restricted.get_absolute_url() in html


def test_outsiders_get_404_on_every_work_plan_url_of_a_closed_space(closed_world):
    w = closed_world
    m = milestone(w)
    urls = {
        "work-plan": space_url("work-plan", w.space),
        "work-plan-edit": space_url("work-plan-edit", w.space),
        "milestone-create": space_url("milestone-create", w.space),
        "milestone-edit": m_url("milestone-edit", m),
    }

    for name in NON_MEMBERS:
        browser = client_for(getattr(w, name))
        assert {k: browser.get(u).status_code for k, u in urls.items()} == dict.fromkeys(urls, 404), name
        for url in [m_url("milestone-status", m), m_url("milestone-delete", m)]:
            assert browser.post(url, {"status": "done"}).status_code == 404
    assert Client().get(urls["work-plan"]).status_code == 404
    assert fresh(m).status == "planned"


def test_non_members_of_a_private_space_get_403_on_its_work_plan(private_world):
    w = private_world
    milestone(w, "Private milestone")

    for name in ["anonymous", *NON_MEMBERS]:
        response = browser_for(getattr(w, name)).get(space_url("work-plan", w.space))
        assert response.status_code == 403, name
        assert b"Private milestone" not in response.content


def test_a_milestone_of_another_space_is_404(open_world):
    w = open_world
    elsewhere = make_space(w.staff, w.community, Visibility.OPEN, slug="elsewhere")
    foreign = services.milestone_create(actor=w.staff, space=elsewhere, title="Foreign", due_date=days(3))

    url = space_url("milestone-status", w.space, milestone_id=foreign.pk)

    assert client_for(w.moderator).post(url, {"status": "done"}).status_code == 404
    assert fresh(foreign).status == "planned"


# --- Query counts -------------------------------------------------------------------------------------------
def add_milestones(w, pages, start: int, stop: int) -> None:
    for n in range(start, stop):
        milestone(
            w,
            f"Milestone {n}",
            due=n - 5,
            by=w.admin,
            owner=[w.editor, w.viewer, None][n % 3],
            status=list(MilestoneStatus.values)[n % 4],
            linked_items=[p.item for p in pages[n % 3 : n % 3 + 2]],
        )


def test_work_plan_page_query_count_is_constant(open_world):
    w = open_world
    services.work_plan_update(actor=w.moderator, space=w.space, product="Good practices", due_date=days(20))
    pages = [page(w, f"Page {n}") for n in range(4)]
    space_services.page_set_restrictions(
        actor=w.editor, page=pages[0], viewers=[], restrict_view=True, restrict_edit=False
    )
    browser = client_for(w.viewer)  # who does not see the restricted page 0
    url = space_url("work-plan", w.space)

    add_milestones(w, pages, 0, 3)
    few = count_queries(browser, url)
    add_milestones(w, pages, 3, 30)
    many = count_queries(browser, url)

    assert len(browser.get(url).context["milestones"]) == 30
    assert few == many
    assert many == 8  # the header's counts come from the cache
