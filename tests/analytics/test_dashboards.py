"""The engagement dashboards: who gets in, what they see, the CSV exports, the points policy, query counts."""

import csv
import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import services
from analytics.models import MemberDay, PointsPolicy
from analytics.views.exports import CSV_FIGURES
from tests.analytics.helpers_dashboards import (
    CLOSED_NAME,
    add_activity,
    after_a_rollup,
    backdate_memberships,
    build_site,
    planner_statements,
)
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for

DASHBOARD = reverse("analytics:community", kwargs={"community_slug": "statistics"})
OTHER_DASHBOARD = reverse("analytics:community", kwargs={"community_slug": "other-community"})
POLICY = reverse("analytics:points-policy", kwargs={"community_slug": "statistics"})
INDEX = reverse("analytics:index")
OVERVIEW = reverse("analytics:overview")


@pytest.fixture
def site(db):
    s = build_site()
    add_activity(s.dana, s.beta, range(0, 60, 2), referrals=1)
    add_activity(s.carol, s.closed, range(0, 60, 3), referrals=1)
    add_activity(s.member, s.open_space, range(0, 10))
    return s


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def html(response) -> str:
    assert response.status_code == 200
    return response.content.decode()


# --- Who gets in ----------------------------------------------------------------------------------------------------
def test_anonymous_is_sent_to_sign_in(client, site):
    for url in (INDEX, OVERVIEW, DASHBOARD, f"{DASHBOARD}?format=csv&figure=levels", POLICY):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("who", ["outsider", "member", "dana"])
def test_outsiders_and_plain_members_get_404_everywhere(site, who):
    browser = client_for(getattr(site, who))
    for url in (INDEX, OVERVIEW, DASHBOARD, f"{DASHBOARD}?format=csv&figure=levels", POLICY):
        assert browser.get(url).status_code == 404, url
    assert browser.post(POLICY, {"daily_cap": 5}).status_code == 404


def test_member_level_leaderboard_csv_is_not_given_to_those_not_allowed(site):
    for person in (site.member, site.outsider, site.other_admin):
        browser = client_for(person)
        for figure in ("leaderboard_30", "leaderboard_all", "referrals"):
            assert browser.get(f"{DASHBOARD}?format=csv&figure={figure}").status_code == 404


def test_unknown_csv_figure_is_404(site):
    assert client_for(site.community_admin).get(f"{DASHBOARD}?format=csv&figure=nope").status_code == 404


def test_wrong_method_is_refused(site):
    assert client_for(site.community_admin).post(DASHBOARD).status_code == 405


# --- What each role sees --------------------------------------------------------------------------------------------
def test_space_moderator_sees_only_their_space_in_page_and_every_csv(site):
    browser = client_for(site.space_mod)
    page = html(browser.get(DASHBOARD))
    assert "Beta Lab" in page
    assert "Dana" in page  # on the leaderboard of their space
    for absent in (CLOSED_NAME, "hidden-working-group", "Open Commons", "Carol", "Plainmember", "Whole community"):
        assert absent not in page
    for figure in CSV_FIGURES:
        body = browser.get(f"{DASHBOARD}?format=csv&figure={figure}&posting_by=space").content.decode()
        assert CLOSED_NAME not in body and "Carol" not in body and "Open Commons" not in body, figure


def test_space_moderator_cannot_pick_another_space(site):
    browser = client_for(site.space_mod)
    for slug in ("hidden-working-group", "open-commons"):
        response = browser.get(DASHBOARD, {"space": slug, "posting_by": "member"})
        page = html(response)
        assert "Space: Select a valid choice" in page
        assert response.context["filters"].scope.space_ids == (site.beta.pk,)
        assert CLOSED_NAME not in page and "Carol" not in page


def test_community_admin_sees_their_community_with_closed_space_names_but_not_another(site):
    browser = client_for(site.community_admin)
    page = html(browser.get(DASHBOARD, {"posting_by": "space"}))
    assert CLOSED_NAME in page  # a filter option and a posting-history series
    assert "Carol" in page and "Dana" in page
    assert browser.get(OTHER_DASHBOARD).status_code == 404
    focused = browser.get(DASHBOARD, {"space": "beta-lab"})
    assert focused.context["filters"].scope.space_ids == (site.beta.pk,)
    assert "Carol" not in html(focused).split('id="points"')[1]


def test_analyst_sees_every_community_and_the_overview(site):
    browser = client_for(site.analyst)
    index = html(browser.get(INDEX))
    assert DASHBOARD in index and OTHER_DASHBOARD in index and OVERVIEW in index
    assert POLICY not in index  # analysts read, they do not set points
    assert CLOSED_NAME in html(browser.get(DASHBOARD, {"posting_by": "space"}))
    assert browser.get(OTHER_DASHBOARD).status_code == 200
    assert "Carol" in html(browser.get(OVERVIEW))
    by_community = browser.get(OVERVIEW, {"posting_by": "community"})
    assert [line["name"] for line in by_community.context["posting_chart"]["series"]] == ["Statistics"]
    assert browser.get(POLICY).status_code == 403


def test_landing_page_lists_a_space_moderators_spaces_only(site):
    page = html(client_for(site.space_mod).get(INDEX))
    assert "Beta Lab" in page and f"{DASHBOARD}?space=beta-lab" in page
    assert CLOSED_NAME not in page and OVERVIEW not in page and POLICY not in page


def test_country_filter_narrows_every_member_figure(site):
    browser = client_for(site.community_admin)
    response = browser.get(DASHBOARD, {"country": "Kenya"})
    points = html(response).split('id="points"')[1].split("</section>")[0]
    assert "Dana" in points and "Carol" not in points
    assert response.context["filters"].scope.country == "Kenya"


def test_bad_filter_values_give_a_clear_message_and_fall_back_to_defaults(site):
    browser = client_for(site.community_admin)
    response = browser.get(
        DASHBOARD, {"start": "2024-13-01", "end": "2999-01-01", "tz": "Mars/Olympus", "country": "Atlantis"}
    )
    page = html(response)
    assert page.count("The default is shown instead.") == 4
    assert "The end date is in the future." in page
    scope = response.context["filters"].scope
    assert (scope.start, scope.country) == (None, "")
    assert scope.end == response.context["filters"].form.today
    assert response.context["filters"].chosen_zone == "UTC"


def test_start_after_end_is_refused(site):
    response = client_for(site.community_admin).get(DASHBOARD, {"start": "2024-05-01", "end": "2024-04-01"})
    assert "The start date is after the end date." in html(response)
    assert response.context["filters"].scope.start is None


def test_heatmap_in_the_community_zone_and_a_chosen_zone(site):
    browser = client_for(site.community_admin)
    page = html(browser.get(DASHBOARD, {"tz": "Asia/Kathmandu"}))
    assert "Activity by weekday and hour, UTC" in page
    assert "Activity by weekday and hour, Asia/Kathmandu" in page
    rows = csv_rows(browser.get(DASHBOARD, {"tz": "Asia/Kathmandu", "format": "csv", "figure": "heatmap_chosen"}))
    assert "Asia/Kathmandu" in rows[0][0]
    assert len(rows) == 1 + 7 * 24


# --- Rendering ------------------------------------------------------------------------------------------------------
def test_page_renders_accessible_svg_charts_with_table_views_and_csv_links(site):
    page = html(client_for(site.community_admin).get(DASHBOARD))
    svgs = re.findall(r"<svg [^>]*>", page)
    assert len(svgs) >= 5
    assert all('role="img"' in tag and "aria-labelledby=" in tag for tag in svgs)
    assert page.count("<title id=") == len(svgs) and page.count("<desc id=") == len(svgs)
    assert page.count("Show the numbers as a table") == len(svgs)
    for figure in ("return_trend", "cohorts", "active", "levels", "posting", "heatmap", "knowledge", "leaderboard_30"):
        assert f"format=csv&amp;figure={figure}" in page
    assert "30-day return rate: of the members of the population" in page  # the exact definition beside it
    assert re.search(r'class="num shade-[0-5]"', page)  # cohort shading by class
    assert "css/analytics.css" in page
    # CSP: no inline styles, scripts or event handlers
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)


def test_header_and_community_page_link_to_the_dashboards_for_those_allowed(site):
    link = f'href="{INDEX}"'
    community_page = reverse("communities:detail", kwargs={"community_slug": "statistics"})
    admin_page = html(client_for(site.community_admin).get(community_page))
    assert link in admin_page and f'href="{DASHBOARD}"' in admin_page
    assert link in html(client_for(site.space_mod).get(community_page))
    member_page = html(client_for(site.member).get(community_page))
    assert link not in member_page and f'href="{DASHBOARD}"' not in member_page


# --- CSV ------------------------------------------------------------------------------------------------------------
def test_aggregated_csv_suppresses_small_counts(site, settings):
    browser = client_for(site.community_admin)
    levels = {row[0]: row for row in csv_rows(browser.get(DASHBOARD, {"format": "csv", "figure": "levels"}))}
    assert levels["Core"][1:] == ["<5", ""]  # Dana and Carol and the plain member: 3, and no share either
    assert levels["Dormant"][1] == "<5"
    page = html(browser.get(DASHBOARD))
    assert '<td class="num">3</td>' in page.split('id="levels"')[1]  # the dashboard itself shows exact counts

    for n in range(4):
        person = make_user(f"core{n}")
        add_member(site.open_space, person, by=site.staff)
        backdate_memberships([person])
        add_activity(person, site.open_space, range(0, 10))
    levels = {row[0]: row for row in csv_rows(browser.get(DASHBOARD, {"format": "csv", "figure": "levels"}))}
    assert levels["Core"][1] == "7"
    assert levels["Core"][2].startswith("0.")

    settings.ANALYTICS_SUPPRESS_BELOW = 10
    levels = {row[0]: row for row in csv_rows(browser.get(DASHBOARD, {"format": "csv", "figure": "levels"}))}
    assert levels["Core"][1] == "<10"


def test_member_level_csv_is_not_suppressed_and_is_formula_safe(site):
    get_user_model().objects.filter(pk=site.dana.pk).update(display_name='=HYPERLINK("http://evil.example")')
    rows = csv_rows(client_for(site.community_admin).get(DASHBOARD, {"format": "csv", "figure": "leaderboard_all"}))
    names = {row[1]: row for row in rows[1:]}
    assert '\'=HYPERLINK("http://evil.example")' in names
    assert names["Carol"][2] == "200"  # 20 days x 10 points, exact
    assert all(not row[1].startswith(("=", "+", "-", "@")) for row in rows[1:])


# --- Points policy --------------------------------------------------------------------------------------------------
def policy_data(**changes) -> dict:
    from analytics.kinds import DEFAULT_POINTS

    return {**DEFAULT_POINTS, "daily_cap": 200, **changes}


def test_community_admin_changes_the_points_policy_and_points_are_recomputed(site, django_capture_on_commit_callbacks):
    browser = client_for(site.community_admin)
    assert "Posting an answer" in html(browser.get(POLICY))
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(POLICY, policy_data(page_edit=7, visit=0, daily_cap=50))
    assert response.status_code == 302
    policy = PointsPolicy.objects.get(community=site.community)
    assert (policy.weights["page_edit"], policy.weights["visit"], policy.daily_cap) == (7, 0, 50)
    assert policy.updated_by == site.community_admin
    # a day of the plain member's: 1 page edit and 1 visit (10 points before) -> 7 points under the new weights
    day = MemberDay.objects.filter(member_id=site.member.pk, space_id=0).first()
    assert day.points == 7


@pytest.mark.parametrize("who", ["space_mod", "analyst", "community_moderator", "other_admin"])
def test_others_cannot_change_the_points_policy(site, who):
    response = client_for(getattr(site, who)).post(POLICY, policy_data(page_edit=99))
    assert response.status_code in (403, 404)
    assert not PointsPolicy.objects.exists()


@pytest.mark.parametrize(
    "bad", [{"page_edit": 1001}, {"visit": -1}, {"daily_cap": 0}, {"daily_cap": 10001}, {"answer_post": "ten"}]
)
def test_bad_points_policy_input_changes_nothing(site, bad, django_capture_on_commit_callbacks):
    services.points_policy_set(actor=site.staff, community=site.community, weights={"page_edit": 4}, daily_cap=80)
    before = PointsPolicy.objects.values("weights", "daily_cap").get()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(site.community_admin).post(POLICY, policy_data(**bad))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert 'class="field-error"' in html(response)
    assert PointsPolicy.objects.values("weights", "daily_cap").get() == before
    assert callbacks == []


def test_points_policy_service_validates_on_its_own(site):
    from django.core.exceptions import ValidationError

    for weights, cap in [({"bogus": 3}, 100), ({"page_edit": True}, 100), ({"page_edit": 2000}, 100), ({}, 0)]:
        with pytest.raises(ValidationError):
            services.points_policy_set(
                actor=site.community_admin, community=site.community, weights=weights, daily_cap=cap
            )
    assert not PointsPolicy.objects.exists()


# --- Query counts ---------------------------------------------------------------------------------------------------
FEW, MANY = 3, 30


def add_people(site, start: int, stop: int) -> None:
    for n in range(start, stop):
        person = make_user(f"person{n}", country="Chile" if n % 2 else "Kenya")
        add_member(site.beta, person, by=site.staff)
        backdate_memberships([person])
        add_activity(person, site.beta, range(n % 5, 90, 3), referrals=1)


def dashboard_queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("who", ["community_admin", "space_mod"])
def test_dashboard_query_count_is_the_same_for_few_and_many_members(db, who):
    site = build_site()
    browser = client_for(getattr(site, who))
    url = f"{DASHBOARD}?posting_by=member&tz=Asia/Kolkata"
    add_people(site, 0, FEW)
    browser.get(url)  # the first request of a session also saves it
    after_a_rollup()
    few_computed, few_cached = dashboard_queries(browser, url), dashboard_queries(browser, url)
    add_people(site, FEW, MANY)
    after_a_rollup()
    many_computed, many_cached = dashboard_queries(browser, url), dashboard_queries(browser, url)
    assert MemberDay.objects.count() > 10 * FEW * 15
    # Request and permissions 7 (the header's counts come from the cache), the roll-up generation 1; after a roll-up
    # the filters' values 2 and the figures 12 (metrics.dashboard: time zones, population, active days, day counts,
    # names, cohorts, posting, both heatmaps, knowledge health 4); until the next roll-up they are remembered.
    # A whole community's cohorts read one standing row per member; a space's read its memberships, months and eras
    # together, with planner settings on PostgreSQL.
    planner = planner_statements() if who == "space_mod" else 0
    assert few_computed == many_computed == 22 + planner  # the header's counts come from the cache
    assert few_cached == many_cached == 8
