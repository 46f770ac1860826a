"""Digests, the read side: who is due, what each member's digest holds, how it is rendered, unsubscribe tokens.

Nothing here writes; ``members/services_digests.py`` owns the outbox (``DigestRecord``) and the sending.

A digest covers ``(period_start, period_end]``: from the member's last digest (or one period back) to the top
of the hour the job runs for. It lists what happened in the spaces the member belongs to (``member_spaces_for``)
or watches, and on the items they watch: new and changed pages, new questions (unanswered first), accepted
answers, upcoming events (next 14 days), popular new posts, and their notifications left for the digest. Every
entry is filtered by ``visible_items_for`` at the moment of composing, which is right before sending, and
muted spaces (``SpaceMute``) are left out; hidden, pending-review, scheduled and trashed content is never news.
A member's own doing is left out too. A whole batch is composed in a fixed number of queries.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from analytics.models import ActivityEvent
from members.models import (
    DigestFrequency,
    DigestRecord,
    DigestStatus,
    EmailState,
    Notification,
    NotificationPreferences,
    Profile,
    SpaceMute,
)
from members.selectors_notifications import NOTIFICATION_RELATED, notification_message, notification_target
from spaces.models import Answer, Event, Item, ModerationState, Page, Post, Question, Space, Watch
from spaces.permissions import member_spaces_for, visible_items_for

User = get_user_model()

PERIODS = {DigestFrequency.DAILY: timedelta(days=1), DigestFrequency.WEEKLY: timedelta(days=7)}
# A member is not due again this soon after a digest, whatever the clock says (a daylight-saving change that
# repeats an hour, a run with an earlier --now, a beat restart).
MIN_GAPS = {DigestFrequency.DAILY: timedelta(hours=12), DigestFrequency.WEEKLY: timedelta(days=3)}
UPCOMING_EVENTS = timedelta(days=14)
MAX_PER_SECTION = 10
POPULAR_POSTS = 5
MONDAY = 0
DEFAULT_FREQUENCY = NotificationPreferences._meta.get_field("digest_frequency").default
DEFAULT_HOUR = NotificationPreferences._meta.get_field("digest_hour").default
DEFAULT_SKIP_SEEN = NotificationPreferences._meta.get_field("skip_digest_if_seen").default
# Activity kinds that mean "the member opened this item" (recorded by the detail views, issue 6). Both spellings
# are accepted so the digest needs no change whichever the analytics side settles on.
VIEW_KINDS = tuple(
    f"{kind}_{suffix}"
    for kind in ("item", "page", "question", "event", "post", "poll")
    for suffix in ("view", "viewed")
)
UNSUBSCRIBE_SALT = "members.digest-unsubscribe"
UNSUBSCRIBE_MAX_AGE = timedelta(days=180)
UNSUBSCRIBE_ACTIVITY = "digest_unsubscribe"


# --- When a digest is due -----------------------------------------------------------------------------------
def period_end_for(now: datetime) -> datetime:
    """The top of the hour (UTC): every run within one hour works on the same period, which is what makes the
    outbox's unique (member, frequency, period end) stop a second copy."""
    return now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def zone(name: str | None) -> zoneinfo.ZoneInfo:
    try:
        return zoneinfo.ZoneInfo(name or "UTC")
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def _local_clock_q(period_end: datetime) -> Q:
    """Members whose local hour (in their profile's time zone) is their digest hour, for their frequency: daily
    at that hour, weekly on Mondays at that hour, off never.

    The clock is read at the period's end (the top of the UTC hour), not at the moment the job happens to run,
    so a late run still lands on the same local hour, also in zones such as +5:30 and +5:45. Time zones are
    grouped by the local hour and weekday they have then, so the query has one branch per distinct local hour,
    not one per member. Unknown zone names count as UTC (``zone``).
    """
    now = period_end
    names = set(Profile.objects.values_list("time_zone", flat=True).distinct()) | {"UTC"}
    groups: dict[tuple[int, bool], list[str]] = defaultdict(list)
    for name in names:
        local = now.astimezone(zone(name))
        groups[(local.hour, local.weekday() == MONDAY)].append(name)
    clock = Q(pk__in=[])
    for (hour, monday), zone_names in groups.items():
        frequencies = [DigestFrequency.DAILY, DigestFrequency.WEEKLY] if monday else [DigestFrequency.DAILY]
        clock |= Q(digest_tz__in=zone_names, digest_at_hour=hour, digest_freq__in=frequencies)
    return clock


def due_members(now: datetime) -> QuerySet:
    """Active members due a digest for the period ending at ``period_end_for(now)`` that have no record for
    it yet. Annotated with ``digest_freq``, ``last_digest`` and ``has_prefs`` (members who never opened their
    preferences get the defaults: weekly at 8)."""
    period_end = period_end_for(now)
    members = User.objects.active().annotate(
        digest_freq=Coalesce("notification_prefs__digest_frequency", Value(DEFAULT_FREQUENCY)),
        digest_at_hour=Coalesce("notification_prefs__digest_hour", Value(DEFAULT_HOUR)),
        digest_tz=Coalesce("profile__time_zone", Value("UTC")),
        last_digest=F("notification_prefs__last_digest_at"),
        has_prefs=Exists(NotificationPreferences.objects.filter(user_id=OuterRef("pk"))),
    )
    rested = Q(last_digest__isnull=True)
    for frequency, gap in MIN_GAPS.items():
        rested |= Q(digest_freq=frequency, last_digest__lte=period_end - gap)
    recorded = DigestRecord.objects.filter(
        user_id=OuterRef("pk"), frequency=OuterRef("digest_freq"), period_end=period_end
    )
    return members.filter(_local_clock_q(period_end)).filter(rested).exclude(Exists(recorded)).order_by("pk")


def period_start_for(frequency: str, last_digest_at: datetime | None, period_end: datetime) -> datetime:
    """Since the last digest; for a first digest (or a very old one) one period back, never more."""
    one_period = period_end - PERIODS.get(frequency, PERIODS[DigestFrequency.WEEKLY])
    if last_digest_at is None or last_digest_at < one_period - PERIODS[DigestFrequency.WEEKLY]:
        return one_period
    return min(last_digest_at, period_end)


# --- What a digest holds ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DigestJob:
    """One digest to compose: for whom, which frequency, which period (and its outbox row, once written)."""

    member: object
    frequency: str
    period_start: datetime
    period_end: datetime
    record_id: int | None = None


@dataclass
class DigestEntry:
    item_id: int
    space_id: int
    title: str
    url: str
    note: str
    changed_at: datetime
    is_news: bool = True
    # (target type, target id) pairs whose view events mean the member saw this change.
    view_keys: tuple = ()
    sort_key: tuple = ()
    actor_id: int | None = None
    also_item_ids: tuple = ()  # watching any of these (the question of an answer) brings the entry in too
    section: str = ""
    created_at: datetime | None = None
    starts_at: datetime | None = None


@dataclass
class SpaceSection:
    space: Space
    pages: list[DigestEntry] = field(default_factory=list)
    questions: list[DigestEntry] = field(default_factory=list)
    answers: list[DigestEntry] = field(default_factory=list)
    events: list[DigestEntry] = field(default_factory=list)
    posts: list[DigestEntry] = field(default_factory=list)
    more: int = 0

    SECTIONS = ("pages", "questions", "answers", "events", "posts")

    def entries(self) -> list[DigestEntry]:
        return [entry for name in self.SECTIONS for entry in getattr(self, name)]


@dataclass
class NotificationEntry:
    notification_id: int
    text: str
    url: str
    space_name: str
    created_at: datetime
    read: bool


@dataclass
class Digest:
    job: DigestJob
    notifications: list[NotificationEntry] = field(default_factory=list)
    spaces: list[SpaceSection] = field(default_factory=list)
    all_seen: bool = False

    @property
    def member(self):
        return self.job.member

    @property
    def news_count(self) -> int:
        return sum(1 for s in self.spaces for entry in s.entries() if entry.is_news) + sum(s.more for s in self.spaces)

    @property
    def item_count(self) -> int:
        return self.news_count + len(self.notifications)

    @property
    def is_empty(self) -> bool:
        """Nothing new: upcoming events alone (known before the period) do not make a digest worth sending."""
        return self.item_count == 0

    @property
    def notification_ids(self) -> list[int]:
        return [n.notification_id for n in self.notifications]


def _absolute(path: str) -> str:
    return path if path.startswith(("http://", "https://")) else f"{settings.SITE_URL}{path}"


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start < moment <= end


def prefs_of(member) -> NotificationPreferences:
    try:
        return member.notification_prefs
    except NotificationPreferences.DoesNotExist:
        return NotificationPreferences(user=member)


@dataclass
class _Batch:
    """The rows a batch of digests is composed from, loaded once for all its members."""

    spaces: dict[int, Space]
    interest: dict[int, set[int]]  # member -> spaces whose news they get (member of or watching, not muted)
    watched_items: dict[int, set[int]]  # member -> watched items outside those spaces
    muted: dict[int, set[int]]
    entries: list[DigestEntry]
    notifications: dict[int, list[Notification]]
    visible: dict[int, set[int]]
    views: dict[int, dict[tuple[str, int], datetime]]


def _watches(member_ids: list[int]) -> tuple[dict[int, set[int]], dict[int, set[int]], dict[int, int]]:
    spaces, items, item_spaces = defaultdict(set), defaultdict(set), {}
    for user_id, space_id, item_id, item_space_id in Watch.objects.filter(user_id__in=member_ids).values_list(
        "user_id", "space_id", "item_id", "item__space_id"
    ):
        if space_id is not None:
            spaces[user_id].add(space_id)
        if item_id is not None:
            items[user_id].add(item_id)
            item_spaces[item_id] = item_space_id
    return spaces, items, item_spaces


# Digests list live content only: hidden or pending content is not news, even for the moderators who may see it
# (they hear of it through flags), and trashed content is gone. Visibility per member is applied on top.
LIVE = Q(item__moderation_state=ModerationState.VISIBLE, item__deleted_at=None)


def _where(space_ids, item_ids) -> Q:
    return Q(space_id__in=space_ids) | Q(item_id__in=item_ids)


def _page_entries(space_ids, item_ids, lo, hi) -> list[DigestEntry]:
    new = Q(item__created_at__gt=lo, item__created_at__lte=hi)
    changed = Q(last_edited_at__gt=lo, last_edited_at__lte=hi)
    pages = Page.objects.filter(_where(space_ids, item_ids), LIVE).filter(new | changed)
    entries = []
    for page in pages.select_related("item", "space__community"):
        created = page.item.created_at
        changed_at = max(filter(None, [created, page.last_edited_at]))
        entries.append(
            DigestEntry(
                item_id=page.item_id,
                space_id=page.space_id,
                title=page.title,
                url=_absolute(page.get_absolute_url()),
                note="",  # set per member: new in their period, or changed
                changed_at=changed_at,
                view_keys=(("spaces.page", page.pk), ("spaces.item", page.item_id)),
                sort_key=(-changed_at.timestamp(),),
                actor_id=page.last_edited_by_id or page.item.author_id,
                section="pages",
                created_at=created,
            )
        )
    return entries


def _question_entries(space_ids, item_ids, lo, hi) -> list[DigestEntry]:
    questions = Question.objects.filter(_where(space_ids, item_ids), LIVE).filter(
        item__created_at__gt=lo, item__created_at__lte=hi
    )
    entries = []
    for question in questions.select_related("item", "space__community"):
        unanswered = question.answer_count == 0
        note = (
            _("Unanswered")
            if unanswered
            else ngettext("%(count)d answer", "%(count)d answers", question.answer_count)
            % {"count": question.answer_count}
        )
        entry = DigestEntry(
            item_id=question.item_id,
            space_id=question.space_id,
            title=question.title,
            url=_absolute(question.get_absolute_url()),
            note=note,
            changed_at=question.item.created_at,
            view_keys=(("spaces.question", question.pk), ("spaces.item", question.item_id)),
            sort_key=(not unanswered, -question.item.created_at.timestamp()),
            actor_id=question.item.author_id,
            section="questions",
        )
        entries.append(entry)
    return entries


def _answer_entries(space_ids, item_ids, lo, hi) -> list[DigestEntry]:
    """Answers accepted in the period that are still the accepted one (the analytics log has the moment)."""
    accepted = {
        answer_id: (moment, actor_id)
        for answer_id, moment, actor_id in ActivityEvent.objects.filter(
            kind="answer_accept", target_type="spaces.answer", occurred_at__gt=lo, occurred_at__lte=hi
        )
        .filter(Q(space_id__in=space_ids) | Q(space_id__in=Item.objects.filter(pk__in=item_ids).values("space_id")))
        .order_by("occurred_at")
        .values_list("target_id", "occurred_at", "member_id")
    }
    entries = []
    live_question = Q(question__item__moderation_state=ModerationState.VISIBLE, question__item__deleted_at=None)
    answers = Answer.objects.filter(LIVE, live_question, pk__in=list(accepted), question__accepted_answer_id=F("pk"))
    answers = answers.select_related("item", "question__item", "question__space__community")
    for answer in answers:
        moment, actor_id = accepted[answer.pk]
        question = answer.question
        entry = DigestEntry(
            item_id=answer.item_id,
            space_id=question.space_id,
            title=question.title,
            url=_absolute(answer.get_absolute_url()),
            note=_("An answer was accepted"),
            changed_at=moment,
            view_keys=(("spaces.question", question.pk), ("spaces.item", question.item_id)),
            sort_key=(-moment.timestamp(),),
            actor_id=actor_id,
            also_item_ids=(question.item_id,),
            section="answers",
        )
        entries.append(entry)
    return entries


def _event_entries(space_ids, item_ids, lo, hi, earliest_end, latest_end) -> list[DigestEntry]:
    upcoming = Q(starts_at__gte=earliest_end, starts_at__lte=latest_end + UPCOMING_EVENTS)
    new = Q(item__created_at__gt=lo, item__created_at__lte=hi, starts_at__gte=earliest_end)
    events = Event.objects.filter(_where(space_ids, item_ids), LIVE).filter(upcoming | new)
    entries = []
    for event in events.select_related("item", "space__community"):
        entry = DigestEntry(
            item_id=event.item_id,
            space_id=event.space_id,
            title=event.title,
            url=_absolute(event.get_absolute_url()),
            note="",
            changed_at=event.item.created_at,
            view_keys=(("spaces.event", event.pk), ("spaces.item", event.item_id)),
            sort_key=(event.starts_at.timestamp(),),
            actor_id=event.item.author_id,
            section="events",
            starts_at=event.starts_at,
        )
        entries.append(entry)
    return entries


def _post_entries(space_ids, item_ids, lo, hi) -> list[DigestEntry]:
    posts = (
        Post.objects.filter(_where(space_ids, item_ids), LIVE)
        .filter(item__created_at__gt=lo, item__created_at__lte=hi)
        .annotate(comment_total=Count("item__comments"))
        .select_related("item", "space__community")
    )
    entries = []
    for post in posts:
        likes, comments = post.item.like_count, post.comment_total
        entry = DigestEntry(
            item_id=post.item_id,
            space_id=post.space_id,
            title=post.item.title or _("Post"),
            url=_absolute(post.get_absolute_url()),
            note=_("%(likes)s likes · %(comments)s comments") % {"likes": likes, "comments": comments},
            changed_at=post.item.created_at,
            view_keys=(("spaces.post", post.pk), ("spaces.item", post.item_id)),
            sort_key=(-(likes + comments), -post.item.created_at.timestamp()),
            actor_id=post.item.author_id,
            section="posts",
        )
        entries.append(entry)
    return entries


def _load_batch(jobs: list[DigestJob], now: datetime) -> _Batch:
    members = [job.member for job in jobs]
    member_ids = [member.pk for member in members]
    lo = min(job.period_start for job in jobs)
    hi = max(job.period_end for job in jobs)
    earliest_end = min(job.period_end for job in jobs)
    roles = member_spaces_for(member_ids)
    watched_spaces, watched_items, item_spaces = _watches(member_ids)
    muted: dict[int, set[int]] = defaultdict(set)
    for user_id, space_id in SpaceMute.objects.filter(user_id__in=member_ids).values_list("user_id", "space_id"):
        muted[user_id].add(space_id)
    interest = {m: (roles[m] | watched_spaces[m]) - muted[m] for m in member_ids}
    extra_items = {
        m: {pk for pk in watched_items[m] if item_spaces[pk] not in muted[m] and item_spaces[pk] not in interest[m]}
        for m in member_ids
    }
    all_spaces = set().union(*interest.values())
    all_items = set().union(*extra_items.values())
    entries = [
        *_page_entries(all_spaces, all_items, lo, hi),
        *_question_entries(all_spaces, all_items, lo, hi),
        *_answer_entries(all_spaces, all_items, lo, hi),
        *_event_entries(all_spaces, all_items, lo, hi, earliest_end, hi),
        *_post_entries(all_spaces, all_items, lo, hi),
    ]
    notifications: dict[int, list[Notification]] = defaultdict(list)
    for notification in (
        Notification.objects.filter(recipient_id__in=member_ids, email_state=EmailState.DIGEST, created_at__lte=hi)
        .select_related(*NOTIFICATION_RELATED)
        .order_by("-created_at", "-pk")
    ):
        notifications[notification.recipient_id].append(notification)
    candidates: dict[int, set[int]] = {}
    for m in member_ids:
        wanted = {e.item_id for e in entries if e.space_id in interest[m] or e.item_id in extra_items[m]}
        wanted |= {e.item_id for e in entries if set(e.also_item_ids) & extra_items[m]}
        wanted |= {n.item_id for n in notifications[m] if n.item_id is not None}
        candidates[m] = wanted
    wanted_ids = set().union(*candidates.values())
    visible = visible_items_for(members, wanted_ids, only=candidates, now=now)
    space_ids = all_spaces | {e.space_id for e in entries}
    spaces = {s.pk: s for s in Space.objects.filter(pk__in=space_ids).select_related("community")}
    views: dict[int, dict[tuple[str, int], datetime]] = defaultdict(dict)
    if any(prefs_of(member).skip_digest_if_seen for member in members):
        for row in (
            ActivityEvent.objects.filter(member_id__in=member_ids, kind__in=VIEW_KINDS, occurred_at__gt=lo)
            .values("member_id", "target_type", "target_id")
            .annotate(last=Max("occurred_at"))
        ):
            views[row["member_id"]][(row["target_type"], row["target_id"])] = row["last"]
    return _Batch(spaces, interest, extra_items, muted, entries, notifications, visible, views)


def compose_digests(jobs: list[DigestJob], *, now: datetime | None = None) -> list[Digest]:
    """The digest of every job, composed from one fixed set of queries for the whole batch.

    Only what each member may see at ``now`` (``visible_items_for``), in the spaces they belong to or watch and
    on the items they watch, never from a muted space, and not their own doing. Each digest knows whether the
    member already viewed every item in it after its last change (``all_seen``).
    """
    if not jobs:
        return []
    now = now or timezone.now()
    batch = _load_batch(jobs, now)
    return [_compose_one(job, batch) for job in jobs]


def _compose_one(job: DigestJob, batch: _Batch) -> Digest:
    m = job.member.pk
    start, end = job.period_start, job.period_end
    visible = batch.visible.get(m, set())
    sections: dict[int, SpaceSection] = {}
    for entry in batch.entries:
        wanted = entry.space_id in batch.interest[m] or entry.item_id in batch.watched_items[m]
        wanted = wanted or bool(set(entry.also_item_ids) & batch.watched_items[m])
        if not wanted or entry.item_id not in visible or entry.space_id in batch.muted[m]:
            continue
        own = entry.actor_id == m
        if entry.section == "events":
            upcoming = end <= entry.starts_at <= end + UPCOMING_EVENTS
            is_new = _in(entry.changed_at, start, end) and entry.starts_at >= end and not own
            if not (upcoming or is_new):
                continue
            entry = replace(entry, is_news=is_new, note=_("New event") if is_new else "")
        elif entry.section == "pages":
            if own or not _in(entry.changed_at, start, end):
                continue
            entry = replace(entry, note=_("New page") if _in(entry.created_at, start, end) else _("Changed"))
        elif own or not _in(entry.changed_at, start, end):
            continue
        section = sections.get(entry.space_id)
        if section is None:
            section = sections[entry.space_id] = SpaceSection(space=batch.spaces[entry.space_id])
        getattr(section, entry.section).append(entry)
    for section in sections.values():
        for name in SpaceSection.SECTIONS:
            entries = sorted(getattr(section, name), key=lambda e: e.sort_key)
            limit = POPULAR_POSTS if name == "posts" else MAX_PER_SECTION
            section.more += sum(1 for e in entries[limit:] if e.is_news)
            setattr(section, name, entries[:limit])
    notifications = [
        _notification_entry(n)
        for n in batch.notifications[m]
        if (n.item_id is None or n.item_id in visible)
        and (n.space_id or (n.item.space_id if n.item_id else None)) not in batch.muted[m]
    ]
    digest = Digest(
        job=job,
        notifications=notifications,
        spaces=sorted(sections.values(), key=lambda s: (s.space.community.name, s.space.name)),
    )
    digest.all_seen = _all_seen(digest, batch.views[m])
    return digest


def _notification_entry(notification: Notification) -> NotificationEntry:
    item = notification.item
    space = notification.space or (item.space if item is not None else None)
    return NotificationEntry(
        notification_id=notification.pk,
        text=notification_message(notification),
        url=_absolute(notification_target(notification)),
        space_name=space.name if space is not None else "",
        created_at=notification.created_at,
        read=notification.read_at is not None,
    )


def _all_seen(digest: Digest, views: dict[tuple[str, int], datetime]) -> bool:
    """Every new thing in the digest was opened by the member after its last change (and every notification
    in it was read). Upcoming events known before the period are reminders, not news, and do not count."""
    news = [entry for section in digest.spaces for entry in section.entries() if entry.is_news]
    if not news and not digest.notifications:
        return False
    if any(section.more for section in digest.spaces):
        return False
    for entry in news:
        last_view = max((views[key] for key in entry.view_keys if key in views), default=None)
        if last_view is None or last_view < entry.changed_at:
            return False
    return all(n.read for n in digest.notifications)


# --- Rendering ----------------------------------------------------------------------------------------------
def unsubscribe_token(member_id: int, record_id: int) -> str:
    """A signed token for the one-click unsubscribe link in one digest. It names the member and the digest it
    came in (the per-member nonce): once used, that digest's link says "already used" even after the member
    subscribes again; newer digests carry new tokens."""
    return signing.dumps({"u": member_id, "d": record_id}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(member_id: int, record_id: int) -> str:
    return _absolute(reverse("members:digest-unsubscribe", kwargs={"token": unsubscribe_token(member_id, record_id)}))


@dataclass
class UnsubscribeState:
    valid: bool
    member: object = None
    record: DigestRecord | None = None
    already: bool = False  # digests are off already, or this link has been used


def unsubscribe_state(token: str) -> UnsubscribeState:
    """What an unsubscribe token is worth now: forged, tampered with, expired or pointing at nothing -> invalid."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT, max_age=UNSUBSCRIBE_MAX_AGE)
        member_id, record_id = int(data["u"]), int(data["d"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return UnsubscribeState(valid=False)
    record = (
        DigestRecord.objects.select_related("user__notification_prefs")
        .filter(pk=record_id, user_id=member_id, user__is_active=True)
        .first()
    )
    if record is None:
        return UnsubscribeState(valid=False)
    member = record.user
    used = ActivityEvent.objects.filter(
        member_id=member_id, kind=UNSUBSCRIBE_ACTIVITY, target_type="members.digestrecord", target_id=record_id
    ).exists()
    off = prefs_of(member).digest_frequency == DigestFrequency.OFF
    return UnsubscribeState(valid=True, member=member, record=record, already=used or off)


def digest_context(digest: Digest, *, unsubscribe: str) -> dict:
    """What the digest templates (the e-mail and the preview page) read."""
    return {
        "digest": digest,
        "member": digest.member,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe,
        "preferences_url": _absolute(reverse("members:notification-preferences")),
        "weekly": digest.job.frequency == DigestFrequency.WEEKLY,
    }


def render_digest(digest: Digest, *, unsubscribe: str) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a digest, in the member's language and time zone."""
    profile = getattr(digest.member, "profile", None)
    language = getattr(profile, "preferred_language", None) or settings.LANGUAGE_CODE
    context = digest_context(digest, unsubscribe=unsubscribe)
    with translation.override(language), timezone.override(zone(getattr(profile, "time_zone", "UTC"))):
        subject = " ".join(render_to_string("emails/digest_subject.txt", context).split())
        text = render_to_string("emails/digest_body.txt", context)
        html = render_to_string("emails/digest_body.html", context)
    return subject, text, html


def unsubscribe_headers(url: str) -> dict[str, str]:
    """RFC 2369 and RFC 8058: mail clients show an "Unsubscribe" button that POSTs to the link."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


# --- Preview and dry run ------------------------------------------------------------------------------------
def preview_job(member, now: datetime | None = None) -> DigestJob:
    """The digest ``member`` would get if it were sent now (weekly when their digest is off)."""
    now = now or timezone.now()
    prefs = prefs_of(member)
    frequency = prefs.digest_frequency if prefs.digest_frequency != DigestFrequency.OFF else DigestFrequency.WEEKLY
    return DigestJob(member, frequency, period_start_for(frequency, prefs.last_digest_at, now), now)


def outcome_of(digest: Digest) -> str:
    """What the job would do with a composed digest: a ``DigestStatus`` value."""
    if digest.is_empty:
        return DigestStatus.SKIPPED_EMPTY
    if digest.all_seen and prefs_of(digest.member).skip_digest_if_seen:
        return DigestStatus.SKIPPED_SEEN
    return DigestStatus.SENDING


def load_members(member_ids) -> dict[int, object]:
    return {
        member.pk: member
        for member in User.objects.filter(pk__in=list(member_ids)).select_related("profile", "notification_prefs")
    }


def dry_run(now: datetime, batch_size: int) -> list[tuple[object, DigestJob, Digest]]:
    """The digests a run at ``now`` would compose (due members and digests left pending), without writing."""
    period_end = period_end_for(now)
    jobs_spec = [
        (pk, frequency, period_start_for(frequency, last, period_end), period_end)
        for pk, frequency, last in due_members(now).values_list("pk", "digest_freq", "last_digest")
    ]
    jobs_spec += list(
        DigestRecord.objects.filter(status=DigestStatus.PENDING, period_end__lte=period_end).values_list(
            "user_id", "frequency", "period_start", "period_end"
        )
    )
    results = []
    for offset in range(0, len(jobs_spec), batch_size):
        chunk = jobs_spec[offset : offset + batch_size]
        members = load_members(spec[0] for spec in chunk)
        jobs = [DigestJob(members[pk], f, start, end) for pk, f, start, end in chunk if pk in members]
        results += [(job.member, job, digest) for job, digest in zip(jobs, compose_digests(jobs), strict=True)]
    return results
