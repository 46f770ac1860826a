"""The breakdown table by country and organisation type: its figures (worked out by hand, and equal to each figure's
own function restricted to one value), its fixed query count, small-count suppression in the page and the CSV, the
switch between the two breakdowns, and who sees which rows.

END is a Sunday; with it, "the last 30 days" are 2025-05-31..2025-06-29 and "the 30 days before" 2025-05-01..05-30.
"""

from __future__ import annotations

import csv
import io
import random
import re
from dataclasses import replace
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import metrics
from analytics.metrics import Ratio, Scope
from communities.models import CommunityMembership
from spaces.models import SpaceMembership
from tests.analytics.helpers_dashboards import (
    CLOSED_NAME,
    add_activity,
    after_a_rollup,
    backdate_memberships,
    build_site,
)
from tests.analytics.test_metrics import activity, noon, queries, scope
from tests.factories import add_member, make_community, make_space, make_user
from tests.spaces.helpers import client_for

User = get_user_model()
END = date(2025, 6, 29)
EARLY = date(2024, 1, 1)
DASHBOARD = reverse("analytics:community", kwargs={"community_slug": "statistics"})


def join(community, name: str, joined: date = EARLY, *, login: date | None = EARLY, space=None, **profile):
    """A member of ``community`` (and of ``space``) who joined on ``joined`` and last signed in on ``login``."""
    user = make_user(name, **profile)
    CommunityMembership.objects.create(community=community, user=user)
    CommunityMembership.objects.filter(user=user).update(joined_at=noon(joined))
    if space is not None:
        SpaceMembership.objects.create(space=space, user=user)
        SpaceMembership.objects.filter(user=user).update(joined_at=noon(joined))
    User.objects.filter(pk=user.pk).update(last_login=noon(login) if login else None)
    return user


def d(month: int, day: int) -> date:
    return date(2025, month, day)


# --- The figures ------------------------------------------------------------------------------------------------------
@pytest.mark.django_db
def test_breakdown_table_by_hand(staff):
    community = make_community(staff, slug="statistics")
    k1 = join(community, "k1", country="Kenya")
    k2 = join(community, "k2", country="Kenya")
    k3 = join(community, "k3", country="Kenya")
    k4 = join(community, "k4", country="Kenya")
    join(community, "k5", country="Kenya", login=None)
    c1 = join(community, "c1", country="Chile")
    join(community, "boss", country="Chile", staff=True)  # staff: in no row
    join(community, "late", country="Peru", joined=END + timedelta(days=1))  # joined after END: in no row
    activity(community, k1, d(5, 10), visits=1)
    activity(community, k1, d(6, 10), d(6, 11), contributions=1)
    activity(community, k2, d(5, 10), visits=1)
    activity(community, k3, d(6, 1), visits=1)
    activity(community, k4, d(6, 1), d(6, 2), d(6, 3), d(6, 4), contributions=2)
    activity(community, c1, d(6, 5), visits=1)

    rows = {row.value: row for row in metrics.breakdown_table(scope(community), "country")}

    assert list(rows) == ["Chile", "Kenya"]
    kenya = rows["Kenya"]
    assert kenya.members == 5
    assert kenya.return_rate == Ratio(1, 2)  # k1 and k2 active in May; k1 again in June
    assert kenya.returning_members == Ratio(2, 3)  # active in June: k1 (2 days), k3 (1), k4 (4)
    assert kenya.monthly_active == 3
    # k4 core (4 contribution days), k1 active (2), k3 peripheral (visits), k2 dormant, k5 never signed in
    assert kenya.levels == {"core": 1, "active": 1, "peripheral": 1, "dormant": 1, "never": 1}
    assert kenya.level_share("core") == Ratio(1, 5)
    assert kenya.contributions == 2 + 4 * 2
    chile = rows["Chile"]
    assert (chile.members, chile.monthly_active, chile.returning_members, chile.contributions) == (1, 1, Ratio(0, 1), 0)
    assert chile.levels["peripheral"] == 1


def _random_site(staff, seed: int = 6):
    """Forty members with every kind of history: two spaces, countries and organisation types (some blank), joins
    before, inside and after the windows, activity of every sort from a year before END to END."""
    rng = random.Random(seed)
    community = make_community(staff, slug="statistics")
    spaces = [make_space(staff, community, slug="one"), make_space(staff, community, slug="two")]
    countries = ["Kenya", "Chile", "Nepal", "Fiji", ""]
    types = ["nso", "dev_partner", "academia", ""]
    first = END - timedelta(days=400)
    for n in range(40):
        joined = rng.choice([EARLY, END - timedelta(days=rng.randrange(0, 90)), END + timedelta(days=2)])
        login = rng.choice([None, EARLY, END - timedelta(days=10), END + timedelta(days=3)])
        space = rng.choice(spaces)
        user = join(
            community,
            f"m{n}",
            joined,
            login=login,
            space=space,
            country=rng.choice(countries),
            organisation_type=rng.choice(types),
            staff=n % 13 == 0,
        )
        days = sorted({first + timedelta(days=rng.randrange(0, 410)) for _ in range(rng.randrange(0, 25))})
        for day in days:
            contributions = rng.choice([0, 0, 1, 3])
            values = {"events": 1 + contributions, "visits": 1, "contributions": contributions}
            activity(community, user, day, **values)
            activity(community, user, day, space_id=space.pk, **values)
    return community, spaces


def _expected(scope_: Scope) -> tuple:
    """The row's figures from each figure's own function."""
    levels = metrics.participation_levels(scope_)
    active = metrics.active_members(scope_)
    return (
        levels.total,
        metrics.return_rate(scope_),
        metrics.returning_members(scope_),
        active[-1].mau if active else 0,
        levels.counts,
        sum(p.contributions for p in metrics.posting_history(scope_)),
    )


@pytest.mark.django_db
@pytest.mark.parametrize("by", metrics.BREAKDOWN_FIELDS)
def test_breakdown_table_agrees_with_each_figure_restricted_to_one_value(staff, by):
    community, spaces = _random_site(staff)
    scopes = [
        scope(community),
        scope(community, start=END - timedelta(days=45)),
        scope(community, space_ids=(spaces[0].pk,)),
        scope(community, space_ids=tuple(s.pk for s in spaces), end=END - timedelta(days=20)),
        scope(community, country="Kenya") if by == "organisation_type" else scope(community, organisation_type="nso"),
    ]
    for scope_ in scopes:
        table = metrics.breakdown_table(scope_, by)
        assert [row.value for row in table] == metrics.breakdown_values(scope_, by)
        assert len(table) >= 2
        for row in table:
            got = (
                row.members,
                row.return_rate,
                row.returning_members,
                row.monthly_active,
                row.levels,
                row.contributions,
            )
            assert got == _expected(replace(scope_, **{by: row.value})), (scope_, row.value)
        # the per-value breakdown of the library says the same
        assert metrics.breakdown(metrics.return_rate, scope_, by) == {row.value: row.return_rate for row in table}


def test_breakdown_table_refuses_other_fields():
    with pytest.raises(ValueError):
        metrics.breakdown_table(Scope(community_ids=(1,)), "region")


@pytest.mark.django_db
def test_breakdown_table_costs_three_queries_for_2_or_6_countries(staff):
    community = make_community(staff, slug="statistics")

    def people(countries: list[str], start: int) -> None:
        for n, country in enumerate(countries * 3):
            user = join(community, f"p{start + n}", country=country)
            activity(community, user, d(5, 1 + n), d(6, 1 + n), contributions=1)

    people(["Kenya", "Chile"], 0)
    few = queries(lambda: metrics.breakdown_table(scope(community), "country"))
    per_value = queries(lambda: metrics.breakdown(metrics.return_rate, scope(community), "country"))
    people(["Nepal", "Fiji", "Peru", "Ghana"], 100)
    assert len(metrics.breakdown_table(scope(community), "country")) == 6
    many = queries(lambda: metrics.breakdown_table(scope(community), "country"))
    assert few == many == 3  # time zones, the population with each member's value, day counts per member
    # what the table saves: one figure value by value costs more with every country
    assert queries(lambda: metrics.breakdown(metrics.return_rate, scope(community), "country")) > per_value


# --- The dashboard ----------------------------------------------------------------------------------------------------
@pytest.fixture
def site(db):
    s = build_site()
    add_activity(s.dana, s.beta, range(0, 60, 2))
    add_activity(s.carol, s.closed, range(0, 60, 3))
    return s


def add_people(site, country: str, count: int, *, space=None, **profile) -> list:
    people = []
    slug = re.sub(r"\W", "", country.lower())
    for n in range(count):
        person = make_user(f"{slug}{n}", country=country, **profile)
        add_member(space or site.open_space, person, by=site.staff)
        people.append(person)
    backdate_memberships(people)
    for person in people:
        add_activity(person, space or site.open_space, range(0, 60, 2))
    return people


def breakdown_section(response) -> str:
    assert response.status_code == 200
    page = response.content.decode()
    return page.split('id="breakdown"')[1].split("</section>")[0]


def table_row(section: str, label: str) -> str:
    match = re.search(rf'<th scope="row">{re.escape(label)}</th>(.*?)</tr>', section, re.S)
    assert match, label
    return match.group(1)


def csv_rows(response) -> dict[str, list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    return {row[0]: row for row in rows}


def test_a_country_with_three_members_shows_no_rates_in_the_page_or_the_csv(site):
    add_people(site, "Peru", 3)
    add_people(site, "Ghana", 6)
    browser = client_for(site.community_admin)

    section = breakdown_section(browser.get(DASHBOARD))
    peru = table_row(section, "Peru")
    assert "&lt;5" in peru and "%" not in peru and ">3<" not in peru
    assert peru.count("suppressed") == 9  # every cell after the member count
    ghana = table_row(section, "Ghana")
    # 6 members, all active before and now on 15 days with a contribution: core, 100 % return, 180 contributions
    assert re.findall(r'<td class="num">([^<]*)</td>', ghana)[:5] == ["6", "100.0 %", "100.0 %", "6", "100.0 %"]
    assert "180" in ghana
    assert "Breakdown table: one row per country" in section  # the definition beside it
    assert "format=csv&amp;figure=breakdown" in section

    rows = csv_rows(browser.get(DASHBOARD, {"format": "csv", "figure": "breakdown"}))
    assert rows["Country"][:5] == [
        "Country",
        "Members",
        "30-day return rate",
        "Returning members",
        "Monthly active members",
    ]
    assert rows["Peru"] == ["Peru", "<5"] + [""] * 9
    assert rows["Ghana"] == ["Ghana", "6", "1.0000", "1.0000", "6", "1.0000", "", "", "", "", "180"]
    assert rows["Kenya"][1] == "<5" and rows["Not stated"][1:3] == ["<5", ""]


def test_the_threshold_comes_from_settings(site, settings):
    add_people(site, "Peru", 3)
    settings.ANALYTICS_SUPPRESS_BELOW = 3
    rows = csv_rows(client_for(site.community_admin).get(DASHBOARD, {"format": "csv", "figure": "breakdown"}))
    assert rows["Peru"][:3] == ["Peru", "3", "1.0000"]
    assert rows["Kenya"] == ["Kenya", "<3"] + [""] * 9


def test_switch_to_organisation_type_keeps_the_other_filters(site):
    add_people(site, "Ghana", 5, organisation_type="nso")
    browser = client_for(site.community_admin)
    response = browser.get(DASHBOARD, {"breakdown": "organisation_type", "country": "Ghana"})
    section = breakdown_section(response)
    assert table_row(section, "National statistics office").startswith('<td class="num">5</td>')
    assert '<th scope="row">Ghana</th>' not in section and '<th scope="row">Not stated</th>' not in section
    assert 'aria-current="true">By organisation type</a>' in section
    assert 'href="/analytics/c/statistics/?country=Ghana&amp;breakdown=country#breakdown">By country</a>' in section
    assert re.search(r'href="[^"]*breakdown=organisation_type[^"]*&amp;figure=breakdown"', section)
    csv_query = {"format": "csv", "figure": "breakdown", "breakdown": "organisation_type", "country": "Ghana"}
    rows = csv_rows(browser.get(DASHBOARD, csv_query))
    assert rows["Organisation type"][0] == "Organisation type"
    assert rows["National statistics office"][1] == "5"
    assert set(rows) == {"Organisation type", "National statistics office"}


def test_an_unknown_breakdown_says_so_and_shows_countries(site):
    response = client_for(site.community_admin).get(DASHBOARD, {"breakdown": "region"})
    section = breakdown_section(response)
    assert "Breakdown: there is no such breakdown." in response.content.decode()
    assert response.context["filters"].breakdown_by == "country"
    assert '<th scope="row">Kenya</th>' in section


def test_space_moderator_breaks_down_only_the_members_of_their_spaces(site):
    add_people(site, "Ghana", 5, space=site.closed)
    browser = client_for(site.space_mod)
    section = breakdown_section(browser.get(DASHBOARD))
    assert '<th scope="row">Kenya</th>' in section  # Dana, in the moderator's space
    for absent in ("Chile", "Ghana", CLOSED_NAME):
        assert absent not in section
    rows = csv_rows(browser.get(DASHBOARD, {"format": "csv", "figure": "breakdown"}))
    assert set(rows) == {"Country", "Kenya", "Not stated"}


@pytest.mark.parametrize("who", ["outsider", "member", "dana"])
def test_breakdown_csv_is_404_for_those_without_a_dashboard(site, who):
    response = client_for(getattr(site, who)).get(DASHBOARD, {"format": "csv", "figure": "breakdown"})
    assert response.status_code == 404


def test_breakdown_csv_labels_are_formula_safe(site, settings):
    settings.ANALYTICS_SUPPRESS_BELOW = 1
    add_people(site, "=HYPERLINK(1)", 1)
    rows = csv_rows(client_for(site.community_admin).get(DASHBOARD, {"format": "csv", "figure": "breakdown"}))
    assert "'=HYPERLINK(1)" in rows and "=HYPERLINK(1)" not in rows


def test_breakdown_section_is_accessible_and_has_no_inline_styles(site):
    page = client_for(site.community_admin).get(DASHBOARD).content.decode()
    section = page.split('id="breakdown"')[1].split("</section>")[0]
    assert '<caption id="breakdown-caption">' in section
    assert 'role="region" aria-labelledby="breakdown-caption" tabindex="0"' in section
    assert '<th scope="colgroup" colspan="5"' in section
    assert '<a class="pill" href="#breakdown">' in page
    assert "style=" not in page
    assert not re.search(r"<script(?![^>]*\bsrc=)", page)
    assert not re.search(r"\son[a-z]+=", page)


# --- Query counts ---------------------------------------------------------------------------------------------------
def dashboard_queries(browser, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = browser.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("by", metrics.BREAKDOWN_FIELDS)
def test_dashboard_query_count_is_the_same_for_2_and_6_countries(db, by):
    site = build_site()
    browser = client_for(site.community_admin)
    url = f"{DASHBOARD}?breakdown={by}"
    types = ["nso", "dev_partner", "academia", "ngo", "government", "other"]
    for n, country in enumerate(["Ghana", "Peru"]):
        add_people(site, country, 3, organisation_type=types[n])
    browser.get(url)  # the first request of a session also saves it
    after_a_rollup()
    few, few_cached = dashboard_queries(browser, url), dashboard_queries(browser, url)
    for n, country in enumerate(["Fiji", "Nepal", "Samoa", "Tonga"]):
        add_people(site, country, 3, organisation_type=types[n + 2])
    after_a_rollup()
    many, many_cached = dashboard_queries(browser, url), dashboard_queries(browser, url)
    # build_site's Kenya, Chile and "not stated", with 2 countries more, then with 6 more
    assert len(metrics.breakdown_values(metrics.Scope(community_ids=(site.community.pk,)), "country")) == 9
    # the whole dashboard (one heatmap) after a roll-up; the breakdown table is computed with the other figures
    # A whole community's cohorts read one standing row per member: no planner settings on PostgreSQL either.
    assert few == many == 22  # the header's counts come from the cache
    assert few_cached == many_cached == 8  # until the next roll-up
