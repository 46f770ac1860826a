"""The dashboard computes its figures together (``metrics.dashboard``), each equal to its own function, and remembers
them until a roll-up run changes the roll-ups (``analytics.figures_cache``)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from analytics import metrics
from analytics.recording import record_activity
from analytics.rollup import rollup_new_events
from tests.analytics.helpers_dashboards import add_activity, after_a_rollup, backdate_memberships, build_site
from tests.factories import add_member, make_user
from tests.spaces.helpers import client_for

DASHBOARD = reverse("analytics:community", kwargs={"community_slug": "statistics"})
CSRF = re.compile(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"')


@pytest.fixture
def site(db):
    s = build_site()
    add_activity(s.dana, s.beta, range(0, 60, 2), referrals=1)
    add_activity(s.carol, s.closed, range(0, 60, 3), referrals=3)
    add_activity(s.member, s.open_space, range(0, 100, 4))
    return s


def leaderboard_section(response) -> str:
    assert response.status_code == 200
    return response.content.decode().split('id="points"')[1].split("</section>")[0]


@pytest.mark.parametrize(
    "options",
    [
        {"posting_by": "member", "heatmap_zones": ("UTC", "Asia/Kathmandu"), "member_figures": True},
        {"posting_by": "space", "heatmap_zones": ("Asia/Kolkata",), "breakdown_by": "organisation_type"},
        {"posting_by": "community", "member_figures": True},
    ],
)
@pytest.mark.parametrize("which", ["whole", "spaces", "one space", "country", "two communities"])
def test_the_dashboards_figures_equal_each_figures_own_function(site, options, which):
    today = timezone.now().date()
    scope = {
        "whole": metrics.Scope(community_ids=(site.community.pk,), end=today),
        "spaces": metrics.Scope(
            community_ids=(site.community.pk,), space_ids=(site.beta.pk, site.closed.pk), end=today
        ),
        "one space": metrics.Scope(community_ids=(site.community.pk,), space_ids=(site.beta.pk,), end=today),
        "country": metrics.Scope(community_ids=(site.community.pk,), end=today - timedelta(days=9), country="Kenya"),
        "two communities": metrics.Scope(community_ids=(site.community.pk, site.other.pk), start=today.replace(day=1)),
    }[which]
    figures = metrics.dashboard(scope, **options)
    assert figures.return_rate == metrics.return_rate(scope)
    assert figures.returning_members == metrics.returning_members(scope)
    assert figures.trend == metrics.return_rate_trend(scope)
    assert figures.active == metrics.active_members(scope)
    assert figures.cohorts == metrics.cohort_retention(scope)
    assert figures.levels == metrics.participation_levels(scope)
    assert figures.breakdown == metrics.breakdown_table(scope, options.get("breakdown_by", "country"))
    assert figures.posting == metrics.posting_history(scope, options["posting_by"])
    assert figures.heatmaps == [metrics.activity_heatmap(scope, zone) for zone in options.get("heatmap_zones", ())]
    assert figures.knowledge == metrics.knowledge_health(scope)
    if options.get("member_figures"):
        assert figures.leaderboards == {days: metrics.leaderboard(scope, days) for days in (30, 90, None)}
        assert figures.referrals == metrics.referrals(scope)
        assert figures.leaderboards[None] and figures.referrals  # something to compare
    else:
        assert figures.leaderboards == {} and figures.referrals == []


def test_figures_are_remembered_until_a_roll_up_counts_new_events(site):
    browser = client_for(site.community_admin)
    zoe = make_user("zoe")
    add_member(site.beta, zoe, by=site.staff)
    backdate_memberships([zoe])
    rollup_new_events()  # what the set-up recorded
    before = leaderboard_section(browser.get(DASHBOARD))
    assert "Zoe" not in before

    add_activity(zoe, site.beta, range(1, 6), points=500)  # written past the roll-up: no new generation
    assert leaderboard_section(browser.get(DASHBOARD)) == before
    assert rollup_new_events() == 0  # a run that counted nothing leaves the figures as they were
    assert leaderboard_section(browser.get(DASHBOARD)) == before

    moment = datetime.now(UTC) - timedelta(hours=1)
    record_activity(actor=zoe, kind="answer_post", community_id=site.community.pk, occurred_at=moment)
    assert rollup_new_events() == 1
    after = leaderboard_section(browser.get(DASHBOARD))
    assert "Zoe" in after and after != before


def test_viewers_with_different_scopes_or_options_never_share_figures(site):
    admin, moderator = client_for(site.community_admin), client_for(site.space_mod)
    admin_page = admin.get(DASHBOARD).content.decode()
    moderator_page = moderator.get(DASHBOARD).content.decode()  # the same URL, a narrower scope
    assert "Carol" in admin_page  # the closed space's member is in the community's figures
    assert "Carol" not in moderator_page
    by_member = admin.get(DASHBOARD, {"posting_by": "member"}).content.decode()
    assert "Contributions per week" in by_member and by_member != admin_page


def test_caching_can_be_turned_off(site, settings):
    settings.ANALYTICS_DASHBOARD_CACHE_SECONDS = 0
    browser = client_for(site.community_admin)
    before = leaderboard_section(browser.get(DASHBOARD))
    add_activity(site.dana, site.beta, range(61, 64), points=900)
    assert leaderboard_section(browser.get(DASHBOARD)) != before
    after_a_rollup()  # and with it, the same figures as a fresh computation
    assert leaderboard_section(browser.get(DASHBOARD)) == leaderboard_section(browser.get(DASHBOARD))


@pytest.mark.parametrize(
    "query", [{}, {"posting_by": "member", "tz": "Asia/Kathmandu", "breakdown": "organisation_type"}]
)
def test_a_remembered_page_is_the_page_computed_afresh(site, settings, query):
    browser = client_for(site.community_admin)

    def page() -> str:  # the page but its CSRF token (new on every response)
        return CSRF.sub("", browser.get(DASHBOARD, query).content.decode())

    computed, remembered = page(), page()
    settings.ANALYTICS_DASHBOARD_CACHE_SECONDS = 0
    fresh = page()
    assert computed == remembered == fresh
    assert 'id="cohorts"' in fresh and 'id="referrals"' in fresh
