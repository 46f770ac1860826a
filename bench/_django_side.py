"""The parts of the benchmark that run inside Django (``run.py`` calls ``django.setup()`` first, with the same
production settings the server gets): who signs in, which pages, query counts, analytics and digest timings."""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.db import connection
from django.db.models import Count, Q
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

SEARCHES = [
    "census",
    "record linkage",
    "sampling frame",
    "small area estimation",
    "data privacy",
    "CAPI",
    "imputation",
    "seasonal adjustment",
    "labour force survey",
    "disaster statistics Fiji",
    "price index",
    "metadata",
    "business register",
    "mobile phone data",
    "satellite imagery",
    "SDG indicators",
    "nonresponse",
    "questionnaire design",
    "censu",
    "recrod linkage",
]


@dataclass
class Personas:
    member: object
    admin: object
    space: object
    page: object
    question: object
    event: object


def personas() -> Personas:
    """A busy space and its keenest asker (a writer with notifications), its typical content, and an admin of
    its community (who may open the community's analytics dashboard)."""
    from communities.models import CommunityMembership, CommunityRole
    from spaces.models import Event, Page, Question, Space, SpaceMembership, SpaceRole, Visibility

    busy = None
    by_questions = Question.objects.values("space_id").annotate(n=Count("pk")).order_by("-n", "space_id")
    for row in by_questions[:50]:
        space = Space.objects.exclude(visibility=Visibility.CLOSED).filter(pk=row["space_id"]).first()
        if space and Page.objects.filter(space=space).exists() and Event.objects.filter(space=space).exists():
            busy = space
            break
    if busy is None:
        raise SystemExit("No space with questions, pages and events: seed the database first (seed_scale).")
    writers = SpaceMembership.objects.filter(space=busy, role__gte=SpaceRole.EDITOR, user__is_staff=False)
    asker = (
        Question.objects.filter(space=busy, item__author_id__in=writers.values("user_id"))
        .values("item__author_id")
        .annotate(n=Count("pk"))
        .order_by("-n", "item__author_id")
        .first()
    )
    from members.models import User

    member = User.objects.get(pk=asker["item__author_id"]) if asker else writers.first().user
    admin_row = (
        CommunityMembership.objects.filter(community_id=busy.community_id, role=CommunityRole.ADMIN)
        .order_by("pk")
        .first()
    )
    live = Q(item__deleted_at__isnull=True, item__moderation_state="visible", item__is_restricted=False)
    page = Page.objects.filter(live, space=busy, version__gte=3).order_by("-last_edited_at").first()
    page = page or Page.objects.filter(live, space=busy).order_by("-version").first()
    question = (
        Question.objects.filter(live, space=busy, answer_count__gte=3).order_by("-created_at").first()
        or Question.objects.filter(live, space=busy).order_by("-answer_count").first()
    )
    event = Event.objects.filter(live, space=busy).annotate(n=Count("registrations")).order_by("-n", "pk").first()
    return Personas(member=member, admin=admin_row.user, space=busy, page=page, question=question, event=event)


def session_cookie(user) -> str:
    """A signed-in session for ``user``, created in the session store as a login would: ``name=key``."""
    from importlib import import_module

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def key_pages(p: Personas) -> dict[str, str]:
    """The key pages of issue 7, as paths."""
    space = {"community_slug": p.space.community.slug, "space_slug": p.space.slug}
    return {
        "space home": reverse("spaces:home", kwargs=space),
        "page view": reverse("spaces:page-detail", kwargs={**space, "page_slug": p.page.slug}),
        "page history": reverse("spaces:page-history", kwargs={**space, "page_slug": p.page.slug}),
        "question page": reverse("spaces:question-detail", kwargs={**space, "question_slug": p.question.slug}),
        "question list": reverse("spaces:questions", kwargs=space),
        "event page": reverse("spaces:event-detail", kwargs={**space, "event_slug": p.event.slug}),
        "search results": reverse("search:results") + "?q=census",
        "notifications": reverse("members:notifications"),
    }


def dashboard_path(p: Personas) -> str:
    return reverse("analytics:community", kwargs={"community_slug": p.space.community.slug})


def count_queries(path: str, cookie: str) -> dict:
    """Queries of one request through Django's test client (the same settings as the server), cold and warm."""
    name, _eq, key = cookie.partition("=")
    client = Client()
    client.cookies[name] = key
    counts = []
    status = 0
    for _ in range(2):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(path)
        status = response.status_code
        counts.append(len(captured.captured_queries))
    return {"status": status, "queries_first": counts[0], "queries": counts[1]}


def data_sizes() -> dict[str, int]:
    from analytics.models import ActivityBucket, MemberDay
    from communities.models import Community
    from members.models import Notification, User
    from spaces.models import Answer, Comment, Event, Item, Page, Post, Question, Registration, Space

    sizes = {
        "members": User.objects.count(),
        "communities": Community.objects.count(),
        "spaces": Space.objects.count(),
        "items": Item.objects.count(),
        "pages": Page.objects.count(),
        "page versions": Page.history.model.objects.count(),
        "questions": Question.objects.count(),
        "answers": Answer.objects.count(),
        "events": Event.objects.count(),
        "registrations": Registration.objects.count(),
        "posts": Post.objects.count(),
        "comments": Comment.objects.count(),
        "notifications": Notification.objects.count(),
        "member days": MemberDay.objects.count(),
        "activity buckets": ActivityBucket.objects.count(),
    }
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM analytics_activityevent")
        sizes["activity events"] = cursor.fetchone()[0]
    return sizes


def _best_of(function, repeats: int) -> tuple[float, object]:
    """Median wall time in ms of ``repeats`` calls (after one warm-up call), and the last result."""
    result = function()
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def analytics_timings(repeats: int) -> dict:
    """Retention and cohort figures for the whole platform (every community, from the roll-ups) beside a plain
    ``count(*)`` of the raw activity table, in the same run; and what computing the largest community's dashboard
    figures costs when they are not cached."""
    from analytics import metrics
    from communities.models import Community, CommunityMembership

    def count_star():
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM analytics_activityevent")
            return cursor.fetchone()[0]

    scope = metrics.Scope(community_ids=tuple(Community.objects.order_by("pk").values_list("pk", flat=True)))
    count_ms, events = _best_of(count_star, repeats)
    return_ms, ratio = _best_of(lambda: metrics.return_rate(scope), repeats)
    cohort_ms, cohorts = _best_of(lambda: metrics.cohort_retention(scope), repeats)
    # Every figure of the largest community's dashboard, computed as after a roll-up (the page then remembers them
    # until the next one: analytics.figures_cache), without rendering.
    sizes = CommunityMembership.objects.values("community_id").annotate(n=Count("pk"))
    largest = sizes.order_by("-n", "community_id").first()
    figures_ms = None
    if largest:
        community = Community.objects.get(pk=largest["community_id"])
        one = metrics.Scope(community_ids=(community.pk,))
        figures_ms, _figures = _best_of(
            lambda: metrics.dashboard(one, heatmap_zones=(community.time_zone,), member_figures=True), repeats
        )
    return {
        "events": events,
        "count_star_ms": round(count_ms, 1),
        "return_rate_ms": round(return_ms, 1),
        "cohort_retention_ms": round(cohort_ms, 1),
        "retention_and_cohort_ms": round(return_ms + cohort_ms, 1),
        "share_of_count_star": round((return_ms + cohort_ms) / count_ms, 3) if count_ms else None,
        "return_rate": ratio.value,
        "cohorts": len(cohorts),
        "dashboard_figures_ms": round(figures_ms, 1) if figures_ms is not None else None,
    }


# --- Digests --------------------------------------------------------------------------------------------------
def digest_moment() -> datetime:
    """A run time in the coming hour (its period ends at the top of this hour)."""
    return timezone.now().replace(minute=5, second=0, microsecond=0) + timedelta(hours=1)


def digest_prepare(limit: int | None, now: datetime) -> int:
    """Make ``limit`` members (all active members when None) due a daily digest at ``now``, and no one else:
    their digest hour is their local hour then, and their last digest and the records of earlier runs are
    forgotten (a run within an hour of another found every member served already). Returns how many."""
    from members import digests
    from members.models import DigestRecord, NotificationPreferences, User

    period_end = digests.period_end_for(now)
    members = User.objects.active().filter(is_staff=False).order_by("pk").values_list("pk", flat=True)
    everyone = list(User.objects.values_list("pk", flat=True))
    chosen = list(members[:limit] if limit else members)
    existing = set(NotificationPreferences.objects.values_list("user_id", flat=True))
    NotificationPreferences.objects.bulk_create(
        [NotificationPreferences(user_id=pk) for pk in everyone if pk not in existing], batch_size=5000
    )
    DigestRecord.objects.all().delete()  # the benchmark's own database
    with connection.cursor() as cursor:
        cursor.execute("UPDATE members_notificationpreferences SET digest_frequency = 'off'")
        cursor.execute(
            """
            UPDATE members_notificationpreferences n
            SET digest_frequency = 'daily', last_digest_at = NULL,
                digest_hour = EXTRACT(hour FROM (%s::timestamptz AT TIME ZONE COALESCE(p.time_zone, 'UTC')))
            FROM members_profile p
            WHERE p.user_id = n.user_id AND n.user_id = ANY(%s)
            """,
            [period_end, chosen],
        )
    return len(chosen)


def digest_statuses(now: datetime) -> dict[str, int]:
    from members import digests
    from members.models import DigestRecord

    rows = DigestRecord.objects.filter(period_end=digests.period_end_for(now)).values("status").annotate(n=Count("pk"))
    return {row["status"]: row["n"] for row in rows}


def digest_send(now: datetime, queue: str) -> None:
    from copapp.celery import app
    from members.tasks import digests_send_due_task

    app.conf.task_always_eager = False
    digests_send_due_task.apply_async(kwargs={"now": now.isoformat()}, queue=queue)
