"""A community's member list as CSV (issue 8, item 5): admins and staff only, one column per introductory
question, and no cell a spreadsheet would run as a formula."""

import csv
import io

import pytest
from django.urls import reverse

from communities import services as community_services
from communities.permissions import can_export_member_list
from spaces.models import Space, SpaceRole
from spaces.services import space_join
from tests.factories import add_member, make_community, make_space, make_user, onboard
from tests.spaces.helpers import client_for

pytestmark = pytest.mark.django_db


def csv_rows(response) -> list[list[str]]:
    body = b"".join(response.streaming_content).decode("utf-8")
    assert body.startswith("\ufeff")
    return list(csv.reader(io.StringIO(body[1:])))


@pytest.fixture
def scene(staff):
    community = make_community(staff, slug="linkage", questions=["Why are you here?", "What do you work on?"])
    admin = make_user("cadmin", organisation="Stats Office", country="Fiji")
    onboard(admin, community)
    community_services.community_role_set(actor=staff, community=community, user=admin, role="admin")
    moderator = make_user("cmod")
    onboard(moderator, community)
    community_services.community_role_set(actor=staff, community=community, user=moderator, role="moderator")
    member = make_user("plain", organisation='=HYPERLINK("http://evil")', country="Tonga", job_title="+Analyst")
    space = make_space(staff, community)
    add_member(space, member, SpaceRole.EDITOR, by=staff)
    community_services.onboarding_submit(  # after add_member, which onboards with stock answers
        actor=member,
        community=community,
        accept_guidelines=True,
        answers={q.pk: text for q, text in zip(community.intro_questions.all(), ["@SUM(A1)", "Census"], strict=True)},
    )
    outsider = make_user("outsider")
    url = reverse("communities:members-csv", kwargs={"community_slug": community.slug})
    return community, admin, moderator, member, outsider, url


def test_member_list_csv_has_profile_fields_and_one_column_per_question(scene):
    community, admin, _moderator, member, _outsider, url = scene
    response = client_for(admin).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert 'filename="linkage-members.csv"' in response["Content-Disposition"]
    rows = csv_rows(response)
    header = rows[0]
    assert header[:4] == ["Name", "Username", "E-mail", "Community role"]
    assert header[-2:] == ["Why are you here?", "What do you work on?"]
    by_email = {row[2]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    assert set(by_email) == set(community.memberships.values_list("user__email", flat=True))
    row = by_email[member.email]
    assert row["Name"] == "Plain"
    assert row["Country"] == "Tonga"
    assert row["Community role"] == "Member"
    assert row["What do you work on?"] == "Census"
    assert row["Guidelines accepted (UTC)"]


def test_member_list_csv_cells_never_run_as_formulas(scene):
    _community, admin, _moderator, member, _outsider, url = scene
    rows = csv_rows(client_for(admin).get(url))
    header = rows[0]
    row = next(dict(zip(header, r, strict=True)) for r in rows[1:] if r[2] == member.email)
    assert row["Organisation"] == '\'=HYPERLINK("http://evil")'
    assert row["Job title"] == "'+Analyst"
    assert row["Why are you here?"] == "'@SUM(A1)"


def test_staff_may_download_the_member_list(scene, staff):
    *_, url = scene
    assert client_for(staff).get(url).status_code == 200


@pytest.mark.parametrize("who", ["moderator", "member", "outsider"])
def test_non_admins_are_refused_the_member_list(scene, who):
    community, _admin, moderator, member, outsider, url = scene
    user = {"moderator": moderator, "member": member, "outsider": outsider}[who]
    assert not can_export_member_list(user, community)
    assert client_for(user).get(url).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(scene, client):
    *_, url = scene
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_member_list_csv_is_linked_for_admins_only(scene):
    community, admin, moderator, *_rest, url = scene
    members_page = reverse("communities:members", kwargs={"community_slug": community.slug})
    assert url in client_for(admin).get(members_page).content.decode()
    assert url not in client_for(moderator).get(members_page).content.decode()
    settings_page = reverse("communities:settings", kwargs={"community_slug": community.slug})
    assert url in client_for(admin).get(settings_page).content.decode()


def test_member_list_csv_reads_a_fixed_number_of_queries(scene):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    community, admin, *_rest, url = scene
    browser = client_for(admin)
    browser.get(url)  # warm the session and role caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            rows = csv_rows(browser.get(url))
        assert len(rows) == 1 + community.memberships.count()
        return len(captured)

    few = queries()
    for _ in range(5):
        extra = make_user()
        onboard(extra, community)
        space_join(actor=extra, space=Space.objects.filter(community=community).first())
    assert queries() == few
