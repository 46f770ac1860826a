"""Views and visits recorded by the pages members open (issue 6, item 1): once a view per detail page, at most
one visit per member per community per calendar day of the community's time zone."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics.models import ActivityEvent
from communities import services as community_services
from members.services import profile_update
from spaces import services
from spaces.models import Visibility
from spaces.services.events import event_create
from spaces.services.polls import poll_create
from spaces.services.posts import post_create
from tests.spaces.helpers import client_for, htmx, png_bytes, space_url

pytestmark = pytest.mark.django_db

NOON = datetime(2025, 6, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fresh_visit_cache():
    """The visit cache outlives a test's database rows; start each test without yesterday's keys."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def open_world(world_factory, time_machine):
    time_machine.move_to(NOON, tick=False)
    return world_factory(Visibility.OPEN)


@pytest.fixture
def closed_world(world_factory, time_machine):
    time_machine.move_to(NOON, tick=False)
    return world_factory(Visibility.CLOSED)


def make_content(w) -> dict:
    """One of each kind that has a detail page, by the space's editor."""
    starts = NOON + timedelta(days=7)
    return {
        "page_view": services.page_create(actor=w.editor, space=w.space, title="Sampling frames", body="Text"),
        "question_view": services.question_ask(actor=w.editor, space=w.space, title="Which frame for farms?"),
        "event_view": event_create(
            actor=w.editor,
            space=w.space,
            title="Frames workshop",
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            time_zone="UTC",
        ),
        "post_view": post_create(actor=w.editor, space=w.space, body="New frame published"),
        "poll_view": poll_create(actor=w.editor, space=w.space, question="Meet monthly?", options=["Yes", "No"]),
        "file_view": services.file_upload(
            actor=w.editor, space=w.space, upload=SimpleUploadedFile("frames.csv", b"frame,units\nfarms,120\n")
        ),
    }


def views(**filters):
    return ActivityEvent.objects.filter(kind__endswith="_view", **filters)


def visits(**filters):
    return ActivityEvent.objects.filter(kind="visit", **filters)


def inserts(ctx) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if "INSERT" in q["sql"] and "analytics_activityevent" in q["sql"]]


# --- Views --------------------------------------------------------------------------------------------------
def test_member_opening_a_page_records_one_page_view_with_its_community_space_and_page(open_world):
    w = open_world
    profile_update(actor=w.viewer, user=w.viewer, country="Nepal")
    page = services.page_create(actor=w.editor, space=w.space, title="Sampling frames", body="Text")

    assert client_for(w.viewer).get(page.get_absolute_url()).status_code == 200

    view = views().get()
    assert (view.member, view.kind, view.community_id, view.space_id) == (
        w.viewer,
        "page_view",
        w.community.pk,
        w.space.pk,
    )
    assert (view.target_type, view.target_id) == ("spaces.page", page.pk)
    assert view.country == "Nepal"  # copied from the profile for the breakdowns
    assert view.occurred_at == NOON
    visit = visits().get()
    assert (visit.member, visit.community_id, visit.visit_day) == (w.viewer, w.community.pk, date(2025, 6, 2))


def test_each_detail_page_records_a_view_of_its_own_kind_and_object(open_world):
    w = open_world
    content = make_content(w)
    browser = client_for(w.viewer)
    for obj in content.values():
        assert browser.get(obj.get_absolute_url()).status_code == 200

    recorded = set(views(member=w.viewer).values_list("kind", "target_type", "target_id"))
    assert recorded == {(kind, obj._meta.label_lower, obj.pk) for kind, obj in content.items()}
    assert visits(member=w.viewer).count() == 1


def test_downloading_a_file_records_a_view_of_it_and_an_image_shown_in_a_page_does_not(open_world):
    w = open_world
    data = services.file_upload(actor=w.editor, space=w.space, upload=SimpleUploadedFile("units.csv", b"a,b\n1,2\n"))
    chart = services.file_upload(actor=w.editor, space=w.space, upload=SimpleUploadedFile("chart.png", png_bytes()))
    browser = client_for(w.viewer)

    assert browser.get(data.get_download_url()).status_code == 200
    version_one = reverse(
        "spaces:file-version-download", kwargs={"file_id": data.pk, "number": 1, "filename": "units.csv"}
    )
    assert browser.get(version_one).status_code == 200
    missing = reverse("spaces:file-version-download", kwargs={"file_id": data.pk, "number": 9, "filename": "units.csv"})
    assert browser.get(missing).status_code == 404
    inline = reverse("spaces:file-inline", kwargs={"file_id": chart.pk, "filename": "chart.png"})
    assert browser.get(inline).status_code == 200

    recorded = list(views(member=w.viewer).values_list("kind", "target_type", "target_id", "space_id"))
    assert recorded == [("file_view", "spaces.fileasset", data.pk, w.space.pk)] * 2


def test_opening_a_page_twice_records_two_views_but_one_visit(open_world):
    w = open_world
    page = services.page_create(actor=w.editor, space=w.space, title="Sampling frames", body="Text")
    browser = client_for(w.viewer)
    browser.get(page.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        browser.get(page.get_absolute_url())
    assert len(inserts(ctx)) == 1  # the view alone: today's visit is known
    assert views(member=w.viewer).count() == 2
    assert visits(member=w.viewer).count() == 1


def test_history_diff_htmx_and_head_requests_record_no_view(open_world):
    w = open_world
    page = services.page_create(actor=w.editor, space=w.space, title="Sampling frames", body="Text")
    services.page_update(actor=w.editor, page=page, title=page.title, body="Revised", base_version=1)
    browser = client_for(w.viewer)
    detail = page.get_absolute_url()
    history = space_url("page-history", w.space, page_slug=page.slug)
    diff = space_url("page-diff", w.space, page_slug=page.slug) + "?from=1&to=2"

    assert browser.get(history).status_code == 200
    assert browser.get(diff).status_code == 200
    assert htmx(browser, "get", detail).status_code == 200
    assert browser.head(detail).status_code == 200

    assert not views().exists()
    assert not visits().exists()


# --- Visits -------------------------------------------------------------------------------------------------
def test_space_home_lists_and_community_page_count_one_visit_a_day(open_world, time_machine):
    w = open_world
    browser = client_for(w.viewer)
    urls = [
        w.space.get_absolute_url(),
        *(space_url(name, w.space) for name in ["pages", "questions", "events", "posts", "polls"]),
        reverse("communities:detail", kwargs={"community_slug": w.community.slug}),
    ]
    for url in urls * 2:
        assert browser.get(url).status_code == 200
    assert visits(member=w.viewer).count() == 1
    assert visits().get().space_id == w.space.pk  # the first page opened that day

    time_machine.move_to(NOON + timedelta(days=1), tick=False)
    browser.get(urls[-1])
    assert list(visits(member=w.viewer).order_by("visit_day").values_list("visit_day", flat=True)) == [
        date(2025, 6, 2),
        date(2025, 6, 3),
    ]


def test_a_repeat_visit_the_same_day_writes_nothing(open_world):
    w = open_world
    browser = client_for(w.viewer)
    browser.get(w.space.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        assert browser.get(space_url("questions", w.space)).status_code == 200
    assert inserts(ctx) == []


@pytest.mark.parametrize(
    ("zone", "expected_days"),
    [
        ("Asia/Kathmandu", [date(2025, 6, 2), date(2025, 6, 3)]),  # +5:45: 23:55 and 00:05 local
        ("UTC", [date(2025, 6, 2)]),
    ],
)
def test_the_visit_day_follows_the_communitys_time_zone(open_world, time_machine, zone, expected_days):
    w = open_world
    community_services.community_update(actor=w.staff, community=w.community, time_zone=zone)
    browser = client_for(w.viewer)
    for moment in (datetime(2025, 6, 2, 18, 10, tzinfo=UTC), datetime(2025, 6, 2, 18, 20, tzinfo=UTC)):
        time_machine.move_to(moment, tick=False)
        assert browser.get(w.space.get_absolute_url()).status_code == 200

    days = list(visits(member=w.viewer).order_by("visit_day").values_list("visit_day", flat=True))
    assert days == expected_days


# --- Who is not recorded ------------------------------------------------------------------------------------
def test_anonymous_visitors_record_nothing(open_world):
    w = open_world
    content = make_content(w)
    browser = Client()
    for url in [
        w.space.get_absolute_url(),
        space_url("pages", w.space),
        reverse("communities:detail", kwargs={"community_slug": w.community.slug}),
        *(obj.get_absolute_url() for obj in content.values()),
    ]:
        assert browser.get(url).status_code == 200, url
    assert not ActivityEvent.objects.filter(kind__in=["visit", *content]).exists()


def test_an_outsider_refused_a_closed_space_records_nothing(closed_world):
    w = closed_world
    content = make_content(w)
    browser = client_for(w.outsider)
    before = ActivityEvent.objects.count()
    for url in [
        w.space.get_absolute_url(),
        space_url("pages", w.space),
        *(o.get_absolute_url() for o in content.values()),
    ]:
        assert browser.get(url).status_code == 404, url
    assert ActivityEvent.objects.count() == before
