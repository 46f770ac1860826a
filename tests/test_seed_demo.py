"""The demo seed: realistic, covers every visibility and role, and is idempotent."""

from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.management import call_command

from analytics import metrics
from analytics.kinds import CONTRIBUTION_KINDS, VIEW_KINDS, VISIT
from analytics.models import ActivityBucket, ActivityEvent, MemberDay
from communities.models import Community, CommunityMembership, CommunityRole, IntroAnswer, Onboarding
from spaces.management.commands.seed_demo import DEMO_PASSWORD, PEOPLE
from spaces.models import (
    Answer,
    Comment,
    FileAsset,
    FileVersion,
    Invitation,
    InvitationStatus,
    JoinRequest,
    JoinRequestStatus,
    Page,
    PageTemplate,
    Question,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceRole,
    SpaceUserObjectPermission,
    Visibility,
    Vote,
    Watch,
)

User = get_user_model()

COUNTED = [
    User,
    Community,
    CommunityMembership,
    Onboarding,
    IntroAnswer,
    Space,
    SpaceMembership,
    JoinRequest,
    Invitation,
    SpaceBan,
    SpaceUserObjectPermission,
    ActivityEvent,
    Page,
    Page.history.model,
    PageTemplate,
    FileAsset,
    FileVersion,
    Comment,
    Watch,
    Question,
    Question.history.model,
    Answer,
    Vote,
]


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in COUNTED}


def _seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_seed_demo_twice_creates_nothing_new():
    first_output = _seed()
    after_first = _counts()
    rolled_up = MemberDay.objects.count()
    second_output = _seed()

    assert _counts() == after_first
    assert ActivityEvent.objects.count() == after_first["analytics.ActivityEvent"] > 5000
    assert MemberDay.objects.count() == rolled_up > 0
    assert "Demo data: created" in first_output
    assert "nothing changed" in second_output
    assert after_first["members.User"] >= 18
    assert after_first["communities.Community"] == 3
    assert after_first["spaces.Page"] >= 8
    assert after_first["spaces.HistoricalPage"] > after_first["spaces.Page"]
    assert after_first["spaces.FileVersion"] > after_first["spaces.FileAsset"] >= 3
    assert after_first["spaces.Question"] == 5
    assert after_first["spaces.Answer"] == 5
    assert after_first["spaces.Vote"] == 15


@pytest.mark.django_db
def test_seed_demo_pages_files_and_comments():
    _seed()
    user = {person.key: User.objects.get(email=person.email) for person in PEOPLE}
    library = Space.objects.get(community__slug="data-integration", slug="good-practices")

    # A guide with four versions by different editors, each with an edit summary, and subpages under it.
    guide = Page.objects.get(space=library, title="Integrating administrative data: a guide")
    versions = list(guide.versions.order_by("history_id"))
    assert guide.version == len(versions) >= 3
    assert len({version.history_user_id for version in versions}) >= 3
    assert all(version.history_change_reason for version in versions)
    assert {child.title for child in guide.children.all()} >= {
        "Case study: Indonesia's village registry linkage",
        "Case study: Philippines CRVS and census",
        "Checklist for data-sharing agreements",
    }
    # Real Markdown: headings, a table, a list, links, and the attached chart shown inline.
    chart = FileAsset.objects.get(space=library, page=guide)
    assert chart.current_version.content_type == "image/png"
    for html in ("<h2>", "<table>", "<li>", 'href="https://', f'src="/files/{chart.pk}/inline/{chart.name}"'):
        assert html in guide.body_html, html
    # One page was restored from an earlier version, which wrote a new version.
    checklist = Page.objects.get(space=library, title="Checklist for data-sharing agreements")
    assert checklist.versions.filter(history_change_reason="Restored from version 1").exists()
    assert checklist.body == checklist.versions.get(version=1).body

    assert set(PageTemplate.objects.filter(space=library).values_list("name", flat=True)) >= {
        "Meeting notes",
        "Good-practice case study",
        "Country experience",
    }

    # Files: a PDF and a CSV in the library (the CSV with two versions), a PNG attached to the guide.
    pdf = FileAsset.objects.get(space=library, current_version__content_type="application/pdf")
    assert pdf.page is None
    with pdf.current_version.file.open("rb") as stored:
        content = stored.read()
    assert content.startswith(b"%PDF-") and content.rstrip().endswith(b"%%EOF")
    csv = FileAsset.objects.get(space=library, name__endswith=".csv")
    assert csv.version_count == csv.versions.count() == 2
    assert csv.page is None

    # Comments, with replies.
    assert Comment.objects.filter(target=guide.item, parent__isnull=True).count() >= 2
    assert Comment.objects.filter(target=guide.item, parent__isnull=False).exists()

    # A restricted page in the closed task team: named members see it, other members of the space do not.
    protocol = Page.objects.get(title="Draft linkage protocol (restricted)")
    assert protocol.item.is_restricted
    assert protocol.space.visibility == Visibility.CLOSED
    for key in ("emma", "aroha", "agus"):
        assert Page.objects.visible_to(user[key]).filter(pk=protocol.pk).exists(), key
    for key in ("jiyeon", "priya"):
        assert SpaceMembership.objects.filter(space=protocol.space, user=user[key]).exists()
        assert not Page.objects.visible_to(user[key]).filter(pk=protocol.pk).exists(), key
    assert Page.objects.visible_to(user["priya"]).filter(space=protocol.space).exists()

    # The census and disaster communities have pages with two versions too.
    for community in ("census-innovation", "disaster-statistics"):
        pages = Page.objects.filter(space__community__slug=community, version__gte=2)
        assert pages.count() >= 2, community

    # Members watch spaces and pages.
    assert Watch.objects.filter(space=library, user=user["priya"]).exists()
    assert Watch.objects.filter(item=guide.item, user=user["duc"]).exists()


@pytest.mark.django_db
def test_seed_demo_content_covers_every_case():
    _seed()

    assert set(Community.objects.values_list("slug", flat=True)) == {
        "data-integration",
        "census-innovation",
        "disaster-statistics",
    }
    for community in Community.objects.all():
        roles = set(community.memberships.values_list("role", flat=True))
        assert {CommunityRole.ADMIN, CommunityRole.MODERATOR, CommunityRole.MEMBER} <= roles, community.slug
        assert community.memberships.filter(is_focal_point=True).exists(), community.slug
        assert community.guidelines.strip().startswith("- ")
        assert community.intro_questions.exists()
        visibilities = set(community.spaces.values_list("visibility", flat=True))
        assert visibilities == set(Visibility.values), community.slug

    assert set(Space.objects.values_list("default_role", flat=True)) == {SpaceRole.VIEWER, SpaceRole.EDITOR}
    assert Space.objects.filter(is_archived=True).exists()
    assert set(SpaceMembership.objects.values_list("role", flat=True)) == set(SpaceRole.values)
    for space in Space.objects.all():
        assert space.member_count == space.memberships.count() > 0

    pending = JoinRequest.objects.filter(status=JoinRequestStatus.PENDING)
    assert pending.count() >= 3
    assert all(request.message for request in pending)
    assert set(pending.values_list("space__visibility", flat=True)) == {Visibility.PRIVATE}
    # An outsider: only a pending request, in no space of the community.
    outsider = User.objects.get(email="nuwan.perera@example.org")
    assert pending.filter(user=outsider).exists()
    assert not SpaceMembership.objects.filter(user=outsider).exists()

    invitations = Invitation.objects.filter(status=InvitationStatus.PENDING)
    assert invitations.count() >= 2
    assert invitations.filter(invitee__isnull=True).exists()  # to an e-mail with no account
    assert invitations.filter(invitee__isnull=False).exists()  # to an existing member

    ban = SpaceBan.objects.get()
    assert not SpaceMembership.objects.filter(space=ban.space, user=ban.user).exists()

    grant = SpaceUserObjectPermission.objects.select_related("content_object", "user").get()
    assert grant.content_object.visibility == Visibility.CLOSED
    assert grant.permission.codename == "hold_viewer_role"
    assert not CommunityMembership.objects.filter(user=grant.user).exists()

    assert Onboarding.objects.count() >= 20
    assert IntroAnswer.objects.exclude(text="").count() == IntroAnswer.objects.count() > 0
    # Everyone holding a space membership onboarded in that community first.
    for membership in SpaceMembership.objects.select_related("space").exclude(user__is_staff=True):
        assert Onboarding.objects.filter(community_id=membership.space.community_id, user=membership.user_id).exists()


@pytest.mark.django_db
def test_seed_demo_people_can_log_in():
    _seed()

    staff = User.objects.get(email="admin@example.org")
    assert staff.is_staff and staff.is_superuser
    analyst = User.objects.get(email="analyst@example.org")
    assert not analyst.is_staff
    assert analyst.has_perm("members.view_analytics")

    for person in PEOPLE:
        user = User.objects.get(email=person.email)
        assert user.check_password(DEMO_PASSWORD), person.email
        assert user.display_name == person.name
        assert user.profile.organisation and user.profile.country and user.profile.job_title and user.profile.bio
        assert user.profile.time_zone == person.time_zone
        assert user.profile.expertise.exists()
        assert EmailAddress.objects.filter(user=user, email=user.email, verified=True, primary=True).exists()


@pytest.mark.django_db
def test_seed_demo_prints_the_demo_logins(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    output = _seed()

    assert DEMO_PASSWORD in output
    for person in PEOPLE:
        assert person.email in output
    assert "site staff" in output
    assert "community admin of Data Integration" in output
    assert "outsider with a pending join request" in output
    assert "kenji.tanaka@example.org" in output
    # The e-mail backend swapped in while seeding is put back.
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.console.EmailBackend"


@pytest.mark.django_db
def test_seed_demo_has_answered_and_unanswered_questions_with_votes_in_two_spaces():
    _seed()
    questions = Question.objects.select_related("space__community")

    assert {(q.space.community.slug, q.space.slug) for q in questions} == {
        ("data-integration", "linkage-help-desk"),
        ("census-innovation", "good-practices"),
    }
    assert questions.filter(accepted_answer__isnull=False).count() == 2
    assert questions.filter(answer_count=0).count() == 2
    assert all(q.vote_score == q.item.votes.count() for q in questions)
    for answer in Answer.objects.select_related("item"):
        assert answer.vote_score == Vote.objects.filter(item=answer.item).count()
        assert not Vote.objects.filter(item=answer.item, user=answer.item.author).exists()
    accepted = Question.objects.exclude(accepted_answer=None).first()
    assert accepted.accepted_answer.question_id == accepted.pk


@pytest.mark.django_db
def test_seed_demo_events_posts_polls_work_plan_and_moderation():
    """Issue 4 item 9 and issue 5 item 10: the demo shows every kind of content in a realistic state."""
    from django.utils import timezone

    from members.models import Notification
    from spaces.models import Event, Flag, Item, Milestone, ModerationLogEntry, Paper, Poll, Post

    _seed()
    now = timezone.now()
    # Answered and unanswered questions with votes and accepted answers.
    assert Question.objects.filter(accepted_answer__isnull=False).exists()
    assert Question.objects.filter(answer_count=0).exists()
    # A past event with attendance and an accepted paper; upcoming ones, one full with a waiting list.
    past = Event.objects.filter(ends_at__lt=now)
    assert past.filter(registrations__attended=True).exists()
    assert Paper.objects.filter(event__in=past, status="accepted").exists()
    assert Event.objects.filter(starts_at__gt=now, registrations__status="waitlisted").exists()
    assert Paper.objects.filter(event__starts_at__gt=now, status="submitted").exists()
    # Posts: pinned, an announcement, a scheduled one, liked ones.
    assert Post.objects.filter(is_pinned=True).exists()
    assert Post.objects.filter(is_announcement=True).exists()
    assert Item.objects.filter(kind="post", publish_at__gt=now).exists()
    assert Item.objects.filter(kind="post", like_count__gte=2).exists()
    # Polls with votes; a work plan with exactly one overdue milestone.
    assert Poll.objects.filter(voter_count__gte=2).count() == 2
    overdue = Milestone.objects.filter(due_date__lt=now.date()).exclude(status__in=["done", "dropped"])
    assert overdue.count() == 1
    # Moderation: open flags in the queue, an auto-hidden advert, a log, and notifications for members.
    assert Flag.objects.filter(status="open").count() >= 2
    assert Item.objects.filter(moderation_state="pending").exists()
    assert set(ModerationLogEntry.objects.values_list("action", flat=True)) >= {"auto_hide", "hide", "warn"}
    assert Notification.objects.filter(kind="reply").exists()
    assert Notification.objects.filter(kind="moderation").exists()


def _contributions_by_member() -> dict[int, int]:
    """Every non-staff community member's contributions in the log (0 for those without any)."""
    members = CommunityMembership.objects.filter(user__is_staff=False).values_list("user_id", flat=True)
    counts = dict.fromkeys(members, 0)
    rows = ActivityEvent.objects.filter(kind__in=CONTRIBUTION_KINDS, member_id__in=list(counts))
    for member_id in rows.values_list("member_id", flat=True):
        counts[member_id] += 1
    return counts


@pytest.mark.django_db
def test_seed_demo_writes_a_year_of_activity_the_dashboards_can_show():
    """Issue 6 item 6: most members read, a small core contributes, in working hours and weeks, over a year."""
    from zoneinfo import ZoneInfo

    from django.utils import timezone

    _seed()
    now = timezone.now()
    communities = list(Community.objects.all())

    # Rolled up for the dashboards: every community has member-days and 15-minute buckets.
    for community in communities:
        assert MemberDay.objects.filter(community_id=community.pk, space_id=0).count() > 500, community.slug
        assert ActivityBucket.objects.filter(community_id=community.pk).exists(), community.slug
    # A year of it, none in the future.
    oldest = ActivityEvent.objects.order_by("occurred_at").first().occurred_at
    assert 300 <= (now - oldest).days <= 366
    assert not ActivityEvent.objects.filter(occurred_at__gt=now).exists()

    # A small core: the top 10% of members make well over half of the contributions; most members only read.
    counts = sorted(_contributions_by_member().values(), reverse=True)
    top = round(len(counts) * 0.1)
    assert len(counts) >= 50
    assert sum(counts[:top]) >= 0.6 * sum(counts)
    readers = {m for m in ActivityEvent.objects.filter(kind__in=VIEW_KINDS).values_list("member_id", flat=True)}
    contributors = {
        m for m in ActivityEvent.objects.filter(kind__in=CONTRIBUTION_KINDS).values_list("member_id", flat=True)
    }
    assert len(readers - contributors) >= 10

    # One visit per member per community per day, on the community's own calendar day.
    zones = {c.pk: ZoneInfo(c.time_zone) for c in communities}
    visits = list(ActivityEvent.objects.filter(kind=VISIT).values_list("community_id", "occurred_at", "visit_day"))
    assert len(visits) > 1000
    assert all(moment.astimezone(zones[community_id]).date() == day for community_id, moment, day in visits)

    # Weekdays are busier than weekends, and members act in their own working hours.
    by_weekday = [0] * 7
    for moment in ActivityEvent.objects.filter(kind=VISIT).values_list("occurred_at", flat=True):
        by_weekday[moment.astimezone(zones[communities[0].pk]).weekday()] += 1
    assert min(by_weekday[:5]) > 2 * max(by_weekday[5:])
    samoa = User.objects.get(email="faamanu.leota@example.org")
    hours = [
        moment.astimezone(ZoneInfo("Pacific/Apia")).hour
        for moment in ActivityEvent.objects.filter(member=samoa, kind=VISIT).values_list("occurred_at", flat=True)
    ]
    assert hours and sum(7 <= hour <= 21 for hour in hours) == len(hours)

    # Views and contributions point at real items the member may see: never into a closed space they are not in.
    for user in User.objects.filter(pk__in=readers | contributors):
        targets = set(
            ActivityEvent.objects.filter(member=user, kind__in=VIEW_KINDS).values_list("target_type", "target_id")
        )
        visible = {("spaces." + item.kind, getattr(item, item.kind).pk) for item in _visible_items(user)}
        assert targets <= visible, user.email

    # Cohorts, dormant members and members who never signed in; answers accepted; a silver ambassador.
    joined_months = {d.strftime("%Y-%m") for d in CommunityMembership.objects.values_list("joined_at", flat=True)}
    assert len(joined_months) >= 8
    levels = [metrics.participation_levels(metrics.Scope(community_ids=(c.pk,))) for c in communities]
    for level in ("core", "active", "peripheral", "dormant", "never"):
        assert sum(result.counts[level] for result in levels) > 0, level
    assert ActivityEvent.objects.filter(kind="answer_accepted").count() > 10
    referrals = [row for c in communities for row in metrics.referrals(metrics.Scope(community_ids=(c.pk,)))]
    assert "silver" in {row.level for row in referrals}


def _visible_items(user):
    from spaces.models import Item

    kinds = ["page", "question", "event", "post", "poll"]
    return Item.objects.visible_to(user).filter(kind__in=kinds).select_related(*kinds)
