"""The Django admin covers every model of our apps, and each admin page loads."""

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse
from guardian.admin import GuardedModelAdmin
from guardian.shortcuts import assign_perm

from analytics.models import ActivityEvent
from communities.services import community_create, community_role_set, onboarding_submit
from spaces.models import Item, ItemKind, Space, SpaceMembership, SpaceRole, Visibility
from spaces.services import (
    invitation_create,
    join_request_create,
    member_ban,
    space_create,
    space_grant_role,
    space_join,
)

User = get_user_model()

APP_LABELS = ["members", "communities", "spaces", "analytics"]
# Version tables (simple-history) are reached through their page's or comment's "History" button.
# Direct messages stay between their participants (issue 9): deliberately not in the admin, not even for superusers
# (tests/members/test_messages.py checks they are absent).
PRIVATE_MODELS = {
    "members.Conversation",
    "members.ConversationParticipant",
    "members.Message",
    "members.MessageAttachment",
    "members.MemberBlock",
}
MODEL_LABELS = [
    model._meta.label
    for label in APP_LABELS
    for model in apps.get_app_config(label).get_models()
    if not model.__name__.startswith("Historical") and model._meta.label not in PRIVATE_MODELS
]
PASSWORD = "a-long-test-password-1"


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def superuser(db):
    return User.objects.create_user(
        email="root@example.org", password=PASSWORD, display_name="Root", is_staff=True, is_superuser=True
    )


@pytest.fixture
def populated(superuser):
    """At least one row of every model of our apps, made through the services where there is one."""
    from members.models import Expertise

    member = User.objects.create_user(email="member@example.org", password=PASSWORD, display_name="Member")
    member.profile.organisation = "Statistics Testland"
    member.profile.country = "Testland"
    member.profile.save()
    member.profile.expertise.add(Expertise.objects.create(name="Record linkage"))
    from spaces.models import SearchWord, SearchWordQueue

    SearchWord.objects.get_or_create(word="linkage")  # PostgreSQL's trigger adds the words of items; SQLite none
    SearchWordQueue.objects.create(word="linkages")
    moderator = User.objects.create_user(email="mod@example.org", password=PASSWORD, display_name="Moderator")
    pest = User.objects.create_user(email="pest@example.org", password=PASSWORD, display_name="Pest")
    reviewer = User.objects.create_user(email="reviewer@example.org", password=PASSWORD, display_name="Reviewer")
    from members.services_follow import follow_create

    follow_create(actor=member, member=moderator)

    community = community_create(
        actor=superuser,
        name="Data Integration",
        slug="data-integration",
        guidelines="- Be kind.",
        intro_questions=["Why are you here?"],
    )
    question = community.intro_questions.get()
    for user in (member, pest):
        onboarding_submit(actor=user, community=community, accept_guidelines=True, answers={question.pk: "To learn."})
    community_role_set(actor=superuser, community=community, user=moderator, role="moderator")
    open_space = space_create(actor=superuser, community=community, name="Library", slug="library")
    private_space = space_create(
        actor=superuser,
        community=community,
        name="Admin data",
        slug="admin-data",
        visibility=Visibility.PRIVATE,
    )
    space_join(actor=member, space=open_space)
    space_join(actor=pest, space=open_space)
    member_ban(actor=superuser, space=open_space, user=pest, reason="Spam.")
    join_request_create(actor=member, space=private_space, message="Please let me in.")
    invitation_create(actor=superuser, space=private_space, recipient="new@example.org", role=SpaceRole.VIEWER)
    space_grant_role(actor=superuser, space=private_space, user=reviewer, role=SpaceRole.VIEWER)

    group = Group.objects.create(name="Secretariat")
    assign_perm("spaces.hold_viewer_role", group, private_space)
    item = Item.objects.create(kind=ItemKind.PAGE, space=open_space, author=member, title="Welcome", is_restricted=True)
    assign_perm("spaces.view_restricted_item", reviewer, item)
    assign_perm("spaces.view_restricted_item", group, item)
    _content_rows(open_space, member)
    # --- polls and the work plan (issue 4, items 6-7) ---
    import datetime

    from spaces.services.polls import poll_create, poll_vote
    from spaces.services.workplan import milestone_create, work_plan_update

    poll = poll_create(actor=superuser, space=open_space, question="Which day suits you?", options=["Monday", "Friday"])
    poll_vote(actor=member, poll=poll, option_ids=[poll.options.order_by("position").first().pk])
    work_plan_update(actor=superuser, space=open_space, product="Good practices for June", due_date=None)
    milestone_create(
        actor=superuser, space=open_space, title="First draft", due_date=datetime.date(2030, 6, 1), owner=member
    )
    # --- end of polls and the work plan ---
    # --- papers and calendar feed tokens (issue 4, items 3-4) ---
    from datetime import timedelta as papers_delta

    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone as papers_tz

    from spaces.services.events import event_create, event_registration_set
    from spaces.services.feeds import feed_token_get_or_create
    from spaces.services.papers import event_papers_configure, paper_decide, paper_submit

    starts = papers_tz.now() + papers_delta(days=30)
    papers_event = event_create(
        actor=superuser,
        space=open_space,
        title="Linkage workshop",
        starts_at=starts,
        ends_at=starts + papers_delta(hours=2),
        time_zone="Europe/Paris",
    )
    event_papers_configure(actor=superuser, event=papers_event, papers_open=True)
    event_registration_set(actor=member, event=papers_event, status="going")
    paper = paper_submit(
        actor=member,
        event=papers_event,
        title="Probabilistic linkage",
        abstract="We link *records*.",
        upload=SimpleUploadedFile("paper.txt", b"Our paper."),
    )
    paper_decide(actor=superuser, paper=paper, accept=True, message="Welcome.")
    feed_token_get_or_create(actor=member)
    feed_token_get_or_create(actor=reviewer, space=private_space)
    # --- end of papers and calendar feed tokens ---
    # --- flags, the moderation log and community bans (issue 5, items 1-4) ---
    from communities.services import community_ban
    from spaces.services.moderation import flag_create, item_hide

    flagged_page = Item.objects.get(kind=ItemKind.PAGE, title="Notes")
    flag_create(actor=reviewer, target=flagged_page, reason="spam")
    item_hide(actor=moderator, item=flagged_page, reason="Advertising.")
    community_ban(actor=superuser, community=community, user=pest, reason="Spam in every space.")
    # --- end of flags, the moderation log and community bans ---
    # --- events: registration questions and answers (issue 4, item 2) ---
    from datetime import datetime as events_datetime

    from spaces.services import events as event_services

    workshop = event_services.event_create(
        actor=superuser,
        space=open_space,
        title="Example registration workshop",
        starts_at=events_datetime(2030, 1, 15, 9, 0),
        ends_at=events_datetime(2030, 1, 15, 11, 0),
        time_zone="Asia/Bangkok",
        capacity=10,
    )
    (diet,) = event_services.event_questions_set(
        actor=superuser, event=workshop, questions=[{"label": "Dietary needs", "kind": "text"}]
    )
    event_services.event_registration_set(actor=member, event=workshop, status="going", answers={diet.pk: "None"})
    # --- end of events ---
    # --- digests (issue 5, items 7-9): the hourly job at the next Monday 08:05 UTC writes the outbox rows ---
    from datetime import UTC as DIGEST_UTC
    from datetime import datetime as digest_datetime
    from datetime import timedelta as digest_delta

    from members.models import DigestRecord
    from members.services_digests import digests_run

    today = digest_datetime.now(DIGEST_UTC)
    monday = today.replace(hour=8, minute=5, second=0, microsecond=0) + digest_delta(days=-today.weekday() % 7)
    digests_run(now=monday if monday > today else monday + digest_delta(days=7))
    assert DigestRecord.objects.filter(status="sent").exists()
    # --- end of digests ---
    # --- posts, likes, bookmarks and mentions (issue 4, item 5) ---
    from spaces.services.posts import bookmark_toggle, like_toggle, post_create

    welcome = post_create(actor=superuser, space=open_space, body=f"Welcome, @{member.username}!")
    like_toggle(actor=member, item=welcome.item)
    bookmark_toggle(actor=member, item=welcome.item)
    # --- end of posts ---
    # --- notifications, preferences, mutes and space visits (issue 5, items 5-6) ---
    from members.models import Notification
    from members.notifications import notification_preferences_update, space_mute_set
    from spaces.services import page_create, space_visit_record, watch_toggle

    if not open_space.watches.filter(user=member).exists():
        watch_toggle(actor=member, space=open_space)
    page_create(actor=superuser, space=open_space, title="News for watchers", body="")
    assert Notification.objects.filter(recipient=member, kind="new_item").exists()
    notification_preferences_update(
        actor=member,
        user=member,
        email_off=["new_item"],
        digest_frequency="daily",
        digest_hour=7,
        skip_digest_if_seen=True,
    )
    space_mute_set(actor=member, space=open_space, muted=True)
    space_visit_record(user=member, space=open_space)
    # --- end of notifications ---
    # --- analytics roll-ups and a points policy (issue 6, items 1 and 5) ---
    from analytics.models import PointsPolicy
    from analytics.rollup import rollup_new_events

    PointsPolicy.objects.create(community=community, weights={"answer_post": 12}, daily_cap=150)
    rollup_new_events()
    # --- end of analytics roll-ups ---
    # --- personal access tokens for the REST API (issue 8, item 1) ---
    from members.services_tokens import token_create

    token_create(actor=member, name="Example script", scope="read")
    # --- end of personal access tokens ---
    # --- members' downloads of their own data (issue 8, item 5) ---
    from members.exports import data_export_build, data_export_request

    data_export_build(export_id=data_export_request(actor=member).pk)  # built at once: no commit in this test
    # --- end of data exports ---
    # --- outgoing webhooks and their delivery log (issue 8, item 3); the test message is never sent here ---
    from spaces.services.webhooks import webhook_create, webhook_send_test

    hook = webhook_create(actor=superuser, space=open_space, name="Example chat", url="https://93.184.216.34/hook")
    webhook_send_test(actor=superuser, webhook=hook)
    # --- end of webhooks ---
    # --- courses (issue 9, item 3): a course with a quiz, an enrolment, a completion and an attempt ---
    from spaces.services import courses as course_services
    from spaces.services import page_create as course_page_create

    course = course_services.course_create(actor=superuser, space=open_space, title="Linkage basics", is_published=True)
    lesson = course_services.lesson_add(
        actor=superuser, course=course, page=course_page_create(actor=superuser, space=open_space, title="Blocking")
    )
    course_services.quiz_set(
        actor=superuser,
        lesson=lesson,
        pass_mark=50,
        questions=[{"text": "Does blocking help?", "options": [{"label": "Yes", "correct": True}, {"label": "No"}]}],
    )
    course_services.course_enrol(actor=superuser, course=course)
    quiz_question = lesson.quiz.questions.get()
    course_services.quiz_submit(
        actor=superuser,
        lesson=lesson,
        answers={quiz_question.pk: [quiz_question.options.get(is_correct=True).pk]},
    )
    # --- end of courses ---
    assert ActivityEvent.objects.exists()
    return {"space": private_space}


def _content_rows(space, member) -> None:
    """One row of each content model: a page with a draft, presence, template, file, comment and watch."""
    from django.core.files.base import ContentFile
    from django.utils import timezone

    from spaces.models import (
        Comment,
        FileAsset,
        FileVersion,
        PageDraft,
        PageEditPresence,
        PageTemplate,
        Watch,
    )
    from spaces.services import page_create

    page = page_create(actor=member, space=space, title="Notes", body="Hello")
    PageDraft.objects.create(user=member, space=space, page=page, title="Notes", body="Hello again")
    PageEditPresence.objects.create(page=page, user=member, seen_at=timezone.now())
    PageTemplate.objects.create(space=space, name="Meeting notes", body="## Agenda")
    file_item = Item.objects.create(kind=ItemKind.FILE, space=space, author=member, title="paper.txt")
    asset = FileAsset.objects.create(item=file_item, space=space, name="paper.txt")
    version = FileVersion(
        asset=asset, number=1, original_name="paper.txt", size=5, content_type="text/plain", sha256="0" * 64
    )
    version.file.save("paper.txt", ContentFile(b"hello"), save=False)
    version.save()
    comment_item = Item.objects.create(kind=ItemKind.COMMENT, space=space, author=member)
    Comment.objects.create(item=comment_item, target=page.item, body="Nice", author=member)
    Watch.objects.create(user=member, space=space)
    _question_rows(space, member)


def _question_rows(space, member) -> None:
    """A tagged question with an accepted, voted answer (through the services); the superuser votes."""
    from spaces.services import answer_accept, answer_post, question_ask, vote_cast

    asker = User.objects.create_user(email="asker@example.org", password=PASSWORD, display_name="Asker")
    onboarding_submit(
        actor=asker,
        community=space.community,
        accept_guidelines=True,
        answers={q.pk: "To ask." for q in space.community.intro_questions.all()},
    )
    space_join(actor=asker, space=space)  # the Library space lets members in as editors
    question = question_ask(actor=asker, space=space, title="Which example linkage keys?", body="Hi", tags="linkage")
    answer = answer_post(actor=member, question=question, body="Name and date of birth.")
    vote_cast(actor=asker, item=answer.item)
    answer_accept(actor=asker, question=question, answer=answer)


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


def test_every_model_of_our_apps_is_registered():
    missing = [label for label in MODEL_LABELS if apps.get_model(label) not in admin.site._registry]
    assert not missing, f"Not registered in the admin: {missing}"


def test_space_admin_has_object_permissions():
    assert isinstance(admin.site._registry[Space], GuardedModelAdmin)


@pytest.mark.django_db
@pytest.mark.parametrize("label", MODEL_LABELS)
def test_every_admin_page_of_a_model_loads(label, populated, admin_client):
    model = apps.get_model(label)
    obj = model._default_manager.first()
    assert obj is not None, f"The test fixture makes no {label} row: add one."

    assert admin_client.get(_url(model, "changelist")).status_code == 200
    if admin.site._registry[model].search_fields:
        assert admin_client.get(_url(model, "changelist"), {"q": "example"}).status_code == 200
    assert admin_client.get(_url(model, "change", obj.pk)).status_code == 200
    assert admin_client.get(_url(model, "history", obj.pk)).status_code == 200
    # The delete page asks for confirmation (and lists what goes with the row); read-only logs refuse it.
    request = admin_client.get(_url(model, "changelist")).wsgi_request
    may_delete = admin.site._registry[model].has_delete_permission(request, obj)
    assert admin_client.get(_url(model, "delete", obj.pk)).status_code == (200 if may_delete else 403)
    assert model._default_manager.filter(pk=obj.pk).exists()


def _third_party_rows(superuser) -> list:
    """One row of each model other apps register in our admin (groups, social accounts, MFA authenticators)."""
    from allauth.mfa.models import Authenticator
    from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken

    app = SocialApp.objects.create(provider="openid_connect", provider_id="example", name="Example", client_id="x")
    account = SocialAccount.objects.create(user=superuser, provider="example", uid="root-1")
    return [
        Group.objects.create(name="Secretariat"),
        app,
        account,
        SocialToken.objects.create(app=app, account=account, token="not-a-real-token"),
        Authenticator.objects.create(user=superuser, type=Authenticator.Type.RECOVERY_CODES, data={"seed": "x"}),
    ]


@pytest.mark.django_db
def test_third_party_admin_pages_load(superuser, admin_client):
    for obj in _third_party_rows(superuser):
        model = type(obj)
        for view in ("change", "history", "delete"):
            assert admin_client.get(_url(model, view, obj.pk)).status_code == 200, (model, view)
        assert model._default_manager.filter(pk=obj.pk).exists()


@pytest.mark.django_db
def test_user_add_form_derives_the_handle_from_the_email(admin_client):
    response = admin_client.get(_url(User, "add"))
    assert response.status_code == 200
    response = admin_client.post(
        _url(User, "add"),
        {
            "email": "Nuwan.Perera@example.org",
            "display_name": "Nuwan Perera",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(email__iexact="nuwan.perera@example.org")
    assert user.username == "nuwanperera"
    assert user.check_password(PASSWORD)
    assert user.profile  # created by the signal; edited on the change page
    assert admin_client.get(_url(User, "change", user.pk)).status_code == 200


@pytest.mark.django_db
def test_space_object_permissions_page_loads(populated, admin_client):
    space = populated["space"]
    assert admin_client.get(_url(Space, "permissions", space.pk)).status_code == 200


@pytest.mark.django_db
def test_activity_log_is_read_only(populated, admin_client):
    model_admin = admin.site._registry[ActivityEvent]
    request = admin_client.get(_url(ActivityEvent, "changelist")).wsgi_request
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)
    event = ActivityEvent.objects.first()
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)
    assert admin_client.get(_url(ActivityEvent, "add")).status_code == 403
    assert admin_client.get(_url(ActivityEvent, "delete", event.pk)).status_code == 403


@pytest.mark.django_db
def test_deleting_a_membership_in_the_admin_keeps_the_member_count(populated, admin_client):
    membership = SpaceMembership.objects.filter(space__slug="library", user__email="member@example.org").get()
    space = membership.space
    before = Space.objects.get(pk=space.pk).member_count
    response = admin_client.post(_url(SpaceMembership, "delete", membership.pk), {"post": "yes"})
    assert response.status_code == 302
    assert Space.objects.get(pk=space.pk).member_count == before - 1 == space.memberships.count()
