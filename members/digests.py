"""Digests, the read side: who is due, what each member's digest holds, how it is rendered, unsubscribe tokens.

Nothing here writes; ``members/services_digests.py`` owns the outbox (``DigestRecord``) and the sending.

A digest covers ``(period_start, period_end]``: from the member's last digest (or one period back) to the top
of the hour the job runs for. It lists what happened in the spaces the member belongs to (``member_spaces_for``)
or watches, and on the items they watch: new and changed pages, new questions (unanswered first), accepted
answers, upcoming events (next 14 days), popular new posts, and their notifications left for the digest. Every
entry is filtered by ``visible_items_for_batch`` (the set-based ``visible_items_for``) at the moment of composing,
which is right before sending, and muted spaces (``SpaceMute``) are left out; hidden, pending-review, scheduled
and trashed content is never news. A member's own doing is left out too.

Built for 50,000 members in minutes on one worker: a whole batch is composed in a fixed number of queries (the
news of its members' spaces loaded once, as plain values, and indexed by space), members who share their spaces
are batched together (``due_members`` orders them by community), a run looks for changed pages once
(``PageChanges``), and ``DigestRenderer`` renders what many digests share (an entry, a list, a space's block)
once per run.
"""

from __future__ import annotations

import zoneinfo
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import get_template, render_to_string
from django.urls import get_script_prefix, reverse
from django.utils import formats, timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from analytics.kinds import VIEW_KINDS
from analytics.models import ActivityEvent
from communities.models import CommunityMembership
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
from spaces.permissions import member_spaces_for, visible_items_for_batch

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
    # Members of the same communities next to each other (most belong to one): the job sends in this order, in
    # batches, and a batch whose members share their spaces loads those spaces' news once for all of them.
    communities = CommunityMembership.objects.filter(user_id=OuterRef("pk")).values("community_id")
    first = Subquery(communities.order_by("community_id")[:1])
    last = Subquery(communities.order_by("-community_id")[:1])
    due = members.filter(_local_clock_q(period_end)).filter(rested).exclude(Exists(recorded))
    return due.order_by(first.asc(nulls_last=True), last.asc(nulls_last=True), "pk")


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
    note: str | Note  # "" for none
    changed_at: datetime
    is_news: bool = True
    # (target type, target id) pairs whose view events mean the member saw this change: the detail views record
    # the typed object (``target._meta.label_lower``, e.g. "spaces.page"), and "spaces.item" matches a view of
    # the shared row.
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
class MessageEntry:
    """A conversation of the member's own with messages they have not read, new in the period. Who wrote and how
    many; never what (a message's text does not travel by e-mail)."""

    conversation_id: int
    title: str
    unread: int
    url: str


@dataclass
class Digest:
    job: DigestJob
    notifications: list[NotificationEntry] = field(default_factory=list)
    spaces: list[SpaceSection] = field(default_factory=list)
    all_seen: bool = False
    messages: list[MessageEntry] = field(default_factory=list)

    @property
    def member(self):
        return self.job.member

    @cached_property  # a digest is not changed once composed, and this is read several times
    def news_count(self) -> int:
        return sum(1 for s in self.spaces for entry in s.entries() if entry.is_news) + sum(s.more for s in self.spaces)

    @property
    def item_count(self) -> int:
        return self.news_count + len(self.notifications) + len(self.messages)

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


@dataclass(frozen=True)
class Note:
    """An entry's note ("Changed", "2 answers"), put into words when a digest is rendered, in its reader's language:
    entries are loaded once for a batch of members who read different languages."""

    kind: str
    count: int = 0
    other: int = 0

    def __str__(self) -> str:
        if self.kind == "answers":
            return ngettext("%(count)d answer", "%(count)d answers", self.count) % {"count": self.count}
        if self.kind == "post":
            return _("%(likes)s likes · %(comments)s comments") % {"likes": self.count, "comments": self.other}
        return str(NOTE_TEXTS[self.kind])


NOTE_TEXTS = {
    "new_page": gettext_lazy("New page"),
    "changed": gettext_lazy("Changed"),
    "new_event": gettext_lazy("New event"),
    "unanswered": gettext_lazy("Unanswered"),
    "accepted": gettext_lazy("An answer was accepted"),
}


@dataclass(frozen=True)
class _Notes:
    """The notes that depend on the member's period."""

    new_page: Note = Note("new_page")
    changed: Note = Note("changed")
    new_event: Note = Note("new_event")


@dataclass
class _Batch:
    """The rows a batch of digests is composed from, loaded once for all its members, and indexed so that each
    member's digest is put together from the entries of their own spaces and watched items only."""

    spaces: dict[int, Space]
    interest: dict[int, set[int]]  # member -> spaces whose news they get (member of or watching, not muted)
    watched_items: dict[int, set[int]]  # member -> watched items outside those spaces
    muted: dict[int, set[int]]
    entries: list[DigestEntry]
    notifications: dict[int, list[Notification]]
    visible: dict[int, set[int]]
    views: dict[int, dict[tuple[str, int], datetime]]
    # space -> section -> positions in ``entries`` in the order a digest lists them (by sort key; ties in the order
    # loaded, which is what sorting each member's own entries with a stable sort gives)
    by_space: dict[int, dict[str, list[int]]] = field(default_factory=dict)
    # item -> positions of the entries that watching it brings in (its own, and an accepted answer's question's)
    by_watched: dict[int, list[int]] = field(default_factory=dict)
    notes: _Notes | None = None
    # member -> their own conversations with unread messages (``_unread_conversations``)
    messages: dict[int, list[tuple[datetime, MessageEntry]]] = field(default_factory=dict)
    # (period, space) -> section -> the entries news in that period, as ``news`` gives them (made once per batch)
    _news: dict[tuple[datetime, datetime, int], dict[str, list[tuple]]] = field(default_factory=dict)
    # (position, is news, note) -> the entry as a digest shows it, made once per batch and only when shown
    _shown: dict[tuple[int, bool, str], DigestEntry] = field(default_factory=dict)

    def news(self, start: datetime, end: datetime, space_id: int) -> dict[str, list[tuple]]:
        """For each section of the space, in order: (position, entry, is news, note) of the entries a digest for
        ``(start, end]`` lists, as anyone but their author sees them (``as_news``). Members mostly share their
        period, so this is worked out once per batch, not once per member."""
        key = (start, end, space_id)
        found = self._news.get(key)
        if found is None:
            found = self._news[key] = {
                name: [(p, self.entries[p], *news) for p in positions if (news := self.as_news(p, start, end))]
                for name, positions in self.by_space[space_id].items()
            }
        return found

    def as_news(self, position: int, start: datetime, end: datetime, member_id: int | None = None):
        """(is news, note) of the entry in a digest for ``(start, end]`` (of ``member_id``), or None when it is not
        for them: their own doing, outside their period, or (events) neither new nor coming up."""
        entry = self.entries[position]
        own = entry.actor_id == member_id
        if entry.section == "events":
            upcoming = end <= entry.starts_at <= end + UPCOMING_EVENTS
            is_new = _in(entry.changed_at, start, end) and entry.starts_at >= end and not own
            if not (upcoming or is_new):
                return None
            return is_new, self.notes.new_event if is_new else ""
        if own or not _in(entry.changed_at, start, end):
            return None
        if entry.section == "pages":
            return True, self.notes.new_page if _in(entry.created_at, start, end) else self.notes.changed
        return True, entry.note

    def shown(self, position: int, is_news: bool, note: str | Note) -> DigestEntry:
        """The entry with its note for this period, for a digest that lists it (not just counts it in "more")."""
        entry = self.entries[position]
        if entry.is_news == is_news and entry.note == note:
            return entry
        key = (position, is_news, note)
        shown = self._shown.get(key)
        if shown is None:
            shown = self._shown[key] = replace(entry, is_news=is_news, note=note)
        return shown


def _index(entries: list[DigestEntry]) -> tuple[dict[int, dict[str, list[int]]], dict[int, list[int]]]:
    by_space: dict[int, dict[str, list[int]]] = {}
    by_watched: dict[int, list[int]] = defaultdict(list)
    for position, entry in enumerate(entries):
        sections = by_space.get(entry.space_id)
        if sections is None:
            sections = by_space[entry.space_id] = {name: [] for name in SpaceSection.SECTIONS}
        sections[entry.section].append(position)
        for item_id in {entry.item_id, *entry.also_item_ids}:
            by_watched[item_id].append(position)
    for sections in by_space.values():
        for positions in sections.values():
            positions.sort(key=lambda position: entries[position].sort_key)  # stable: ties keep the loading order
    return by_space, dict(by_watched)


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
# What every entry reads of its item and space: plain values, not model instances (a batch reads thousands).
ITEM_COLUMNS = ("item_id", "space_id", "item__created_at", "item__author_id", "space__slug", "space__community__slug")
_PATHS: dict[tuple, tuple[str, ...]] = {}


_SLOT = "9081726354"  # stands for the item's own slug or id in a remembered path: valid for both converters


def _link(url_name: str, community_slug: str, space_slug: str, **kwargs) -> str:
    """The absolute link to a typed item, as its ``get_absolute_url`` makes it (the tests hold the two equal).

    A batch links tens of thousands of items, and ``reverse()`` costs a fifth of a millisecond each: the path of
    each kind of item in each space is reversed once for the process with a stand-in for the item's own part
    (its one keyword: a slug or an id, which the URL converters keep to characters that need no quoting) and
    the item's value put in its place."""
    (name, value), *others = kwargs.items() or [("", "")]
    key = (url_name, get_script_prefix(), community_slug, space_slug, name)
    parts = _PATHS.get(key)
    if parts is None:
        if len(_PATHS) >= 200_000:
            _PATHS.clear()
        slot = {name: _SLOT} if name else {}
        path = reverse(url_name, kwargs={"community_slug": community_slug, "space_slug": space_slug, **slot})
        parts = _PATHS[key] = tuple(path.rsplit(_SLOT, 1)) if name and path.count(_SLOT) == 1 else (path,)
    if others or (name and len(parts) != 2):
        path = reverse(url_name, kwargs={"community_slug": community_slug, "space_slug": space_slug, **kwargs})
        return _absolute(path)
    return _absolute(f"{parts[0]}{value}{parts[1]}" if name else parts[0])


def _where(space_ids, item_ids) -> Q:
    return Q(space_id__in=space_ids) | Q(item_id__in=item_ids)


class PageChanges:
    """Which pages are new or changed in a period, looked up once per run of the job instead of once per batch.

    "Changed" reads ``Page.last_edited_at``, which has no index: asked per batch, it reads every page of the
    batch's spaces (at scale, tens of thousands of rows for each batch). A run asks once per period and keeps the
    ids by space and item; each batch then reads only those pages, by primary key and under the very same
    conditions, so what it lists is what the database holds at that moment. A page can only join the set later by
    being created after the lookup (a copied page keeps its source's edit time), and each batch looks for those
    too. (A page moved into another space while the job runs is looked for under its old space.)
    """

    def __init__(self) -> None:
        self._found: dict[tuple[datetime, datetime], tuple[datetime, dict[int, set[int]], dict[int, int]]] = {}

    def candidates(self, space_ids, item_ids, lo: datetime, hi: datetime) -> tuple[set[int], datetime]:
        """Ids of the pages of these spaces and items new or changed in ``(lo, hi]`` when first asked, and when."""
        found = self._found.get((lo, hi))
        if found is None:
            # An hour's margin: a page created just before the lookup, in a transaction not yet committed, is
            # looked for with the ones created after it.
            found_at = timezone.now() - timedelta(hours=1)
            by_space: dict[int, set[int]] = defaultdict(set)
            by_item: dict[int, int] = {}
            changed = Page.objects.filter(last_edited_at__gt=lo, last_edited_at__lte=hi).order_by()
            new = Page.objects.filter(item__created_at__gt=lo, item__created_at__lte=hi).order_by()
            rows = changed.values_list("pk", "item_id", "space_id").union(new.values_list("pk", "item_id", "space_id"))
            for pk, item_id, space_id in rows:
                by_space[space_id].add(pk)
                by_item[item_id] = pk
            found = self._found[(lo, hi)] = (found_at, by_space, by_item)
        found_at, by_space, by_item = found
        ids = {pk for space_id in space_ids for pk in by_space.get(space_id, ())}
        return ids | {by_item[item_id] for item_id in item_ids if item_id in by_item}, found_at


def _page_entries(space_ids, item_ids, lo, hi, changes: PageChanges | None = None) -> list[DigestEntry]:
    new = Q(item__created_at__gt=lo, item__created_at__lte=hi)
    changed = Q(last_edited_at__gt=lo, last_edited_at__lte=hi)
    pages = Page.objects.filter(_where(space_ids, item_ids), LIVE).filter(new | changed)
    columns = ("pk", "slug", "title", "last_edited_at", "last_edited_by_id", *ITEM_COLUMNS, "position")
    if changes is None:
        rows = list(pages.values_list(*columns))
    else:
        ids, found_at = changes.candidates(space_ids, item_ids, lo, hi)
        later = pages.filter(item__created_at__gt=found_at).order_by().values_list(*columns)
        rows = list(pages.filter(pk__in=ids).order_by().values_list(*columns).union(later))
        rows.sort(key=lambda row: (row[-1], row[2], row[0]))  # the pages' own order: position, title
    entries = []
    for (
        pk,
        slug,
        title,
        edited_at,
        editor_id,
        item_id,
        space_id,
        created,
        author_id,
        space_slug,
        community_slug,
        _position,
    ) in rows:
        changed_at = max(filter(None, [created, edited_at]))
        entries.append(
            DigestEntry(
                item_id=item_id,
                space_id=space_id,
                title=title,
                url=_link("spaces:page-detail", community_slug, space_slug, page_slug=slug),
                note="",  # set per member: new in their period, or changed
                changed_at=changed_at,
                view_keys=(("spaces.page", pk), ("spaces.item", item_id)),
                sort_key=(-changed_at.timestamp(),),
                actor_id=editor_id or author_id,
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
    for (
        pk,
        slug,
        title,
        answer_count,
        item_id,
        space_id,
        created,
        author_id,
        space_slug,
        community_slug,
    ) in questions.values_list("pk", "slug", "title", "answer_count", *ITEM_COLUMNS):
        unanswered = answer_count == 0
        note = Note("unanswered") if unanswered else Note("answers", answer_count)
        entry = DigestEntry(
            item_id=item_id,
            space_id=space_id,
            title=title,
            url=_link("spaces:question-detail", community_slug, space_slug, question_slug=slug),
            note=note,
            changed_at=created,
            view_keys=(("spaces.question", pk), ("spaces.item", item_id)),
            sort_key=(not unanswered, -created.timestamp()),
            actor_id=author_id,
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
    for (
        pk,
        item_id,
        question_id,
        question_item_id,
        space_id,
        slug,
        title,
        space_slug,
        community_slug,
    ) in answers.values_list(
        "pk",
        "item_id",
        "question_id",
        "question__item_id",
        "question__space_id",
        "question__slug",
        "question__title",
        "question__space__slug",
        "question__space__community__slug",
    ):
        moment, actor_id = accepted[pk]
        question_url = _link("spaces:question-detail", community_slug, space_slug, question_slug=slug)
        entry = DigestEntry(
            item_id=item_id,
            space_id=space_id,
            title=title,
            url=f"{question_url}#answer-{pk}",
            note=Note("accepted"),
            changed_at=moment,
            view_keys=(("spaces.question", question_id), ("spaces.item", question_item_id)),
            sort_key=(-moment.timestamp(),),
            actor_id=actor_id,
            also_item_ids=(question_item_id,),
            section="answers",
        )
        entries.append(entry)
    return entries


def _event_entries(space_ids, item_ids, lo, hi, earliest_end, latest_end) -> list[DigestEntry]:
    upcoming = Q(starts_at__gte=earliest_end, starts_at__lte=latest_end + UPCOMING_EVENTS)
    new = Q(item__created_at__gt=lo, item__created_at__lte=hi, starts_at__gte=earliest_end)
    events = Event.objects.filter(_where(space_ids, item_ids), LIVE).filter(upcoming | new)
    entries = []
    for (
        pk,
        slug,
        title,
        starts_at,
        item_id,
        space_id,
        created,
        author_id,
        space_slug,
        community_slug,
    ) in events.values_list("pk", "slug", "title", "starts_at", *ITEM_COLUMNS):
        entry = DigestEntry(
            item_id=item_id,
            space_id=space_id,
            title=title,
            url=_link("spaces:event-detail", community_slug, space_slug, event_slug=slug),
            note="",
            changed_at=created,
            view_keys=(("spaces.event", pk), ("spaces.item", item_id)),
            sort_key=(starts_at.timestamp(), title, pk),  # equal times in a fixed order
            actor_id=author_id,
            section="events",
            starts_at=starts_at,
        )
        entries.append(entry)
    return entries


def _post_entries(space_ids, item_ids, lo, hi) -> list[DigestEntry]:
    posts = (
        Post.objects.filter(_where(space_ids, item_ids), LIVE)
        .filter(item__created_at__gt=lo, item__created_at__lte=hi)
        .annotate(comment_total=Count("item__comments"))
    )
    entries = []
    for (
        pk,
        title,
        likes,
        comments,
        item_id,
        space_id,
        created,
        author_id,
        space_slug,
        community_slug,
    ) in posts.values_list("pk", "item__title", "item__like_count", "comment_total", *ITEM_COLUMNS):
        entry = DigestEntry(
            item_id=item_id,
            space_id=space_id,
            title=title or gettext_lazy("Post"),
            url=_link("spaces:post-detail", community_slug, space_slug, post_id=pk),
            note=Note("post", likes, comments),
            changed_at=created,
            view_keys=(("spaces.post", pk), ("spaces.item", item_id)),
            sort_key=(-(likes + comments), -created.timestamp()),
            actor_id=author_id,
            section="posts",
        )
        entries.append(entry)
    return entries


def _load_batch(jobs: list[DigestJob], now: datetime, pages: PageChanges | None) -> _Batch:
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
        *_page_entries(all_spaces, all_items, lo, hi, pages),
        *_question_entries(all_spaces, all_items, lo, hi),
        *_answer_entries(all_spaces, all_items, lo, hi),
        *_event_entries(all_spaces, all_items, lo, hi, earliest_end, hi),
        *_post_entries(all_spaces, all_items, lo, hi),
    ]
    by_space, by_watched = _index(entries)
    notifications: dict[int, list[Notification]] = defaultdict(list)
    for notification in (
        Notification.objects.filter(recipient_id__in=member_ids, email_state=EmailState.DIGEST, created_at__lte=hi)
        .select_related(*NOTIFICATION_RELATED)
        .order_by("-created_at", "-pk")
    ):
        notifications[notification.recipient_id].append(notification)
    # The items worth a visibility check per member: everything in their spaces, what their watched items bring
    # in, and their notifications' items.
    space_items = {
        space_id: {entries[p].item_id for positions in sections.values() for p in positions}
        for space_id, sections in by_space.items()
    }
    candidates: dict[int, set[int]] = {}
    for m in member_ids:
        wanted = {n.item_id for n in notifications[m] if n.item_id is not None}
        for space_id in interest[m]:
            wanted |= space_items.get(space_id, set())
        for item_id in extra_items[m]:
            wanted.update(entries[p].item_id for p in by_watched.get(item_id, ()))
        candidates[m] = wanted
    wanted_ids = set().union(*candidates.values())
    visible = visible_items_for_batch(members, wanted_ids, only=candidates, now=now)
    space_ids = all_spaces | {e.space_id for e in entries}
    spaces = {s.pk: s for s in Space.objects.filter(pk__in=space_ids).select_related("community")}
    views: dict[int, dict[tuple[str, int], datetime]] = defaultdict(dict)
    if any(prefs_of(member).skip_digest_if_seen for member in members):
        for row in (
            ActivityEvent.objects.filter(member_id__in=member_ids, kind__in=sorted(VIEW_KINDS), occurred_at__gt=lo)
            .values("member_id", "target_type", "target_id")
            .annotate(last=Max("occurred_at"))
        ):
            views[row["member_id"]][(row["target_type"], row["target_id"])] = row["last"]
    batch = _Batch(
        spaces,
        interest,
        extra_items,
        muted,
        entries,
        notifications,
        visible,
        views,
        by_space=by_space,
        by_watched=by_watched,
    )
    batch.messages = _unread_conversations(member_ids, hi)
    return batch


def _unread_conversations(member_ids: list[int], hi: datetime) -> dict[int, list[tuple[datetime, MessageEntry]]]:
    """For each member of the batch, their own conversations (participation rows of that very member: nobody
    else's) that they have not muted and that hold messages by others they have not read: two queries per batch."""
    from django.db.models import Count, F, Prefetch
    from django.db.models import Q as Where

    from members.models import ConversationParticipant

    unread_message = (
        Where(conversation__messages__created_at__lte=hi)
        & ~Where(conversation__messages__sender_id=F("user_id"))
        & (Where(last_read_at__isnull=True) | Where(conversation__messages__created_at__gt=F("last_read_at")))
    )
    rows = (
        ConversationParticipant.objects.filter(user_id__in=member_ids, muted=False)
        .filter(Where(last_read_at__isnull=True) | Where(last_read_at__lt=F("conversation__last_message_at")))
        .annotate(unread=Count("conversation__messages", filter=unread_message))
        .filter(unread__gt=0)
        .select_related("conversation")
        .prefetch_related(
            Prefetch("conversation__participants", queryset=ConversationParticipant.objects.select_related("user"))
        )
        .order_by("-conversation__last_message_at", "-conversation_id")
    )
    found: dict[int, list[tuple[datetime, MessageEntry]]] = defaultdict(list)
    for row in rows:
        conversation = row.conversation
        names = [p.user.public_name for p in conversation.participants.all() if p.user_id != row.user_id]
        found[row.user_id].append(
            (
                conversation.last_message_at,
                MessageEntry(
                    conversation_id=conversation.pk,
                    title=conversation.subject or ", ".join(names),
                    unread=row.unread,
                    url=_absolute(conversation.get_absolute_url()),
                ),
            )
        )
    return found


def compose_digests(
    jobs: list[DigestJob], *, now: datetime | None = None, pages: PageChanges | None = None
) -> list[Digest]:
    """The digest of every job, composed from one fixed set of queries for the whole batch.

    Only what each member may see at ``now`` (``visible_items_for``), in the spaces they belong to or watch and
    on the items they watch, never from a muted space, and not their own doing. Each digest knows whether the
    member already viewed every item in it after its last change (``all_seen``). A run of the job gives its
    ``pages`` (``PageChanges``), so the batches after the first one do not look for changed pages again.
    """
    if not jobs:
        return []
    now = now or timezone.now()
    batch = _load_batch(jobs, now, pages)
    batch.notes = _Notes()
    return [_compose_one(job, batch) for job in jobs]


def _compose_one(job: DigestJob, batch: _Batch) -> Digest:
    """One member's digest, from the entries of their spaces and watched items only (``_Batch`` indexes them)."""
    m, start, end = job.member.pk, job.period_start, job.period_end
    visible = batch.visible.get(m, set())
    interest, watched, muted = batch.interest[m], batch.watched_items[m], batch.muted[m]
    # Spaces they follow give all their entries; a watched item elsewhere gives its own (and its answer's).
    partial = {batch.entries[p].space_id for item_id in watched for p in batch.by_watched.get(item_id, ())}
    found = []
    for space_id in interest | partial:
        if space_id in muted or space_id not in batch.by_space:
            continue
        whole = space_id in interest
        section = SpaceSection(space=batch.spaces[space_id])
        first = None  # the first of its entries in loading order: how equal names were ordered before
        for name, news in batch.news(start, end, space_id).items():
            kept = getattr(section, name)
            limit = POPULAR_POSTS if name == "posts" else MAX_PER_SECTION
            for position, entry, is_news, note in news:
                if entry.item_id not in visible:
                    continue
                if not whole and entry.item_id not in watched and not watched.intersection(entry.also_item_ids):
                    continue
                if entry.actor_id == m:
                    own = batch.as_news(position, start, end, member_id=m)
                    if own is None:
                        continue
                    is_news, note = own
                if first is None or position < first:
                    first = position
                if len(kept) < limit:
                    kept.append(batch.shown(position, is_news, note))
                elif is_news:
                    section.more += 1
        if first is not None:
            found.append((section.space.community.name, section.space.name, first, section))
    found.sort(key=lambda row: row[:3])
    notifications = [
        _notification_entry(n)
        for n in batch.notifications[m]
        if (n.item_id is None or n.item_id in visible)
        and (n.space_id or (n.item.space_id if n.item_id else None)) not in muted
    ]
    messages = [entry for moment, entry in batch.messages.get(m, ()) if start < moment <= end]
    digest = Digest(job=job, notifications=notifications, spaces=[row[3] for row in found], messages=messages)
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
    if digest.messages:  # unread messages are, by definition, not seen yet
        return False
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


LIST_HEADINGS = {
    "pages": gettext_lazy("New and changed pages"),
    "questions": gettext_lazy("New questions"),
    "answers": gettext_lazy("Accepted answers"),
    "events": gettext_lazy("Upcoming events"),
    "posts": gettext_lazy("Popular posts"),
}
EVENT_TIME = "D j M Y, H:i"
_MORE = "\x02more\x03"  # where a space block's "and N more" goes (no template or content writes control characters)


def _entry_html(name: str, e: DigestEntry) -> str:
    if name == "events":
        note = format_html(" · {}", e.note) if e.note else ""
        extra = format_html(" <small>{}{}</small>", _event_time(e.starts_at), note)
    elif name in ("questions", "posts") or (name == "pages" and e.note):
        extra = format_html(" <small>{}</small>", e.note)
    else:
        extra = ""
    return format_html('<li><a href="{}">{}</a>{}</li>', e.url, e.title, extra)


def _entry_text(name: str, e: DigestEntry) -> str:
    if name == "events":
        extra = f", {_event_time(e.starts_at)}" + (f" ({e.note})" if e.note else "")
    elif name in ("questions", "posts") or (name == "pages" and e.note):
        extra = f" ({e.note})"
    else:
        extra = ""
    return f"- {e.title}{extra}\n  {e.url}\n"


def _event_time(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), EVENT_TIME)


class DigestRenderer:
    """Renders digests, writing what many of them share only once.

    A space's block reads the same in most digests that list it, and where two differ (a member's own page left
    out, a restricted page shown to admins) most of their lists and entries are the same. So each distinct entry,
    list and block, per language (and time zone, for event times), is rendered once and pasted into every digest
    that has it; a block's "and N more" line, which differs from member to member, is pasted into it last. The
    keys are everything a piece shows, so a renamed page or another note makes a new piece, never a stale one.
    Entries, lists and the "more" line are a line of markup each, written here (rendering templates cost more than
    the rest of a digest at scale: tens of thousands of distinct entries in a run); blocks come from
    ``emails/partials/digest_space.*``. One renderer serves a whole run of the job; a new one renders a
    single digest.
    """

    MAX_CACHED = 100_000  # a bound on memory in a long run: the cache starts over when it is full

    def __init__(self) -> None:
        self._cache: dict[tuple, tuple[str, str]] = {}
        self._templates = tuple(get_template(f"emails/partials/digest_space.{ext}") for ext in ("html", "txt"))

    def space_blocks(self, digest: Digest) -> tuple[list[str], list[str]]:
        """The HTML and the plain-text block of each space of ``digest``, in the active language and time zone."""
        language = translation.get_language()
        zone_name = timezone.get_current_timezone_name()
        html, text = [], []
        for section in digest.spaces:
            lists = {}
            for name in section.SECTIONS:
                entries = getattr(section, name)
                if not entries:
                    lists[name] = ("", "")
                    continue
                zone_key = zone_name if name == "events" else None  # only event times depend on the time zone
                keys = tuple((name, language, zone_key, e.title, e.url, e.note, e.starts_at) for e in entries)
                lists[name] = self._rendered(keys, self._render_list, name, keys, entries)
            space = section.space
            space_url = _link("spaces:home", space.community.slug, space.slug)
            key = (language, space_url, space.name, space.community.name, *lists.values())
            block = self._rendered(key, self._render_space, section, space_url, lists)
            more = self._rendered(("more", language, space_url, section.more), self._render_more, section, space_url)
            # both pieces were escaped as they were rendered
            html.append(mark_safe(block[0].replace(_MORE, more[0], 1)))  # noqa: S308  # nosec B308, B703
            text.append(block[1].replace(_MORE, more[1], 1))
        return html, text

    def _rendered(self, key: tuple, render, *args) -> tuple[str, str]:
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= self.MAX_CACHED:
                self._cache.clear()
            found = self._cache[key] = render(*args)
        return found

    # Template output is safe already (escaped as it was rendered): the pieces are pasted into each other as they are.
    def _render_space(self, section: SpaceSection, space_url: str, lists: dict[str, tuple[str, str]]):
        html, text = self._templates
        context = {"section": section, "space_url": space_url, "more": _MORE}
        return (
            html.render({**context, "lists": {name: pair[0] for name, pair in lists.items()}}),
            text.render({**context, "lists": {name: pair[1] for name, pair in lists.items()}}),
        )

    def _render_more(self, section: SpaceSection, space_url: str) -> tuple[str, str]:
        n = section.more
        if not n:
            return "", ""
        html = ngettext("And %(counter)s more in this space", "And %(counter)s more in this space", n)
        text = ngettext("And %(counter)s more in this space:", "And %(counter)s more in this space:", n)
        return (
            format_html('<p><a href="{}">{}</a></p>', space_url, html % {"counter": n}),
            f"\n{text % {'counter': n}} {space_url}\n",
        )

    def _render_list(self, name: str, keys: tuple[tuple, ...], entries: list[DigestEntry]) -> tuple[str, str]:
        lines = [self._rendered(key, self._render_entry, name, entry) for key, entry in zip(keys, entries, strict=True)]
        heading = str(LIST_HEADINGS[name])
        return (
            format_html(
                '<h3 style="font-size: 1em;">{}</h3>\n  <ul>{}</ul>',
                heading,
                format_html_join("", "{}", ((h,) for h, _t in lines)),
            ),
            f"\n{heading}\n" + "".join(t for _h, t in lines),
        )

    def _render_entry(self, name: str, entry: DigestEntry) -> tuple[str, str]:
        return _entry_html(name, entry), _entry_text(name, entry)


def digest_context(digest: Digest, *, unsubscribe: str, renderer: DigestRenderer | None = None) -> dict:
    """What the digest templates (the e-mail and the preview page) read, with each space's block rendered in the
    active language and time zone (by ``renderer``, which reuses blocks it rendered before)."""
    space_html, space_text = (renderer or DigestRenderer()).space_blocks(digest)
    return {
        "digest": digest,
        "member": digest.member,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe,
        "preferences_url": _absolute(reverse("members:notification-preferences")),
        "weekly": digest.job.frequency == DigestFrequency.WEEKLY,
        "space_blocks": space_html,
        "space_blocks_text": space_text,
    }


def render_digest(digest: Digest, *, unsubscribe: str, renderer: DigestRenderer | None = None) -> tuple[str, str, str]:
    """Subject, plain text and HTML of a digest, in the member's language and time zone. Give the job's
    ``renderer`` when rendering many digests: blocks they share are rendered once."""
    profile = getattr(digest.member, "profile", None)
    language = getattr(profile, "preferred_language", None) or settings.LANGUAGE_CODE
    with translation.override(language), timezone.override(zone(getattr(profile, "time_zone", "UTC"))):
        context = digest_context(digest, unsubscribe=unsubscribe, renderer=renderer)
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
