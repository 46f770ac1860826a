"""The data set ``seed_scale`` builds: people, communities, spaces, content and a year of activity.

Who does what (the long tail of real communities):

- members fall into classes by rank: a small **core** (3%) and a wider circle of **regulars** (to 30%) write
  everything; **readers** (to 88%) only read (they may hold the editor role of an open space they joined, but
  never use it), a few went **dormant** after their first months, and some were carried over from a mailing list
  and **never** signed in. Within the writers a Zipf weight by rank decides how much each one writes, so the
  top 10% make well over 60% of the contributions;
- each member belongs to one home community (a fifth of the writers to a second one) and to a handful of its
  spaces, chosen by the spaces' popularity (also Zipf); community admins create the spaces and are their first
  admins; every membership has its community membership and onboarding;
- content is written by the space's writers after they joined; a page has 3 versions on average (by its author
  and others), questions get answers, votes and an accepted answer, events get registrations within their
  capacity (the rest wait), posts and comments get likes; counters are those the services would keep;
- the activity log holds one event for each of those writes at its time, plus sessions: one visit per member
  per community per local day (weekdays busier, the end-of-year holidays quiet, in working hours of the
  member's own time zone) followed by views of items that existed then in the member's spaces, recent ones
  more often.

Deterministic for a given ``--random-seed``; ids are handed out by the seed (``BulkWriter.reserve``).
"""

from __future__ import annotations

import bisect
import random
import zoneinfo
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Permission
from django.db import transaction
from django.utils.text import slugify

from analytics.models import ActivityEvent
from communities.models import Community, CommunityMembership, CommunityRole, Onboarding
from members.models import EmailState, NotificationKind, NotificationPreferences, OrganisationType, Profile
from members.models import Notification as NotificationModel
from spaces.management.commands import _scale_text as text
from spaces.management.commands._scale_writer import BulkWriter
from spaces.models import (
    Answer,
    Comment,
    Event,
    Item,
    ItemKind,
    ItemUserObjectPermission,
    Page,
    Post,
    Question,
    Reaction,
    Registration,
    Space,
    SpaceMembership,
    SpaceRole,
    Tag,
    Visibility,
    Vote,
    Watch,
)
from spaces.services.posts import post_title

User = get_user_model()
# The history models (``Model.history`` builds a new manager on each access: never inside a loop).
HistoricalPage = Page.history.model
HistoricalQuestion = Question.history.model
HistoricalAnswer = Answer.history.model
HistoricalComment = Comment.history.model
QuestionTags = Question.tags.through

DAY = 86400
CORE, REGULAR, READER, DORMANT, NEVER = range(5)
CLASS_NAMES = ["core", "regular", "reader", "dormant", "never signed in"]
# Upper rank (as a share of members) of each class, in the order above.
CLASS_BOUNDS = [0.03, 0.30, 0.88, 0.95, 1.0]
VIEWER, EDITOR, MODERATOR, ADMIN = SpaceRole.VIEWER, SpaceRole.EDITOR, SpaceRole.MODERATOR, SpaceRole.ADMIN

# (community time zone, countries its members come from with their own time zones)
REGIONS = [
    ("Asia/Bangkok", [("Thailand", "Asia/Bangkok"), ("Viet Nam", "Asia/Ho_Chi_Minh"), ("Cambodia", "Asia/Phnom_Penh")]),
    ("Pacific/Fiji", [("Fiji", "Pacific/Fiji"), ("Samoa", "Pacific/Apia"), ("Tonga", "Pacific/Tongatapu")]),
    ("Asia/Kolkata", [("India", "Asia/Kolkata"), ("Sri Lanka", "Asia/Colombo"), ("Nepal", "Asia/Kathmandu")]),
    (
        "Asia/Jakarta",
        [("Indonesia", "Asia/Jakarta"), ("Malaysia", "Asia/Kuala_Lumpur"), ("Philippines", "Asia/Manila")],
    ),
    ("Asia/Almaty", [("Kazakhstan", "Asia/Almaty"), ("Mongolia", "Asia/Ulaanbaatar"), ("Uzbekistan", "Asia/Tashkent")]),
    ("Australia/Sydney", [("Australia", "Australia/Sydney"), ("New Zealand", "Pacific/Auckland")]),
    ("Europe/Paris", [("France", "Europe/Paris"), ("Germany", "Europe/Berlin"), ("Thailand", "Asia/Bangkok")]),
    ("UTC", [("Bangladesh", "Asia/Dhaka"), ("Pakistan", "Asia/Karachi"), ("Japan", "Asia/Tokyo")]),
]
ORG_TYPES = [
    (OrganisationType.NSO, 50),
    (OrganisationType.GOVERNMENT, 15),
    (OrganisationType.DEV_PARTNER, 10),
    (OrganisationType.NGO, 8),
    (OrganisationType.ACADEMIA, 10),
    (OrganisationType.OTHER, 7),
]
FIRST_NAMES = (
    "Ana Budi Chen Dewi Eka Farah Gita Hiro Ilham Joon Kiri Lani Mele Nima Omar Pita Rina Sina Tui Vik".split()
)
LAST_NAMES = "Ahmed Banda Cruz Dorji Eng Fonua Gupta Huang Ito Jaya Khan Lee Mendoza Ng Osei Perera Rai Sato".split()

# Activity kinds in the staging table: code -> (kind, target type). Codes are this list's positions.
ACTIVITY_KINDS = [
    ("visit", ""),
    ("page_view", "spaces.page"),
    ("question_view", "spaces.question"),
    ("event_view", "spaces.event"),
    ("post_view", "spaces.post"),
    ("page_create", "spaces.page"),
    ("page_edit", "spaces.page"),
    ("question_ask", "spaces.question"),
    ("answer_post", "spaces.answer"),
    ("answer_accept", "spaces.answer"),
    ("answer_accepted", "spaces.answer"),
    ("vote_cast", "spaces.item"),
    ("comment_create", "spaces.comment"),
    ("event_create", "spaces.event"),
    ("event_registered", "spaces.event"),
    ("event_not_going", "spaces.event"),
    ("post_create", "spaces.post"),
    ("like_add", "spaces.item"),
    ("space_join", "spaces.space"),
    ("community_join", "communities.community"),
]
CODE = {kind: code for code, (kind, _target) in enumerate(ACTIVITY_KINDS)}
VIEW_CODES = [CODE["page_view"], CODE["question_view"], CODE["event_view"], CODE["post_view"]]
VIEW_SHARES = [0.5, 0.3, 0.1, 0.1]


@dataclass
class Sizes:
    members: int
    communities: int
    spaces: int
    pages: int
    versions: float
    questions: int
    answers: int
    events: int
    posts: int
    comments: int
    votes: int
    likes: int
    activity: int


PRESETS = {
    "tiny": Sizes(300, 2, 12, 400, 3, 150, 450, 30, 150, 300, 450, 600, 30_000),
    "small": Sizes(5_000, 5, 100, 20_000, 3, 10_000, 30_000, 2_000, 5_000, 10_000, 30_000, 40_000, 1_000_000),
    "full": Sizes(
        50_000, 20, 1_000, 200_000, 3, 100_000, 300_000, 20_000, 50_000, 100_000, 300_000, 400_000, 10_000_000
    ),
}


def _n(value: int | None) -> str:
    """A value for a line of COPY text (``\\N`` is NULL)."""
    return "\\N" if value is None else str(value)


def _fill(total: float, weights: list[float], caps: list[int]) -> list[int]:
    """Whole numbers in proportion to ``weights``, none above its cap, adding up to about ``total``."""
    low, high = 0.0, 1.0
    while sum(min(cap, w * high) for w, cap in zip(weights, caps, strict=True)) < total and high < 1e12:
        high *= 2
    for _ in range(50):
        middle = (low + high) / 2
        if sum(min(cap, w * middle) for w, cap in zip(weights, caps, strict=True)) < total:
            low = middle
        else:
            high = middle
    return [min(cap, round(w * high)) for w, cap in zip(weights, caps, strict=True)]


def dt(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


def cumulative(weights: Iterable[float]) -> list[float]:
    return list(accumulate(weights))


def allocate(rng: random.Random, total: int, weights: list[float]) -> list[int]:
    """Split ``total`` over ``len(weights)`` slots in proportion to the weights (at random)."""
    counts = [0] * len(weights)
    cum = cumulative(weights)
    if total <= 0 or not cum or cum[-1] <= 0:
        return counts
    for index in rng.choices(range(len(weights)), cum_weights=cum, k=total):
        counts[index] += 1
    return counts


class Offsets:
    """A time zone's UTC offset at any instant of the seeded year, by quarter hour (or one value if constant)."""

    def __init__(self, name: str, start: int, end: int):
        zone = zoneinfo.ZoneInfo(name)
        self.start = start - 2 * DAY
        quarters = (end - self.start) // 900 + 2 * 96
        hourly = [dt(self.start + h * 3600).astimezone(zone).utcoffset().total_seconds() for h in range(quarters // 4)]
        self.constant: int | None = int(hourly[0]) if len(set(hourly)) == 1 else None
        if self.constant is None:
            self.table = [
                int(dt(self.start + q * 900).astimezone(zone).utcoffset().total_seconds()) for q in range(quarters)
            ]

    def at(self, epoch: int) -> int:
        if self.constant is not None:
            return self.constant
        return self.table[min(len(self.table) - 1, max(0, (epoch - self.start) // 900))]


@dataclass
class Target:
    """Items of one kind in one space that readers may view: creation times (sorted) and ids."""

    times: list[int] = field(default_factory=list)
    ids: list[int] = field(default_factory=list)


class ActivitySink:
    """Activity events in compact form; on PostgreSQL streamed into a staging table, elsewhere kept in memory."""

    # An unlogged table of our own (not a temporary one: the parallel writers read it from other connections).
    STAGE = "scale_activity_stage"

    def __init__(self, writer: BulkWriter):
        self.writer = writer
        self.rows: list[tuple] = []
        self.lines: list[str] = []
        self.count = 0
        self.contributions = 0
        if writer.is_postgres:
            with writer.connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {self.STAGE}")
                cursor.execute(
                    f"CREATE UNLOGGED TABLE {self.STAGE} (member_id bigint, community_id bigint, "
                    "space_id bigint, kind smallint, target_id bigint, at bigint, visit_day integer)"
                )

    def add(self, member: int, community: int, space: int | None, code: int, target: int | None, at: int) -> None:
        self.count += 1
        if self.writer.is_postgres:
            self.lines.append(f"{member}\t{community}\t{_n(space)}\t{code}\t{_n(target)}\t{at}\t\\N\n")
            if len(self.lines) >= 100_000:
                self.flush()
        else:
            self.rows.append((member, community, space, code, target, at, None))

    def add_lines(self, lines: list[str], count: int) -> None:
        self.count += count
        self.lines.extend(lines)
        if len(self.lines) >= 100_000:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.writer.copy_text(
                f"COPY {self.STAGE} (member_id, community_id, space_id, kind, target_id, at, visit_day) FROM STDIN",
                self.lines,
            )
            self.lines = []


class Batch:
    """Rows per model, written together (one transaction per stage makes the order of tables irrelevant)."""

    def __init__(self, writer: BulkWriter, limit: int = 200_000):
        self.writer = writer
        self.limit = limit
        self.rows: dict[type, tuple[list[str], list[tuple]]] = {}
        self.pending = 0
        self.counts: Counter = Counter()

    def add(self, model, fields: list[str], row: tuple) -> None:
        entry = self.rows.get(model)
        if entry is None:
            entry = self.rows[model] = (fields, [])
        entry[1].append(row)
        self.pending += 1
        if self.pending >= self.limit:
            self.flush()

    def flush(self) -> None:
        for model, (fields, rows) in self.rows.items():
            if rows:
                self.writer.insert(model, fields, rows)
                self.counts[model._meta.label] += len(rows)
                rows.clear()
        self.pending = 0


ITEM_FIELDS = [
    "id",
    "kind",
    "title",
    "created_at",
    "updated_at",
    "moderation_state",
    "is_restricted",
    "author_id",
    "space_id",
    "deleted_at",
    "deleted_by_id",
    "like_count",
    "publish_at",
    "extracted_text",
    "search_text",
]


class ScaleWorld:
    def __init__(
        self,
        sizes: Sizes,
        *,
        writer: BulkWriter,
        seed: int,
        password: str,
        progress: Callable,
        now: datetime | None = None,
    ):
        self.sizes = sizes
        self.writer = writer
        self.rng = random.Random(seed)
        self.password_hash = make_password(password)
        self.progress = progress
        moment = now or datetime.now(UTC)
        self.t1 = int(moment.timestamp())
        self.t0 = self.t1 - 365 * DAY
        self.day0 = self.t0 - self.t0 % DAY  # UTC midnight at the start of the year
        content = sizes.pages + sizes.questions + sizes.answers + sizes.events + sizes.posts + sizes.comments
        self.paragraphs = text.Paragraphs.build(self.rng, min(1500, 60 + content // 20))
        self.post_titles = [post_title(source) for source in self.paragraphs.sources]
        self.slugs = text.Slugs()
        self.activity = ActivitySink(writer)
        self.offsets: dict[str, Offsets] = {}
        self.summary: Counter = Counter()

    def offsets_for(self, name: str) -> Offsets:
        if name not in self.offsets:
            self.offsets[name] = Offsets(name, self.t0, self.t1)
        return self.offsets[name]

    def run_stage(self, function: Callable[[], None]) -> None:
        """One stage: on PostgreSQL its rows are written by a background thread while the next ones are built
        (``BulkWriter.background``; each COPY commits by itself); elsewhere, and inside a transaction (the
        tests), in one transaction, where its rows may point at each other in any order (deferred constraints).
        """
        with self.writer.background(), transaction.atomic():
            function()

    # --- People ----------------------------------------------------------------------------------------------------
    def build_people(self) -> None:
        rng, n = self.rng, self.sizes.members
        self.n = n
        self.first_user = self.writer.reserve(User, n + 1)
        self.staff_id = self.first_user  # the site's staff account
        self.uid = [self.first_user + 1 + i for i in range(n)]
        bounds = [int(b * n) for b in CLASS_BOUNDS]
        self.cls = [next(c for c, bound in enumerate(bounds) if i < bound or c == NEVER) for i in range(n)]
        # How much each member writes (Zipf by rank among writers) and reads (flatter).
        self.cw = [1.0 / (i + 1) ** 0.9 if self.cls[i] in (CORE, REGULAR) else 0.0 for i in range(n)]
        self.rw = [0.0 if self.cls[i] == NEVER else 1.0 / (i + 1) ** 0.45 for i in range(n)]
        ncomm = self.sizes.communities
        self.home = [rng.randrange(ncomm) for _ in range(n)]
        self.region = [REGIONS[c % len(REGIONS)] for c in range(ncomm)]
        self.joined: list[int] = []
        self.country: list[str] = []
        self.tz: list[str] = []
        self.org: list[str] = []
        org_values = [o for o, _w in ORG_TYPES]
        org_cum = cumulative(w for _o, w in ORG_TYPES)
        for i in range(n):
            founder = self.cls[i] == CORE or rng.random() < 0.2
            joined = self.t0 - rng.randrange(30 * DAY) if founder else rng.randrange(self.t0, self.t1 - 7 * DAY)
            self.joined.append(joined)
            country, zone = rng.choice(self.region[self.home[i]][1])
            self.country.append(country)
            self.tz.append(zone)
            self.org.append(rng.choices(org_values, cum_weights=org_cum)[0])
        batch = Batch(self.writer)
        user_fields = [
            "id",
            "password",
            "last_login",
            "is_superuser",
            "username",
            "first_name",
            "last_name",
            "is_staff",
            "is_active",
            "date_joined",
            "email",
            "display_name",
            "deleted_at",
        ]
        profile_fields = [
            "user_id",
            "organisation",
            "organisation_type",
            "country",
            "job_title",
            "bio",
            "time_zone",
            "preferred_language",
            "avatar",
            "updated_at",
        ]
        email_fields = ["user_id", "email", "verified", "primary"]
        prefs_fields = ["user_id", "email_off", "digest_frequency", "digest_hour", "skip_digest_if_seen"]
        tag = f"{self.first_user}"
        staff_email = f"scale-staff-{tag}@scale.example.org"
        self.staff_email = staff_email
        batch.add(
            User,
            user_fields,
            (
                self.staff_id,
                self.password_hash,
                dt(self.t1),
                True,
                f"scalestaff{tag}",
                "Scale",
                "Staff",
                True,
                True,
                dt(self.t0 - 60 * DAY),
                staff_email,
                "Scale Staff",
                None,
            ),
        )
        batch.add(
            Profile,
            profile_fields,
            (self.staff_id, "Secretariat", "dev_partner", "Thailand", "", "", "UTC", "en", "", dt(self.t0)),
        )
        batch.add(EmailAddress, email_fields, (self.staff_id, staff_email, True, True))
        bar = self.progress(total=n, desc="members", unit="member")
        self.emails = []
        for i in range(n):
            uid = self.uid[i]
            first, last = FIRST_NAMES[i % len(FIRST_NAMES)], LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)]
            username = f"{first}.{last}.{uid}".lower()
            email = f"{username}@scale.example.org"
            self.emails.append(email)
            cls = self.cls[i]
            last_login = (
                None
                if cls == NEVER
                else dt(self.t1 - rng.randrange(DAY, 40 * DAY) if cls != DORMANT else self.joined[i] + 90 * DAY)
            )
            batch.add(
                User,
                user_fields,
                (
                    uid,
                    self.password_hash,
                    last_login,
                    False,
                    username,
                    first,
                    last,
                    False,
                    True,
                    dt(self.joined[i]),
                    email,
                    f"{first} {last}",
                    None,
                ),
            )
            org = self.org[i]
            batch.add(
                Profile,
                profile_fields,
                (
                    uid,
                    f"{self.country[i]} {OrganisationType(org).label}",
                    org,
                    self.country[i],
                    "Statistician" if org == OrganisationType.NSO else "Specialist",
                    "",
                    self.tz[i],
                    "en",
                    "",
                    dt(self.joined[i]),
                ),
            )
            batch.add(EmailAddress, email_fields, (uid, email, True, True))
            if rng.random() < 0.4:
                frequency = rng.choices(["daily", "weekly", "off"], weights=[2, 6, 2])[0]
                batch.add(NotificationPreferences, prefs_fields, (uid, [], frequency, rng.choice([7, 8, 9]), True))
            bar.update(1)
        batch.flush()
        bar.close()
        self.summary.update(batch.counts)

    # --- Communities, spaces, memberships --------------------------------------------------------------------------
    def build_spaces(self) -> None:
        rng, sizes = self.rng, self.sizes
        ncomm = sizes.communities
        batch = Batch(self.writer)
        self.community_ids = [self.writer.reserve(Community, 1) for _ in range(ncomm)]
        self.community_tz = [self.region[c][0] for c in range(ncomm)]
        for c in range(ncomm):
            topic = text.TOPICS[c % len(text.TOPICS)]
            name = f"{topic.capitalize()} community {c + 1}"
            batch.add(
                Community,
                ["id", "name", "slug", "description", "guidelines", "time_zone", "logo", "created_at", "created_by_id"],
                (
                    self.community_ids[c],
                    name,
                    f"scale-{slugify(topic)}-{self.community_ids[c]}",
                    f"Practitioners of {topic} working together.",
                    "Be kind, share sources, and keep confidential data out of the platform.",
                    self.community_tz[c],
                    "",
                    dt(self.t0 - 90 * DAY),
                    self.staff_id,
                ),
            )
        # Community roles: two admins and three moderators from the core (or whoever lives there).
        by_home: dict[int, list[int]] = defaultdict(list)
        for i in range(self.n):
            by_home[self.home[i]].append(i)
        self.community_role: dict[tuple[int, int], str] = {}
        self.community_admins: dict[int, list[int]] = {}
        for c in range(ncomm):
            people = sorted(by_home[c])[:5] or [rng.randrange(self.n)]
            self.community_admins[c] = people[:2]
            for rank, i in enumerate(people):
                self.community_role[(i, c)] = CommunityRole.ADMIN if rank < 2 else CommunityRole.MODERATOR
                self.cls[i] = min(self.cls[i], REGULAR)
                self.cw[i] = max(self.cw[i], 1.0 / (i + 1) ** 0.9)
        # Spaces: spread over the communities, each with its popularity.
        nspace = sizes.spaces
        self.space_ids = [self.writer.reserve(Space, 1) for _ in range(nspace)]
        self.space_comm = [s % ncomm for s in range(nspace)]
        self.space_vis = rng.choices(
            [Visibility.OPEN, Visibility.PRIVATE, Visibility.CLOSED], weights=[60, 25, 15], k=nspace
        )
        self.space_default = rng.choices([EDITOR, VIEWER], weights=[60, 40], k=nspace)
        self.space_weight = [0.0] * nspace
        spaces_of: dict[int, list[int]] = defaultdict(list)
        for s in range(nspace):
            spaces_of[self.space_comm[s]].append(s)
        for spaces in spaces_of.values():
            order = spaces[:]
            rng.shuffle(order)
            for rank, s in enumerate(order):
                self.space_weight[s] = 1.0 / (rank + 1) ** 0.8
        self.space_created = [self.t0 - rng.randrange(30 * DAY, 60 * DAY) for _ in range(nspace)]
        # Memberships.
        members: list[dict[int, int]] = [dict() for _ in range(nspace)]
        comm_cum = {c: cumulative(self.space_weight[s] for s in spaces) for c, spaces in spaces_of.items()}
        how_many = {CORE: (8, 25), REGULAR: (3, 8), READER: (1, 5), DORMANT: (1, 3), NEVER: (1, 1)}
        bar = self.progress(total=self.n, desc="memberships", unit="member")
        for i in range(self.n):
            low, high = how_many[self.cls[i]]
            communities = [self.home[i]]
            if self.cls[i] in (CORE, REGULAR) and ncomm > 1 and rng.random() < 0.2:
                communities.append(rng.choice([c for c in range(ncomm) if c != self.home[i]]))
            for position, c in enumerate(communities):
                spaces = spaces_of.get(c)
                if not spaces:
                    continue
                k = min(len(spaces), max(1, rng.randint(low, high) // (1 + position)))
                chosen = set(rng.choices(spaces, cum_weights=comm_cum[c], k=k * 2))
                for s in list(chosen)[:k]:
                    if self.cls[i] in (CORE, REGULAR):
                        role = MODERATOR if self.cls[i] == CORE and rng.random() < 0.15 else EDITOR
                    else:
                        role = self.space_default[s] if self.space_vis[s] == Visibility.OPEN else VIEWER
                    members[s][i] = role
            bar.update(1)
        bar.close()
        for s in range(nspace):
            admins = self.community_admins[self.space_comm[s]]
            creator = admins[s % len(admins)]
            members[s][creator] = ADMIN
        self.space_creator = [
            self.community_admins[self.space_comm[s]][s % len(self.community_admins[self.space_comm[s]])]
            for s in range(nspace)
        ]
        self.members = members
        for s in range(nspace):
            batch.add(
                Space,
                [
                    "id",
                    "community_id",
                    "name",
                    "slug",
                    "description",
                    "visibility",
                    "default_role",
                    "is_archived",
                    "archived_at",
                    "member_count",
                    "created_at",
                    "created_by_id",
                    "published_course_count",
                ],
                (
                    self.space_ids[s],
                    self.community_ids[self.space_comm[s]],
                    f"{text.TOPICS[s % len(text.TOPICS)].capitalize()} {text.ASPECTS[s % len(text.ASPECTS)]} {s + 1}",
                    f"space-{s + 1}",
                    f"Where we work on {text.TOPICS[s % len(text.TOPICS)]}.",
                    self.space_vis[s],
                    self.space_default[s],
                    False,
                    None,
                    len(members[s]),
                    dt(self.space_created[s]),
                    self.uid[self.space_creator[s]],
                    0,  # no courses in the scale data
                ),
            )
        # Membership rows, community memberships and onboardings; a join event for each.
        self.member_joined: dict[tuple[int, int], int] = {}
        community_joined: dict[tuple[int, int], int] = {}
        for s in range(nspace):
            c = self.space_comm[s]
            for i, role in members[s].items():
                at = max(self.joined[i], self.space_created[s]) + rng.randrange(60, 3 * 3600)
                self.member_joined[(s, i)] = at
                community_joined[(i, c)] = min(community_joined.get((i, c), at), at - 30)
                batch.add(
                    SpaceMembership,
                    ["space_id", "user_id", "role", "joined_at"],
                    (self.space_ids[s], self.uid[i], role, dt(at)),
                )
                if self.cls[i] != NEVER:
                    sid = self.space_ids[s]
                    self.activity.add(self.uid[i], self.community_ids[c], sid, CODE["space_join"], sid, at)
        for i, c in self.community_role:
            community_joined.setdefault((i, c), max(self.joined[i], self.t0 - 60 * DAY))
        community_of_member = community_joined
        guidelines = "Be kind, share sources, and keep confidential data out of the platform."
        for (i, c), at in community_of_member.items():
            role = self.community_role.get((i, c), CommunityRole.MEMBER)
            batch.add(
                CommunityMembership,
                ["community_id", "user_id", "role", "is_focal_point", "joined_at"],
                (self.community_ids[c], self.uid[i], role, False, dt(at)),
            )
            batch.add(
                Onboarding,
                ["community_id", "user_id", "accepted_at", "guidelines_accepted"],
                (self.community_ids[c], self.uid[i], dt(at - 30), guidelines),
            )
            if self.cls[i] != NEVER:
                self.activity.add(
                    self.uid[i], self.community_ids[c], None, CODE["community_join"], self.community_ids[c], at
                )
        # Who writes in each space (writers holding at least the editor role), and who takes part at all.
        self.writers: list[tuple[list[int], list[float]]] = []
        self.takers: list[list[int]] = []
        for s in range(nspace):
            writers = [i for i, role in members[s].items() if role >= EDITOR and self.cw[i] > 0]
            if not writers:
                writers = [self.space_creator[s]]
            writers.sort()
            self.writers.append((writers, cumulative(self.cw[i] for i in writers)))
            self.takers.append(sorted(members[s]))
        # Tags for questions, per space.
        self.tags: list[list[tuple[int, str]]] = []
        for s in range(nspace):
            names = rng.sample(text.TOPICS, k=min(len(text.TOPICS), rng.randint(6, 15)))
            first = self.writer.reserve(Tag, len(names))
            tags = []
            for offset, name in enumerate(sorted(names)):
                batch.add(
                    Tag,
                    ["id", "space_id", "name", "slug"],
                    (first + offset, self.space_ids[s], name, slugify(name)[:60]),
                )
                tags.append((first + offset, name))
            self.tags.append(tags)
        # Some members watch spaces they belong to.
        for s in range(nspace):
            for i in members[s]:
                if self.cls[i] in (CORE, REGULAR) and rng.random() < 0.05:
                    batch.add(
                        Watch,
                        ["user_id", "space_id", "item_id", "created_at"],
                        (self.uid[i], self.space_ids[s], None, dt(self.member_joined[(s, i)])),
                    )
        batch.flush()
        self.summary.update(batch.counts)
        self.targets: list[dict[int, Target]] = [defaultdict(Target) for _ in range(nspace)]

    # --- Helpers for content ---------------------------------------------------------------------------------------
    def _writer_at(self, s: int, earliest: int) -> tuple[int, int]:
        """A writer of space ``s`` (by weight) and a moment after both ``earliest`` and their joining."""
        writers, cum = self.writers[s]
        i = self.rng.choices(writers, cum_weights=cum)[0]
        start = max(earliest, self.member_joined.get((s, i), self.space_created[s]))
        if start >= self.t1 - 60:
            start = self.t1 - 3600
        return i, self.rng.randrange(start, self.t1 - 60)

    def _other_writer(self, s: int, exclude: int) -> int:
        writers, cum = self.writers[s]
        for _ in range(4):
            i = self.rng.choices(writers, cum_weights=cum)[0]
            if i != exclude:
                return i
        return exclude

    def _some_writers(self, s: int, count: int, exclude: int | None = None) -> set[int]:
        """Up to ``count`` distinct writers of space ``s``, by weight (the keenest take part most)."""
        writers, cum = self.writers[s]
        count = min(count, len(writers) - (exclude in writers if exclude is not None else 0))
        chosen: set[int] = set()
        for _ in range(10):
            if len(chosen) >= count:
                break
            chosen.update(i for i in self.rng.choices(writers, cum_weights=cum, k=count - len(chosen)) if i != exclude)
        return set(sorted(chosen)[:count]) if len(chosen) > count else chosen

    def _contribution(self, i: int, s: int, kind: str, target: int | None, at: int) -> None:
        self.activity.contributions += 1
        self.activity.add(
            self.uid[i], self.community_ids[self.space_comm[s]], self.space_ids[s], CODE[kind], target, at
        )

    def _item(
        self,
        batch: Batch,
        *,
        item_id,
        kind,
        title,
        at,
        author,
        s,
        search,
        updated=None,
        like_count=0,
        state="visible",
        restricted=False,
        deleted=None,
    ):
        batch.add(
            Item,
            ITEM_FIELDS,
            (
                item_id,
                kind,
                title,
                dt(at),
                dt(updated or at),
                state,
                restricted,
                self.uid[author],
                self.space_ids[s],
                None if deleted is None else dt(deleted),
                None if deleted is None else self.uid[author],
                like_count,
                dt(at),
                "",
                search,
            ),
        )

    def _likes(self, batch: Batch, item_id: int, s: int, author: int, at: int, count: int) -> int:
        takers = self.takers[s]
        if count <= 0 or len(takers) < 2:
            return 0
        picked = {self.rng.choice(takers) for _ in range(min(count, len(takers) - 1))}
        likers = {i for i in picked if i != author and self.cls[i] != NEVER}
        for i in likers:
            when = self.rng.randrange(at, max(at + 1, self.t1 - 30)) if at < self.t1 - 30 else at
            batch.add(Reaction, ["user_id", "item_id", "created_at"], (self.uid[i], item_id, dt(when)))
            self.activity.add(
                self.uid[i], self.community_ids[self.space_comm[s]], self.space_ids[s], CODE["like_add"], item_id, when
            )
        return len(likers)

    def _space_counts(self, total: int) -> list[int]:
        return allocate(self.rng, total, self.space_weight)

    def _fate(self) -> tuple[str, bool, bool]:
        """(moderation state, restricted, trashed) of a new item: almost always visible, unrestricted, live."""
        roll = self.rng.random()
        return ("hidden" if roll < 0.002 else "visible", 0.002 <= roll < 0.007, 0.007 <= roll < 0.01)

    # --- Pages -----------------------------------------------------------------------------------------------------
    def build_pages(self) -> None:
        rng, sizes = self.rng, self.sizes
        counts = self._space_counts(sizes.pages)
        first_item = self.writer.reserve(Item, sizes.pages)
        first_page = self.writer.reserve(Page, sizes.pages)
        permission_id = Permission.objects.get(codename="view_restricted_item", content_type__app_label="spaces").pk
        batch = Batch(self.writer)
        page_fields = [
            "id",
            "item_id",
            "space_id",
            "parent_id",
            "position",
            "slug",
            "title",
            "body",
            "body_html",
            "version",
            "edit_restricted",
            "created_by_id",
            "last_edited_by_id",
            "last_edited_at",
        ]
        history_fields = [
            "id",
            "slug",
            "title",
            "body",
            "version",
            "last_edited_at",
            "history_date",
            "history_change_reason",
            "history_type",
            "history_user_id",
            "last_edited_by_id",
            "space_id",
            "history_relation_id",
        ]
        extra_mean = max(0.0, sizes.versions - 1)
        bar = self.progress(total=sizes.pages, desc="pages", unit="page")
        n = 0
        self.page_items: list[tuple[int, int, int]] = []  # (space, item id, created) for comments
        for s, count in enumerate(counts):
            if not count:
                continue
            drafts = sorted((self._writer_at(s, self.space_created[s])[::-1]) for _ in range(count))
            siblings: Counter = Counter()
            recent: list[int] = []
            for created, author in drafts:
                page_id, item_id = first_page + n, first_item + n
                n += 1
                title = text.title_for(rng)
                slug = self.slugs.make(("page", s), title, "page")
                parent = None if not recent or rng.random() < 0.35 else rng.choice(recent[-50:])
                position = siblings[parent]
                siblings[parent] += 1
                recent.append(page_id)
                versions = 1 + (round(rng.expovariate(1 / extra_mean)) if extra_mean else 0)
                versions = min(versions, 25)
                picks = self.paragraphs.pick(rng, rng.randint(2, 4))
                moment, editor = created, author
                for version in range(1, versions + 1):
                    if version > 1:
                        moment = (
                            rng.randrange(moment, max(moment + 1, self.t1 - 60)) if moment < self.t1 - 60 else moment
                        )
                        editor = author if rng.random() < 0.5 else self._other_writer(s, author)
                        if rng.random() < 0.5 or len(picks) < 2:
                            picks = picks + self.paragraphs.pick(rng, 1)
                        else:
                            picks = picks[:-1] + self.paragraphs.pick(rng, 1)
                        if picks[-1] == picks[-2] or (
                            self.paragraphs.sources[picks[-1]].startswith("- ")
                            and self.paragraphs.sources[picks[-2]].startswith("- ")
                        ):
                            picks = picks[:-1]
                    body, _html, _search = self.paragraphs.body(picks)
                    batch.add(
                        HistoricalPage,
                        history_fields,
                        (
                            page_id,
                            slug,
                            title,
                            body,
                            version,
                            dt(moment),
                            dt(moment),
                            "Created" if version == 1 else "Edited",
                            "+" if version == 1 else "~",
                            self.uid[editor],
                            self.uid[editor],
                            self.space_ids[s],
                            page_id,
                        ),
                    )
                    self._contribution(editor, s, "page_create" if version == 1 else "page_edit", page_id, moment)
                body, html, search = self.paragraphs.body(picks)
                state, restricted, trashed = self._fate()
                deleted = rng.randrange(moment, self.t1) if trashed and moment < self.t1 - 1 else None
                self._item(
                    batch,
                    item_id=item_id,
                    kind=ItemKind.PAGE,
                    title=title,
                    at=created,
                    updated=moment,
                    author=author,
                    s=s,
                    search=search,
                    state=state,
                    restricted=restricted,
                    deleted=deleted,
                )
                batch.add(
                    Page,
                    page_fields,
                    (
                        page_id,
                        item_id,
                        self.space_ids[s],
                        parent,
                        position,
                        slug,
                        title,
                        body,
                        html,
                        versions,
                        False,
                        self.uid[author],
                        self.uid[editor],
                        dt(moment),
                    ),
                )
                if restricted:
                    named = {rng.choice(self.takers[s]) for _ in range(2)} - {author}
                    for i in named:
                        batch.add(
                            ItemUserObjectPermission,
                            ["content_object_id", "permission_id", "user_id"],
                            (item_id, permission_id, self.uid[i]),
                        )
                if state == "visible" and not restricted and deleted is None:
                    target = self.targets[s][CODE["page_view"]]
                    target.times.append(created)
                    target.ids.append(page_id)
                    self.page_items.append((s, item_id, created))
                bar.update(1)
        batch.flush()
        bar.close()
        self.summary.update(batch.counts)

    # --- Questions and answers -------------------------------------------------------------------------------------
    def build_questions(self) -> None:
        rng, sizes = self.rng, self.sizes
        nq, na = sizes.questions, sizes.answers
        counts = self._space_counts(nq)
        first_qitem = self.writer.reserve(Item, nq)
        first_q = self.writer.reserve(Question, nq)
        first_aitem = self.writer.reserve(Item, na)
        first_a = self.writer.reserve(Answer, na)
        # Answers per question: none for about one question in six, a long tail for the rest.
        weights = [0.0 if rng.random() < 0.15 else rng.expovariate(1.0) for _ in range(nq)]
        answers_of = allocate(rng, na, weights) if nq else []
        votes_left = sizes.votes
        vote_weight_total = nq + na
        batch = Batch(self.writer)
        q_fields = [
            "id",
            "item_id",
            "space_id",
            "slug",
            "title",
            "body",
            "body_html",
            "accepted_answer_id",
            "answer_count",
            "vote_score",
            "version",
            "created_at",
            "last_edited_by_id",
            "last_edited_at",
        ]
        qh_fields = [
            "id",
            "slug",
            "title",
            "body",
            "version",
            "last_edited_at",
            "history_date",
            "history_change_reason",
            "history_type",
            "history_user_id",
            "last_edited_by_id",
            "space_id",
            "history_relation_id",
        ]
        a_fields = [
            "id",
            "item_id",
            "question_id",
            "body",
            "body_html",
            "vote_score",
            "version",
            "created_at",
            "last_edited_by_id",
            "last_edited_at",
        ]
        ah_fields = [
            "id",
            "body",
            "version",
            "last_edited_at",
            "history_date",
            "history_change_reason",
            "history_type",
            "history_relation_id",
            "history_user_id",
            "last_edited_by_id",
        ]
        notification_fields = [
            "recipient_id",
            "kind",
            "actor_id",
            "item_id",
            "space_id",
            "text",
            "url",
            "dedupe_key",
            "created_at",
            "read_at",
            "email_state",
            "emailed_at",
        ]
        bar = self.progress(total=nq + na, desc="questions and answers", unit="post")
        qn = an = 0
        self.question_items: list[tuple[int, int, int]] = []
        recent_cut = self.t1 - 7 * DAY

        def votes_for(item_id: int, s: int, author: int, at: int) -> int:
            nonlocal votes_left, vote_weight_total
            if votes_left <= 0:
                return 0
            expected = votes_left / max(1, vote_weight_total)
            vote_weight_total -= 1
            wanted = min(votes_left, int(rng.expovariate(1 / expected)) if expected > 0 else 0)
            voters = self._some_writers(s, wanted, exclude=author)
            for i in voters:
                when = rng.randrange(at, self.t1) if at < self.t1 - 1 else at
                batch.add(Vote, ["user_id", "item_id", "created_at"], (self.uid[i], item_id, dt(when)))
                self._contribution(i, s, "vote_cast", item_id, when)
            votes_left -= len(voters)
            return len(voters)

        for s, count in enumerate(counts):
            for _ in range(count):
                asker, asked = self._writer_at(s, self.space_created[s])
                qid, qitem = first_q + qn, first_qitem + qn
                title = text.question_title_for(rng)
                slug = self.slugs.make(("question", s), title, "question")
                body, html, search = self.paragraphs.body(self.paragraphs.pick(rng, rng.randint(1, 2)))
                tags = rng.sample(self.tags[s], k=min(len(self.tags[s]), rng.randint(1, 3)))
                tag_names = " ".join(sorted(name for _id, name in tags))
                q_search = f"{search} {tag_names}".strip()
                state, _restricted, trashed = self._fate()  # only pages are restricted to named people
                deleted = asked + DAY if trashed and asked + DAY < self.t1 else None
                # Answers of this question, oldest first.
                answers = []
                for _a in range(answers_of[qn]):
                    author = self._other_writer(s, asker)
                    at = min(self.t1 - 1, asked + int(rng.expovariate(1 / (2 * DAY))) + 60)
                    answers.append((at, author))
                answers.sort()
                live = []
                for at, author in answers:
                    aid, aitem = first_a + an, first_aitem + an
                    an += 1
                    a_body, a_html, a_search = self.paragraphs.body(self.paragraphs.pick(rng, rng.randint(1, 3)))
                    a_deleted = at + 3600 if rng.random() < 0.005 and at + 3600 < self.t1 else None
                    score = votes_for(aitem, s, author, at)
                    likes = self._likes(
                        batch, aitem, s, author, at, int(rng.expovariate(1.0)) if rng.random() < 0.3 else 0
                    )
                    self._item(
                        batch,
                        item_id=aitem,
                        kind=ItemKind.ANSWER,
                        title="",
                        at=at,
                        author=author,
                        s=s,
                        search=a_search,
                        like_count=likes,
                        deleted=a_deleted,
                    )
                    batch.add(
                        Answer, a_fields, (aid, aitem, qid, a_body, a_html, score, 1, dt(at), self.uid[author], dt(at))
                    )
                    batch.add(
                        HistoricalAnswer,
                        ah_fields,
                        (aid, a_body, 1, dt(at), dt(at), "Answered", "+", aid, self.uid[author], self.uid[author]),
                    )
                    self._contribution(author, s, "answer_post", aid, at)
                    if author != asker:
                        read = (
                            dt(at + rng.randrange(600, 3 * DAY))
                            if at < self.t1 - 3 * DAY and rng.random() < 0.8
                            else None
                        )
                        batch.add(
                            NotificationModel,
                            notification_fields,
                            (
                                self.uid[asker],
                                NotificationKind.REPLY,
                                self.uid[author],
                                aitem,
                                self.space_ids[s],
                                "",
                                "",
                                "",
                                dt(at),
                                read,
                                EmailState.SENT,
                                dt(at + 60),
                            ),
                        )
                    if a_deleted is None:
                        live.append((aid, aitem, at, author, score))
                    bar.update(1)
                accepted = None
                if live and rng.random() < 0.45:
                    aid, aitem, at, author, _score = max(live, key=lambda a: (a[4], -a[2]))
                    when = min(self.t1 - 1, at + rng.randrange(60, 5 * DAY))
                    accepted = aid
                    self._contribution(asker, s, "answer_accept", aid, when)
                    if author != asker:
                        self.activity.add(
                            self.uid[author],
                            self.community_ids[self.space_comm[s]],
                            self.space_ids[s],
                            CODE["answer_accepted"],
                            aid,
                            when,
                        )
                        state_email = EmailState.DIGEST if when > recent_cut else EmailState.SENT
                        batch.add(
                            NotificationModel,
                            notification_fields,
                            (
                                self.uid[author],
                                NotificationKind.ACCEPTED,
                                self.uid[asker],
                                aitem,
                                self.space_ids[s],
                                "",
                                "",
                                "",
                                dt(when),
                                None,
                                state_email,
                                None if state_email == EmailState.DIGEST else dt(when),
                            ),
                        )
                q_score = votes_for(qitem, s, asker, asked)
                self._item(
                    batch,
                    item_id=qitem,
                    kind=ItemKind.QUESTION,
                    title=title,
                    at=asked,
                    author=asker,
                    s=s,
                    search=q_search,
                    state=state,
                    deleted=deleted,
                )
                batch.add(
                    Question,
                    q_fields,
                    (
                        qid,
                        qitem,
                        self.space_ids[s],
                        slug,
                        title,
                        body,
                        html,
                        accepted,
                        len(live),
                        q_score,
                        1,
                        dt(asked),
                        self.uid[asker],
                        dt(asked),
                    ),
                )
                batch.add(
                    HistoricalQuestion,
                    qh_fields,
                    (
                        qid,
                        slug,
                        title,
                        body,
                        1,
                        dt(asked),
                        dt(asked),
                        "Asked",
                        "+",
                        self.uid[asker],
                        self.uid[asker],
                        self.space_ids[s],
                        qid,
                    ),
                )
                for tag_id, _name in tags:
                    batch.add(QuestionTags, ["question_id", "tag_id"], (qid, tag_id))
                self._contribution(asker, s, "question_ask", qid, asked)
                if state == "visible" and deleted is None:
                    target = self.targets[s][CODE["question_view"]]
                    target.times.append(asked)
                    target.ids.append(qid)
                    self.question_items.append((s, qitem, asked))
                qn += 1
                bar.update(1)
        batch.flush()
        bar.close()
        self.summary.update(batch.counts)

    # --- Events ----------------------------------------------------------------------------------------------------
    def build_events(self) -> None:
        rng, sizes = self.rng, self.sizes
        counts = self._space_counts(sizes.events)
        first_item = self.writer.reserve(Item, sizes.events)
        first_event = self.writer.reserve(Event, sizes.events)
        batch = Batch(self.writer)
        fields = [
            "id",
            "item_id",
            "space_id",
            "slug",
            "title",
            "description",
            "description_html",
            "starts_at",
            "ends_at",
            "timezone",
            "venue",
            "online_url",
            "capacity",
            "registration_deadline",
            "papers_open",
            "papers_deadline",
            "going_count",
            "maybe_count",
            "waitlist_count",
            "created_at",
            "last_edited_by_id",
            "last_edited_at",
        ]
        reg_fields = [
            "event_id",
            "user_id",
            "status",
            "answers",
            "created_at",
            "status_changed_at",
            "attended",
            "attendance_marked_by_id",
        ]
        bar = self.progress(total=sizes.events, desc="events", unit="event")
        n = 0
        for s, count in enumerate(counts):
            c = self.space_comm[s]
            zone = zoneinfo.ZoneInfo(self.community_tz[c])
            for _ in range(count):
                organiser, created = self._writer_at(s, self.space_created[s])
                eid, item_id = first_event + n, first_item + n
                n += 1
                title = text.event_title_for(rng)
                slug = self.slugs.make(("event", s), title, "event")
                local_day = dt(created + rng.randrange(3 * DAY, 75 * DAY)).astimezone(zone).date()
                starts = datetime(
                    local_day.year, local_day.month, local_day.day, rng.choice([9, 10, 13, 14]), tzinfo=zone
                )
                ends = starts + timedelta(hours=rng.choice([1, 2, 3, 8]))
                start_epoch = int(starts.timestamp())
                online = rng.random() < 0.6
                venue = "" if online else f"{rng.choice(text.PLACES)} statistics office, room {rng.randint(1, 12)}"
                body, html, search = self.paragraphs.body(self.paragraphs.pick(rng, rng.randint(1, 2)))
                capacity = rng.choice([10, 20, 30, 50, 100]) if rng.random() < 0.3 else None
                deadline = start_epoch - DAY if rng.random() < 0.5 else None
                closes = min(self.t1 - 1, start_epoch, deadline or start_epoch)
                # Registering counts as contributing: writers mostly, and now and then a reader's first step.
                wanted = int(rng.lognormvariate(2.4, 0.8))
                people = self._some_writers(s, wanted) if closes > created else set()
                readers = [i for i in self.takers[s] if self.cls[i] == READER]
                if readers and closes > created and rng.random() < 0.3:
                    people.add(rng.choice(readers))
                regs = sorted((rng.randrange(created, closes), i) for i in people)
                going = maybe = waiting = 0
                for at, i in regs:
                    status = rng.choices(["going", "maybe", "not_going"], weights=[70, 20, 10])[0]
                    if status == "going" and capacity is not None and going >= capacity:
                        status = "waitlisted"
                    going += status == "going"
                    maybe += status == "maybe"
                    waiting += status == "waitlisted"
                    attended = None
                    marker = None
                    if status == "going" and int(ends.timestamp()) < self.t1 and rng.random() < 0.5:
                        attended, marker = rng.random() < 0.8, self.uid[organiser]
                    batch.add(
                        Registration, reg_fields, (eid, self.uid[i], status, {}, dt(at), dt(at), attended, marker)
                    )
                    kind = "event_not_going" if status == "not_going" else "event_registered"
                    if kind == "event_registered":
                        self._contribution(i, s, kind, eid, at)
                    else:
                        self.activity.add(self.uid[i], self.community_ids[c], self.space_ids[s], CODE[kind], eid, at)
                self._item(
                    batch,
                    item_id=item_id,
                    kind=ItemKind.EVENT,
                    title=title,
                    at=created,
                    author=organiser,
                    s=s,
                    search=f"{search} {venue}".strip(),
                )
                batch.add(
                    Event,
                    fields,
                    (
                        eid,
                        item_id,
                        self.space_ids[s],
                        slug,
                        title,
                        body,
                        html,
                        starts,
                        ends,
                        self.community_tz[c],
                        venue,
                        f"https://meet.example.org/{slug[:40]}-{eid}" if online else "",
                        capacity,
                        None if deadline is None else dt(deadline),
                        False,
                        None,
                        going,
                        maybe,
                        waiting,
                        dt(created),
                        self.uid[organiser],
                        dt(created),
                    ),
                )
                self._contribution(organiser, s, "event_create", eid, created)
                target = self.targets[s][CODE["event_view"]]
                target.times.append(created)
                target.ids.append(eid)
                bar.update(1)
        batch.flush()
        bar.close()
        self.summary.update(batch.counts)

    # --- Posts and comments ----------------------------------------------------------------------------------------
    def build_posts(self) -> None:
        rng, sizes = self.rng, self.sizes
        counts = self._space_counts(sizes.posts)
        first_item = self.writer.reserve(Item, sizes.posts)
        first_post = self.writer.reserve(Post, sizes.posts)
        likes_left = sizes.likes
        batch = Batch(self.writer)
        fields = [
            "id",
            "item_id",
            "space_id",
            "body",
            "body_html",
            "is_pinned",
            "pinned_at",
            "is_announcement",
            "published_at",
            "edited_at",
            "created_at",
        ]
        bar = self.progress(total=sizes.posts + sizes.comments, desc="posts and comments", unit="post")
        n = 0
        self.post_items: list[tuple[int, int, int]] = []
        per_like = max(0.0, likes_left / max(1, sizes.posts + sizes.comments))
        for s, count in enumerate(counts):
            made = []
            for _ in range(count):
                author, at = self._writer_at(s, self.space_created[s])
                made.append((at, author))
            made.sort()
            for index, (at, author) in enumerate(made):
                pid, item_id = first_post + n, first_item + n
                n += 1
                pick = self.paragraphs.pick(rng, 1)
                body, html, search = self.paragraphs.body(pick)
                pinned = index == len(made) - 1 and rng.random() < 0.3
                announcement = rng.random() < 0.02
                likes = self._likes(
                    batch, item_id, s, author, at, int(rng.expovariate(1 / per_like)) if per_like else 0
                )
                self._item(
                    batch,
                    item_id=item_id,
                    kind=ItemKind.POST,
                    title=self.post_titles[pick[0]],
                    at=at,
                    author=author,
                    s=s,
                    search=search,
                    like_count=likes,
                )
                batch.add(
                    Post,
                    fields,
                    (
                        pid,
                        item_id,
                        self.space_ids[s],
                        body,
                        html,
                        pinned,
                        dt(at) if pinned else None,
                        announcement,
                        dt(at),
                        None,
                        dt(at),
                    ),
                )
                self._contribution(author, s, "post_create", pid, at)
                target = self.targets[s][CODE["post_view"]]
                target.times.append(at)
                target.ids.append(pid)
                self.post_items.append((s, item_id, at))
                bar.update(1)
        # Comments on pages, questions and posts that are visible.
        commentable = self.page_items + self.question_items + self.post_items
        first_citem = self.writer.reserve(Item, sizes.comments)
        first_comment = self.writer.reserve(Comment, sizes.comments)
        c_fields = [
            "id",
            "item_id",
            "target_id",
            "parent_id",
            "body",
            "body_html",
            "edited_at",
            "created_at",
            "author_id",
        ]
        ch_fields = [
            "id",
            "body",
            "edited_at",
            "created_at",
            "history_date",
            "history_change_reason",
            "history_type",
            "author_id",
            "history_relation_id",
            "history_user_id",
        ]
        top_level: dict[int, list[tuple[int, int]]] = defaultdict(list)
        made = 0
        if commentable:
            picks = rng.choices(commentable, k=sizes.comments)
            picks.sort(key=lambda p: p[2])
            for s, target_item, target_at in picks:
                author, at = self._writer_at(s, target_at)
                cid, item_id = first_comment + made, first_citem + made
                made += 1
                parents = [p for p in top_level[target_item] if p[1] <= at]
                parent = rng.choice(parents)[0] if parents and rng.random() < 0.3 else None
                if parent is None:
                    top_level[target_item].append((cid, at))
                body, html, search = self.paragraphs.body(self.paragraphs.pick(rng, 1))
                likes = self._likes(
                    batch,
                    item_id,
                    s,
                    author,
                    at,
                    int(rng.expovariate(1 / per_like)) if per_like and rng.random() < 0.5 else 0,
                )
                self._item(
                    batch,
                    item_id=item_id,
                    kind=ItemKind.COMMENT,
                    title="",
                    at=at,
                    author=author,
                    s=s,
                    search=search,
                    like_count=likes,
                )
                batch.add(
                    Comment, c_fields, (cid, item_id, target_item, parent, body, html, None, dt(at), self.uid[author])
                )
                batch.add(
                    HistoricalComment,
                    ch_fields,
                    (cid, body, None, dt(at), dt(at), "Commented", "+", self.uid[author], cid, self.uid[author]),
                )
                self._contribution(author, s, "comment_create", cid, at)
                bar.update(1)
        batch.flush()
        bar.close()
        self.summary.update(batch.counts)

    # --- Reading: visits and views ---------------------------------------------------------------------------------
    def build_reading(self) -> None:
        """Sessions (a visit, then views) filling the activity budget left after the writes."""
        rng = self.rng
        budget = self.sizes.activity - self.activity.count
        if budget <= 0:
            return
        n = self.n
        days = 365
        day_weight = []
        for d in range(days + 1):
            day = dt(self.day0 + d * DAY).date()
            weight = 1.0 if day.weekday() < 5 else 0.25
            if (day.month == 12 and day.day >= 22) or (day.month == 1 and day.day <= 2):
                weight *= 0.3
            day_weight.append(weight)
        spaces_of_member: list[dict[int, list[int]]] = [defaultdict(list) for _ in range(n)]
        for s, members in enumerate(self.members):
            for i in members:
                spaces_of_member[i][self.space_comm[s]].append(s)
        for s in range(len(self.targets)):
            for target in self.targets[s].values():
                order = sorted(range(len(target.times)), key=target.times.__getitem__)
                target.times = [target.times[k] for k in order]
                target.ids = [target.ids[k] for k in order]
        # Sessions per member in proportion to their reading weight, within the days they could visit.
        spans: list[tuple[int, int]] = []
        for i in range(n):
            first_day = max(0, (self.joined[i] - self.day0) // DAY + 1)
            last_day = days if self.cls[i] != DORMANT else min(days, first_day + rng.randint(30, 120))
            if self.rw[i] <= 0 or not spaces_of_member[i]:
                last_day = first_day
            spans.append((first_day, max(first_day, last_day)))
        caps = [int((last - first) * 0.8) for first, last in spans]
        wanted = _fill(budget / 3.4, self.rw, caps)
        sessions = sum(wanted) or 1
        views_per_session = max(0.0, (budget - sessions) / sessions)
        comm_offsets = [self.offsets_for(name) for name in self.community_tz]
        bar = self.progress(total=budget, desc="activity (reading)", unit="event", unit_scale=True)
        made = 0
        order = list(range(n))
        rng.shuffle(order)
        for i in order:
            if wanted[i] <= 0:
                continue
            first_day, last_day = spans[i]
            pool = range(first_day, last_day)
            cum = cumulative(day_weight[first_day:last_day])
            chosen: set[int] = set()
            for _attempt in range(20):
                chosen.update(rng.choices(pool, cum_weights=cum, k=wanted[i] - len(chosen)))
                if len(chosen) >= wanted[i]:
                    break
            else:  # the last few days by lot, whatever their weight
                chosen.update(rng.sample([d for d in pool if d not in chosen], wanted[i] - len(chosen)))
            communities = list(spaces_of_member[i])
            sizes_c = [len(spaces_of_member[i][c]) for c in communities]
            member_offsets = self.offsets_for(self.tz[i])
            seen: set[tuple[int, int]] = set()
            uid = self.uid[i]
            lines: list[str] = []
            count = 0
            for d in sorted(chosen):
                c = communities[0] if len(communities) == 1 else rng.choices(communities, weights=sizes_c)[0]
                local = (
                    self.day0
                    + d * DAY
                    + rng.choice((8, 9, 9, 10, 10, 11, 13, 14, 14, 15, 16, 17)) * 3600
                    + rng.randrange(3600)
                )
                start = local - member_offsets.at(local)
                if start >= self.t1 or start < self.joined[i]:
                    continue
                visit_day = (start + comm_offsets[c].at(start)) // DAY
                if (c, visit_day) in seen:
                    continue
                seen.add((c, visit_day))
                community_id = self.community_ids[c]
                spaces = spaces_of_member[i][c]
                s0 = rng.choice(spaces)
                lines.append(f"{uid}\t{community_id}\t{self.space_ids[s0]}\t0\t\\N\t{start}\t{visit_day}\n")
                count += 1
                moment = start
                views = int(rng.expovariate(1 / views_per_session) + rng.random()) if views_per_session else 0
                for _v in range(views):
                    moment += rng.randrange(20, 600)
                    if moment >= self.t1:
                        break
                    s = rng.choice(spaces)
                    code = rng.choices(VIEW_CODES, weights=VIEW_SHARES)[0]
                    target = self.targets[s].get(code)
                    if target is None or not target.times:
                        target = self.targets[s].get(VIEW_CODES[0])
                        code = VIEW_CODES[0]
                        if target is None or not target.times:
                            continue
                    k = bisect.bisect_right(target.times, moment)
                    if k == 0:
                        continue
                    target_id = target.ids[k - 1 - int(k * rng.random() ** 2)]
                    lines.append(f"{uid}\t{community_id}\t{self.space_ids[s]}\t{code}\t{target_id}\t{moment}\t\\N\n")
                    count += 1
            if self.writer.is_postgres:
                self.activity.add_lines(lines, count)
            else:
                for line in lines:
                    m, cm, sp, code, target, at, vd = line.rstrip("\n").split("\t")
                    self.activity.rows.append(
                        (
                            int(m),
                            int(cm),
                            int(sp),
                            int(code),
                            None if target == "\\N" else int(target),
                            int(at),
                            None if vd == "\\N" else int(vd),
                        )
                    )
                self.activity.count += count
            made += count
            bar.update(count)
            if made >= budget:
                break
        bar.close()

    # --- The activity table ----------------------------------------------------------------------------------------
    def write_activity(self) -> int:
        """Move the staged events into ``analytics_activityevent`` in time order (ids follow time, as in a real
        log); returns how many were written."""
        sink = self.activity
        if self.writer.is_postgres:
            self.writer.touched.add(ActivityEvent)
            sink.flush()
            return self._write_activity_postgres()
        profiles = {uid: (self.country[i], self.org[i]) for i, uid in enumerate(self.uid)}
        epoch = date(1970, 1, 1).toordinal()
        rows = sorted(sink.rows, key=lambda r: r[5])
        fields = [
            "member_id",
            "community_id",
            "space_id",
            "kind",
            "target_type",
            "target_id",
            "country",
            "organisation_type",
            "occurred_at",
            "recorded_at",
            "visit_day",
        ]

        def expand():
            for member, community, space, code, target, at, visit_day in rows:
                kind, target_type = ACTIVITY_KINDS[code]
                country, org = profiles.get(member, ("", ""))
                moment = dt(at)
                day = None if visit_day is None else date.fromordinal(epoch + visit_day)
                yield (member, community, space, kind, target_type, target, country, org, moment, moment, day)

        with transaction.atomic():
            written = self.writer.insert(ActivityEvent, fields, expand())
        sink.rows = []
        return written

    def _write_activity_postgres(self) -> int:
        stage = ActivitySink.STAGE
        kinds = ", ".join(f"({code}, '{kind}', '{target}')" for code, (kind, target) in enumerate(ACTIVITY_KINDS))
        with self.writer.connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*), min(at), max(at) FROM {stage}")  # noqa: S608  # nosec B608 # a constant table name
            total, low, high = cursor.fetchone()
        if not total:
            return 0
        windows = 12
        step = (high - low) // windows + 1
        bar = self.progress(total=total, desc="activity (writing)", unit="event", unit_scale=True)
        writer = self.writer

        def window(lo: int, hi: int) -> Callable[[], int]:
            def job() -> int:
                with transaction.atomic(), writer.without_checks("analytics_activityevent"):
                    with writer.connection.cursor() as cursor:
                        cursor.execute("SET LOCAL work_mem = '256MB'")
                        cursor.execute("SET LOCAL jit = off")
                        cursor.execute(
                            f"""
                            INSERT INTO analytics_activityevent (member_id, community_id, space_id, kind, target_type,
                                target_id, country, organisation_type, occurred_at, recorded_at, visit_day)
                            SELECT s.member_id, s.community_id, s.space_id, k.kind, k.target_type, s.target_id,
                                COALESCE(p.country, ''), COALESCE(p.organisation_type, ''), to_timestamp(s.at),
                                to_timestamp(s.at), DATE '1970-01-01' + s.visit_day
                            FROM {stage} s
                            JOIN (VALUES {kinds}) AS k(code, kind, target_type) ON k.code = s.kind
                            LEFT JOIN members_profile p ON p.user_id = s.member_id
                            WHERE s.at >= %s AND s.at < %s
                            ORDER BY s.at
                            """,  # noqa: S608 (names and codes are ours)  # nosec B608
                            [lo, hi],
                        )
                        bar.update(cursor.rowcount)
                        return cursor.rowcount

            return job

        # Two windows at a time on two connections: ids follow time within each window.
        written = sum(self.writer.run_parallel([window(low + w * step, low + (w + 1) * step) for w in range(windows)]))
        bar.close()
        with self.writer.connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {stage}")
            # Statistics now: the roll-ups' plans (hash or sort, memory) depend on them.
            cursor.execute("ANALYZE analytics_activityevent")
        return written
