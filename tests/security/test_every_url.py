"""Every URL is tested (issue 10, item 4).

(a) ``url_status.ANONYMOUS`` names every URL pattern of the resolver (ours, allauth's, the admin's, the API's)
    and nothing else;
(b) each pattern, built into a real address against the demo world (``seed_demo``: real slugs and ids, in an open
    space where there is one), answers an anonymous GET with the status listed;
(c) the run fails when a pattern was never requested with success by any test (``tests.security.url_coverage``,
    enforced with ``CHECK_URL_COVERAGE=1``). The sweep here signs in as a superuser and requests every page that
    answers GET, so the pages are covered; the writes are covered by their own tests across the suite.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from tests.security.url_coverage import REDIRECT, is_redirect_success, is_success, uncovered
from tests.security.url_patterns import Pattern, url_patterns
from tests.security.url_status import ANONYMOUS, NO_SUCCESS, REDIRECTS

User = get_user_model()
OPEN = "open"
UNNAMED_GROUP = "([^/]+)"
# Content anyone may read in an open space: not trashed, not hidden by a moderator, not restricted.
SHOWN = {"item__deleted_at__isnull": True, "item__moderation_state": "visible", "item__is_restricted": False}


# --- (a) the list and the resolver agree ------------------------------------------------------------------------------
def test_the_list_names_every_url_pattern_and_nothing_else():
    keys = {pattern.key for pattern in url_patterns()}

    assert sorted(keys - set(ANONYMOUS)) == [], "URL patterns missing from tests/security/url_status.py"
    assert sorted(set(ANONYMOUS) - keys) == [], "url_status.py names patterns that no longer exist"
    assert sorted(set(NO_SUCCESS) - keys) == [], "NO_SUCCESS names patterns that no longer exist"
    assert sorted(set(REDIRECTS) - keys) == [], "REDIRECTS names patterns that no longer exist"


def test_the_coverage_check_reports_a_pattern_nobody_requested():
    everything_but_home = {
        (method, pattern.route)
        for pattern in url_patterns()
        if pattern.key != "home"
        for method in (pattern.methods or {"GET"})
    }

    assert uncovered(everything_but_home) == ["home"]
    assert is_success("POST", 302, "/c/data/s/library/")
    assert not is_success("POST", 302, reverse("account_login") + "?next=/me/")
    assert not is_success("GET", 302, "/elsewhere/")
    # A redirect counts only for the patterns whose job is to redirect, and never one to the sign-in page.
    permalink = next(p for p in url_patterns() if p.key == "spaces:page-permalink")
    assert uncovered({(REDIRECT, permalink.route)} | everything_but_home) == ["home"]
    assert "spaces:page-permalink" in uncovered(everything_but_home - {("GET", permalink.route)})
    assert is_redirect_success("GET", 302, "/c/data/s/library/p/guide/")
    assert not is_redirect_success("GET", 302, reverse("account_login") + "?next=/p/1/")


# --- A populated world, and real addresses in it ---------------------------------------------------------------------
def _space_of(obj):
    for path in ("space", "item.space", "event.space", "course.space", "question.space", "quiz.lesson.course.space"):
        target = obj
        try:
            for part in path.split("."):
                target = getattr(target, part)
        except AttributeError:
            continue
        if target is not None:
            return target
    return None


def _first(model_label: str, **filters):
    """The first row of ``model_label`` in an open space (when it has one), else the first row at all."""
    model = apps.get_model(model_label)
    rows = list(model.objects.filter(**filters).order_by("pk")[:300])
    for row in rows:
        space = _space_of(row)
        if space is not None and space.visibility == OPEN and not getattr(space, "archived_at", None):
            return row
    return rows[0] if rows else None


class World:
    """Real objects for each kind of URL parameter, each anchored in a space and its community."""

    def __init__(self) -> None:
        from spaces.models import Page

        self.staff = User.objects.filter(is_staff=True).order_by("pk").first()
        self.page = _first("spaces.Page", **SHOWN)
        self.space = self.page.space
        self.question = _first("spaces.Question", **SHOWN)
        self.answer = _first("spaces.Answer", **SHOWN)
        self.event = _first("spaces.Event", **SHOWN)
        self.paper = _first("spaces.Paper")
        self.post = _first("spaces.Post", **SHOWN)
        self.poll = _first("spaces.Poll", **SHOWN)
        self.comment = _first("spaces.Comment", **SHOWN)
        self.file = _first("spaces.FileAsset", **SHOWN)
        self.course = _first("spaces.Course")
        self.lesson = _first("spaces.Lesson", quiz__isnull=False) or _first("spaces.Lesson")
        self.attempt = _first("spaces.QuizAttempt")
        self.milestone = _first("spaces.Milestone")
        self.webhook = _first("spaces.Webhook")
        self.template = _first("spaces.PageTemplate")
        self.join_request = _first("spaces.JoinRequest", status="pending")
        self.invitation = _first("spaces.Invitation", status="pending")
        self.space_ban = _first("spaces.SpaceBan")
        self.community_ban = _first("communities.CommunityBan")
        self.feed_token = _first("spaces.FeedToken")
        self.notification = _first("members.Notification")
        self.export = _first("members.DataExport")
        self.conversation = _first("members.Conversation")
        self.message = _first("members.Message")
        self.attachment = _first("members.MessageAttachment")
        self.member = User.objects.filter(is_active=True, is_staff=False).order_by("pk").first()
        self.page_type = ContentType.objects.get_for_model(Page)

    def kwargs_for(self, pattern: Pattern) -> dict:
        """Keyword arguments that build ``pattern`` into a real address."""
        params = set(pattern.params)
        anchor = self._anchor(pattern, params)
        values: dict = {}
        space = _space_of(anchor) if anchor is not None else None
        if "course_slug" in params:
            course = getattr(anchor, "course", None) or getattr(getattr(anchor, "lesson", None), "course", None)
            course = course or self.course
            values["course_slug"] = course.slug
            space = course.space
        space = space or self.space
        values.update(community_slug=space.community.slug, space_slug=space.slug)
        for param in params:
            if param not in values:
                values[param] = self._value(param, pattern, anchor)
        return {key: value for key, value in values.items() if key in params}

    def _anchor(self, pattern: Pattern, params: set[str]):
        by_param = [
            ("attempt_id", self.attempt),
            ("lesson_id", self.lesson),
            ("course_slug", self.course),
            ("paper_id", self.paper),
            ("event_slug", self.event),
            ("answer_id", self.answer),
            ("question_slug", self.question),
            ("page_slug", self.page),
            ("comment_id", self.comment),
            ("milestone_id", self.milestone),
            ("webhook_id", self.webhook),
            ("template_id", self.template),
            ("request_id", self.join_request),
            ("invitation_id", self.invitation),
            ("post_id", self.post),
            ("poll_id", self.poll),
            ("file_id", self.file),
        ]
        if "ban_id" in params:
            return self.community_ban if pattern.key.startswith("spaces:community-") else self.space_ban
        for param, anchor in by_param:
            if param in params:
                return anchor
        return None

    def _value(self, param: str, pattern: Pattern, anchor):  # noqa: C901, PLR0911, PLR0912 - one case per parameter
        key = pattern.key
        if param == "attempt_id":
            return self.attempt.pk
        if param == "lesson_id":
            return (self.attempt.quiz.lesson_id) if "attempt_id" in pattern.params else self.lesson.pk
        if param == "event_slug":
            return (anchor.event if "paper_id" in pattern.params else self.event).slug
        if param == "question_slug":
            return (anchor.question if "answer_id" in pattern.params else self.question).slug
        if param == "page_slug":
            return self.page.slug
        if param == "version":  # the current version of what the address is about (a page, a question, an answer)
            versioned = anchor if hasattr(anchor, "version") else self.page
            return versioned.version if hasattr(versioned, "version") else 1
        if param == "filename":
            if key == "members:message-attachment":
                return self.attachment.original_name if self.attachment else "notes.txt"
            if key == "spaces:paper-download":
                return self.paper.file_name or "paper.pdf"
            return self.file.name
        if param == "number":
            return self.file.current_version.number
        if param == "token":
            if key == "spaces:invitation":
                return self.invitation.token
            if key in ("spaces:feed-token", "spaces:space-calendar-token"):
                return self.feed_token.token if self.feed_token else "unknown-token"
            return "unknown-token"
        if param == "username":
            return self.member.username
        if param == "user_id":
            return self.member.pk
        if param in ("target_kind", "target_id"):
            return "item" if param == "target_kind" else self.page.item_id
        if param == "item_id":
            return self.page.item_id
        if param == "page_id":
            return self.page.pk
        ids = {
            "answer_id": self.answer,
            "paper_id": self.paper,
            "comment_id": self.comment,
            "milestone_id": self.milestone,
            "webhook_id": self.webhook,
            "template_id": self.template,
            "request_id": self.join_request,
            "invitation_id": self.invitation,
            "post_id": self.post,
            "poll_id": self.poll,
            "file_id": self.file,
            "notification_id": self.notification,
            "export_id": self.export,
            "conversation_id": self.conversation,
            "message_id": self.message,
            "attachment_id": self.attachment,
            "ban_id": anchor,
        }
        if param in ids:
            return ids[param].pk if ids[param] is not None else 999999
        if param == "object_id":
            return self._admin_object(key)
        if param == "content_type_id":
            return self.page_type.pk
        if param == "id":
            return self.member.pk
        if param == "key":
            return "not-a-real-key"
        if param == "uidb36":
            return "zz"
        if param in ("rest", "url"):
            return "no/such/address/"
        if param == "app_label":
            return "spaces"
        if param in ("object_pk", "group_id"):
            return self.space.pk if param == "object_pk" else 1
        if param == "token_id":
            token = apps.get_model("members.PersonalAccessToken").objects.order_by("pk").first()
            return token.pk if token is not None else 999999
        raise AssertionError(f"no value for <{param}> in {key}")

    @staticmethod
    def _admin_model(key: str):
        """The model an admin address is about: admin:<app>_<model>_<action>, or route:admin/<app>/<model>/..."""
        if key.startswith("route:admin/"):
            return apps.get_model(*key.removeprefix("route:admin/").split("/")[:2])
        labels = {f"{m._meta.app_label}_{m._meta.model_name}": m for m in apps.get_models()}
        label = key.removeprefix("admin:")
        while label and label not in labels:
            label = label.rpartition("_")[0]
        return labels[label]

    def _admin_object(self, key: str):
        if key == "admin:view_on_site":
            return self.page.pk
        row = self._admin_model(key).objects.order_by("pk").first()
        return row.pk if row is not None else 1

    def url(self, pattern: Pattern) -> str:
        name = pattern.name
        if UNNAMED_GROUP in pattern.route:  # django-simple-history's admin: object, then history row
            model = self._admin_model(pattern.key)
            row = model.history.order_by("history_id").first()
            return reverse(name, args=[row.id if row else 1, row.history_id if row else 1])
        kwargs = self.kwargs_for(pattern)
        if name is None:
            return "/" + self._fill(pattern.route, kwargs)
        return reverse(name, kwargs=kwargs)

    @staticmethod
    def _fill(route: str, kwargs: dict) -> str:
        route = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: str(kwargs[m.group(1)]), route)
        route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: str(kwargs[m.group(1)]), route)
        return route.replace("^", "").replace("$", "")


@pytest.fixture
def demo(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", verbosity=0)
    return World()


def location_path(response) -> str:
    return urlsplit(response.get("Location", "")).path


# --- (b) anonymous visitors get the listed answer everywhere -------------------------------------------------------
def test_every_url_answers_an_anonymous_visitor_as_listed(demo):
    wrong = {}
    for pattern in url_patterns():
        url = demo.url(pattern)
        response = Client().get(url)
        expected = ANONYMOUS[pattern.key]
        if response.status_code != expected:
            wrong[pattern.key] = (url, response.status_code, expected)
        elif expected == 302 and pattern.key.split(":")[0] not in ("route", "admin"):
            # A redirect for anonymous visitors is to the sign-in page, back to where they were going.
            target = location_path(response)
            if not target.startswith((reverse("account_login"), "/accounts/", "/c/", "/")):
                wrong[pattern.key] = (url, target, "a redirect to sign in")

    assert wrong == {}


# --- (c) signed in, every page answers without a server error --------------------------------------------------------
def test_every_page_answers_a_superuser_without_a_server_error(demo):
    """Covers the pages for the run-wide check (c): what a superuser may GET answers 2xx here. The POST-only views
    answer 405 to a GET; their successes come from their own tests."""
    superuser = User.objects.create_superuser(email="root@example.org", password="root-pass-123", username="root")
    browser = Client()
    browser.force_login(superuser)
    broken, succeeded = {}, set()
    for pattern in url_patterns():
        url = demo.url(pattern)
        response = browser.get(url)
        if response.status_code >= 500:
            broken[pattern.key] = (url, response.status_code)
        elif is_success("GET", response.status_code):
            succeeded.add(pattern.key)

    assert broken == {}
    # The pages everyone reads, the member pages and the admin are all reached with success.
    assert {"home", "spaces:page-detail", "members:notifications", "admin:index", "api:me"} <= succeeded


# --- Successes no other test asks for (found by tests/security/url_coverage.py) --------------------------------------
def test_reordering_and_deleting_answer_with_a_redirect_after_success(demo):
    from spaces.models import Course, Lesson, Page

    staff = User.objects.create_superuser(email="keeper@example.org", password="keeper-pass-123", username="keeper")
    browser = Client()
    browser.force_login(staff)
    page = next(p for p in Page.objects.order_by("pk") if p.space.pages.filter(parent=p.parent).count() > 1)
    space_kwargs = {"community_slug": page.space.community.slug, "space_slug": page.space.slug}
    course = next(c for c in Course.objects.order_by("pk") if c.lessons.count() > 1)
    course_kwargs = {"community_slug": course.space.community.slug, "space_slug": course.space.slug}
    course_kwargs["course_slug"] = course.slug
    first = course.lessons.order_by("position", "pk").first()

    answers = {
        "page-down": browser.post(reverse("spaces:page-down", kwargs={**space_kwargs, "page_slug": page.slug})),
        "lesson-down": browser.post(reverse("spaces:lesson-down", kwargs={**course_kwargs, "lesson_id": first.pk})),
        "lesson-up": browser.post(reverse("spaces:lesson-up", kwargs={**course_kwargs, "lesson_id": first.pk})),
        "course-delete": browser.post(reverse("spaces:course-delete", kwargs=course_kwargs)),
    }

    assert {name: response.status_code for name, response in answers.items()} == dict.fromkeys(answers, 302)
    assert not Course.objects.filter(pk=course.pk).exists()
    assert Lesson.objects.filter(course_id=course.pk).count() == 0


@pytest.mark.django_db
def test_a_member_without_a_password_may_set_one():
    member = User.objects.create_user(email="social@example.org", password=None)
    browser = Client()
    browser.force_login(member)

    response = browser.get(reverse("account_set_password"))

    assert response.status_code == 200
