"""Demo activity for issue 6: a year of realistic use, so that every chart of the dashboards shows something.

Who does what (each person's habit is listed below; newcomers are extra members who exist for this):

- most members only read: they visit and open pages, questions, events, posts and polls; a small core
  (the communities' admins and moderators and a few keen editors) makes most of the contributions, a wider
  circle contributes now and then;
- a weekly rhythm: working days are busier than weekends, the end-of-year holidays are quiet, and sessions fall
  in each member's working hours in their own time zone (the profile's), from Samoa to Kazakhstan;
- cohorts: the founders joined a year ago, others joined month after month; some members went dormant, and a
  few were carried over from the network's mailing list and have never signed in;
- referrals: community admins invited colleagues (one reaches the silver ambassador level), and answers earn
  ``answer_accepted`` credits.

Memberships are made through the services as the seed does everywhere, and then dated back to when each person
joined (with the join events the services recorded). The history itself is bulk-inserted: one visit per member
per community per day (``visit_day`` is the day in the community's time zone), views of items the member may
see, and contributions in spaces where their role allows them, each pointing at the real demo object acted on.
Deterministic (a seeded random generator, dates relative to today) and idempotent: a log that already reaches
back further than ``HISTORY_MARKER_DAYS`` means the history is there, and only the roll-up is brought up to date.
"""

from __future__ import annotations

import random
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.db.models import Max
from django.utils import timezone
from django.utils.text import slugify

from analytics import rollup
from analytics.kinds import VISIT
from analytics.models import ActivityEvent
from communities import permissions as community_permissions
from communities import services as community_services
from communities.models import Community, CommunityMembership, CommunityRole, Onboarding
from members.models import OrganisationType
from spaces import permissions as space_permissions
from spaces import services as space_services
from spaces.models import (
    Event,
    Invitation,
    InvitationStatus,
    Item,
    JoinRequest,
    JoinRequestStatus,
    Page,
    Poll,
    Post,
    Question,
    Space,
    SpaceMembership,
    SpaceRole,
)

HISTORY_DAYS = 365
# The services record everything "now"; anything older than this can only be the demo's history.
HISTORY_MARKER_DAYS = 60
RANDOM_SEED = 20240606
CHUNK = 2000

NSO, GOV, DEV, ACADEMIA = (
    OrganisationType.NSO,
    OrganisationType.GOVERNMENT,
    OrganisationType.DEV_PARTNER,
    OrganisationType.ACADEMIA,
)
VIEWER, EDITOR = SpaceRole.VIEWER, SpaceRole.EDITOR
DI, CENSUS, DISASTER = "data-integration", "census-innovation", "disaster-statistics"


@dataclass(frozen=True)
class Habit:
    weekday_visit: float  # chance of a session on a working day (in the member's home community)
    weekend_visit: float
    contribute: float  # chance that a session includes contributions
    most_contributions: int  # contributions in such a session: 1 to this
    most_views: int


HABITS = {
    "core": Habit(0.8, 0.2, 0.6, 4, 3),
    "active": Habit(0.35, 0.05, 0.15, 2, 3),
    "reader": Habit(0.1, 0.02, 0.0, 0, 2),
    "lurker": Habit(0.04, 0.01, 0.0, 0, 2),
}
OTHER_COMMUNITY_INTEREST = 0.45  # sessions in a member's other communities, relative to the home one


@dataclass(frozen=True)
class Regular:
    """A demo person's habit: how they use the platform, when they joined, where they mostly are."""

    habit: str
    joined_days_ago: int
    home: str
    stopped_days_ago: int = 0  # dormant from then on (0: still around)


REGULARS = {
    "siti": Regular("core", 364, DI),
    "emma": Regular("core", 362, DI),
    "agus": Regular("core", 358, DI),
    "ramon": Regular("core", 352, DI),
    "maria": Regular("core", 363, CENSUS),
    "losaline": Regular("core", 344, CENSUS),
    "mereoni": Regular("core", 361, DISASTER),
    "jiyeon": Regular("active", 340, CENSUS),
    "baterdene": Regular("active", 360, CENSUS),
    "farhana": Regular("active", 362, DISASTER),
    "aroha": Regular("active", 280, DI),
    "lan": Regular("active", 330, CENSUS),
    "jeanpierre": Regular("active", 200, DISASTER),
    "priya": Regular("reader", 300, DI),
    "duc": Regular("reader", 150, DI),
    "sabin": Regular("reader", 240, CENSUS),
    "faamanu": Regular("reader", 95, CENSUS),
    "mark": Regular("reader", 75, DISASTER, stopped_days_ago=40),
}


@dataclass(frozen=True)
class Newcomer:
    name: str
    country: str
    time_zone: str
    organisation: str
    organisation_type: str
    job_title: str
    habit: str  # a HABITS key, or "never" (carried over from the mailing list; never signed in)
    joined_days_ago: int
    spaces: tuple[tuple[str, str, int], ...]  # (community, space, role); the first community is the home one
    referred_by: str = ""  # person key: they invited this newcomer into the first space
    stopped_days_ago: int = 0

    @property
    def email(self) -> str:
        return f"{slugify(self.name).replace('-', '.')}@example.org"

    @property
    def communities(self) -> list[str]:
        return list(dict.fromkeys(community for community, _space, _role in self.spaces))


DI_LIBRARY, HELP_DESK = (DI, "good-practices", VIEWER), (DI, "linkage-help-desk", EDITOR)
CENSUS_LIBRARY, CENSUS_ADMIN = (CENSUS, "good-practices", VIEWER), (CENSUS, "admin-data-for-census", EDITOR)
FORUM, SENDAI = (DISASTER, "forum", EDITOR), (DISASTER, "sendai-reporting", VIEWER)
ADMIN_SOURCES = (DI, "admin-data-sources", EDITOR)

NEWCOMERS = [
    # Data Integration
    Newcomer("Nurul Aini Hashim", "Malaysia", "Asia/Kuala_Lumpur", "Department of Statistics Malaysia", NSO,
             "Senior Statistician, Data Integration", "active", 300, (HELP_DESK, DI_LIBRARY)),
    Newcomer("Ayesha Siddiqui", "Pakistan", "Asia/Karachi", "Pakistan Bureau of Statistics", NSO,
             "Deputy Director, Register Development", "active", 210, (ADMIN_SOURCES, HELP_DESK),
             referred_by="agus"),
    Newcomer("Haruto Sato", "Japan", "Asia/Tokyo", "Statistics Bureau of Japan", NSO,
             "Researcher, Linked Employer-Employee Data", "active", 270, (HELP_DESK, DI_LIBRARY, CENSUS_LIBRARY)),
    Newcomer("Somchai Phongsri", "Thailand", "Asia/Bangkok", "National Statistical Office of Thailand", NSO,
             "Statistician, Administrative Records", "reader", 320, (DI_LIBRARY, HELP_DESK)),
    Newcomer("Aigerim Nurlanova", "Kazakhstan", "Asia/Almaty", "Bureau of National Statistics, Kazakhstan", NSO,
             "Chief Expert, Register Statistics", "reader", 190, (DI_LIBRARY,)),
    Newcomer("Dilnoza Karimova", "Uzbekistan", "Asia/Tashkent", "Statistics Agency of Uzbekistan", NSO,
             "Head of Unit, Data Processing", "reader", 160, (DI_LIBRARY, HELP_DESK)),
    Newcomer("Ravi Menon", "India", "Asia/Kolkata", "National Statistics Office India (MoSPI)", NSO,
             "Assistant Director, Data Integration", "reader", 120, (HELP_DESK,)),
    Newcomer("Juan Miguel Reyes", "Philippines", "Asia/Manila", "Philippine Statistics Authority", NSO,
             "Statistical Specialist, Civil Registration", "reader", 250, (DI_LIBRARY, HELP_DESK)),
    Newcomer("Dewi Lestari", "Indonesia", "Asia/Jakarta", "Statistics Indonesia (BPS)", NSO,
             "Statistician, Data Warehouse", "reader", 60, (HELP_DESK,)),
    Newcomer("Shirin Mohammadi", "Iran", "Asia/Tehran", "Statistical Centre of Iran", NSO,
             "Expert, Register-based Statistics", "lurker", 230, (DI_LIBRARY,)),
    Newcomer("Sarah O'Connell", "Australia", "Australia/Sydney", "Australian Bureau of Statistics", NSO,
             "Assistant Director, Linkage Methods", "active", 330, (HELP_DESK, DI_LIBRARY),
             stopped_days_ago=95),
    Newcomer("Li Wei", "China", "Asia/Shanghai", "Asian Development Bank", DEV,
             "Statistician, Economic Research Department", "dormant-reader", 290, (DI_LIBRARY,),
             stopped_days_ago=150),
    Newcomer("Emily Tan", "Singapore", "Asia/Singapore", "Department of Statistics Singapore", NSO,
             "Statistician, Data Governance", "never", 200, (DI_LIBRARY,)),
    Newcomer("Kavya Raghunathan", "India", "Asia/Kolkata", "Indian Statistical Institute", ACADEMIA,
             "Assistant Professor, Applied Statistics", "reader", 25, (HELP_DESK,)),
    # Population Census Innovation
    Newcomer("Batbayar Dorj", "Mongolia", "Asia/Ulaanbaatar", "National Statistics Office of Mongolia", NSO,
             "Census Cartographer", "active", 240, (CENSUS_ADMIN, CENSUS_LIBRARY)),
    Newcomer("Sophie Laurent", "Thailand", "Asia/Bangkok", "UN ESCAP Statistics Division", DEV,
             "Statistician, Population and Social Statistics", "active", 330, (CENSUS_ADMIN, CENSUS_LIBRARY)),
    Newcomer("Sokha Chan", "Cambodia", "Asia/Phnom_Penh", "National Institute of Statistics, Cambodia", NSO,
             "Deputy Director, Census Department", "reader", 310, (CENSUS_LIBRARY,), referred_by="maria"),
    Newcomer("Phonesavanh Sengdara", "Lao PDR", "Asia/Vientiane", "Lao Statistics Bureau", NSO,
             "Statistician, Population Census", "reader", 180, (CENSUS_LIBRARY,), referred_by="maria"),
    Newcomer("Natalino Soares", "Timor-Leste", "Asia/Dili", "General Directorate of Statistics, Timor-Leste", NSO,
             "Census Coordinator", "reader", 130, (CENSUS_LIBRARY,), referred_by="maria"),
    Newcomer("Karma Wangchuk", "Bhutan", "Asia/Thimphu", "National Statistics Bureau of Bhutan", NSO,
             "Statistical Officer, Census", "reader", 270, (CENSUS_LIBRARY,)),
    Newcomer("Hoang Van Nam", "Viet Nam", "Asia/Ho_Chi_Minh", "General Statistics Office of Viet Nam", NSO,
             "Statistician, Population and Labour", "reader", 100, (CENSUS_LIBRARY,)),
    Newcomer("Tama Paewai", "New Zealand", "Pacific/Auckland", "Stats NZ", NSO,
             "Analyst, Administrative Population Census", "reader", 220, (CENSUS_LIBRARY, CENSUS_ADMIN)),
    Newcomer("Tereapii Marsters", "Cook Islands", "Pacific/Rarotonga", "Cook Islands Statistics Office", NSO,
             "Government Statistician", "lurker", 160, (CENSUS_LIBRARY,)),
    Newcomer("Kim Min-jun", "Republic of Korea", "Asia/Seoul", "Statistics Korea", NSO,
             "Assistant Director, Census Planning", "reader", 45, (CENSUS_LIBRARY,)),
    Newcomer("Bakyt Osmonov", "Kyrgyzstan", "Asia/Bishkek", "National Statistical Committee of Kyrgyzstan", NSO,
             "Head of Census Division", "dormant-reader", 300, (CENSUS_LIBRARY,), stopped_days_ago=120),
    Newcomer("Kasun Jayasinghe", "Sri Lanka", "Asia/Colombo", "Department of Census and Statistics, Sri Lanka", NSO,
             "Statistician, Census Cartography", "dormant-reader", 260, (CENSUS_LIBRARY,), stopped_days_ago=70),
    Newcomer("Ahmad Faizal", "Brunei Darussalam", "Asia/Brunei",
             "Department of Economic Planning and Statistics, Brunei", NSO,
             "Statistics Officer", "never", 240, (CENSUS_LIBRARY,)),
    Newcomer("Mele Vaipulu", "Tonga", "Pacific/Tongatapu", "Tonga Statistics Department", NSO,
             "Census Officer", "never", 150, (CENSUS_LIBRARY,)),
    Newcomer("Anh Thu Pham", "Viet Nam", "Asia/Ho_Chi_Minh", "UNFPA Viet Nam", DEV,
             "Programme Analyst, Population Data", "reader", 12, (CENSUS_LIBRARY,)),
    # Disaster-related Statistics
    Newcomer("Anjali Gurung", "Nepal", "Asia/Kathmandu", "National Statistics Office, Nepal", NSO,
             "Statistics Officer, Environment Statistics", "active", 280, (FORUM, SENDAI)),
    Newcomer("Sione Fifita", "Tonga", "Pacific/Tongatapu", "Tonga Statistics Department", NSO,
             "Senior Statistician, Economic Statistics", "active", 230, (FORUM,), referred_by="mereoni"),
    Newcomer("Teuea Toatu", "Kiribati", "Pacific/Tarawa", "Kiribati National Statistics Office", NSO,
             "Statistician", "reader", 200, (FORUM,), referred_by="mereoni"),
    Newcomer("Thiri Aung", "Myanmar", "Asia/Yangon", "Central Statistical Organization, Myanmar", NSO,
             "Deputy Director, Environment Statistics", "reader", 260, (FORUM,)),
    Newcomer("Aishath Shiuna", "Maldives", "Indian/Maldives", "Maldives Bureau of Statistics", NSO,
             "Statistician, Climate and Disaster Statistics", "reader", 175, (FORUM, SENDAI)),
    Newcomer("Tahmina Akter", "Bangladesh", "Asia/Dhaka", "Bangladesh Bureau of Statistics", NSO,
             "Statistical Officer, Disaster Statistics", "reader", 310, (FORUM,)),
    Newcomer("Kila Wari", "Papua New Guinea", "Pacific/Port_Moresby", "National Statistical Office of PNG", NSO,
             "Statistician, Social Statistics", "reader", 140, (FORUM,)),
    Newcomer("Grace Molisa", "Vanuatu", "Pacific/Efate", "National Disaster Management Office, Vanuatu", GOV,
             "Information Management Officer", "reader", 210, (FORUM,)),
    Newcomer("Naveen Kumar", "Fiji", "Pacific/Fiji", "University of the South Pacific", ACADEMIA,
             "Lecturer, Geography and Disaster Risk", "lurker", 190, (FORUM,)),
    Newcomer("Vilisi Naivalu", "Fiji", "Pacific/Fiji", "Fiji Bureau of Statistics", NSO,
             "Statistician, Environment Statistics", "dormant-reader", 330, (FORUM,), stopped_days_ago=200),
    Newcomer("Rohan Das", "India", "Asia/Kolkata", "UNICEF Regional Office for South Asia", DEV,
             "Data Specialist, Emergencies", "dormant-reader", 280, (FORUM,), stopped_days_ago=60),
    Newcomer("Manu Tavita", "Tuvalu", "Pacific/Funafuti", "Central Statistics Division, Tuvalu", NSO,
             "Statistician", "never", 250, (FORUM,)),
    Newcomer("Nilufar Rahimova", "Tajikistan", "Asia/Dushanbe", "Agency on Statistics, Tajikistan", NSO,
             "Specialist, Environment Statistics", "never", 90, (FORUM,)),
    Newcomer("John Maeke", "Solomon Islands", "Pacific/Guadalcanal", "Solomon Islands National Statistics Office",
             NSO, "Statistician, Demography", "reader", 35, (FORUM,)),
]  # fmt: skip

ADMINS = {DI: "siti", CENSUS: "maria", DISASTER: "farhana"}
ANSWERS = {
    DI: (
        "Learning how other offices negotiate access to administrative data and link it.",
        "Civil registration and tax records for now; more to come.",
    ),
    CENSUS: (
        "Preparing our next census with lessons from the region.",
        "Our next census is a traditional one with tablets; we are studying registers for the frame.",
    ),
    DISASTER: (
        "Producing disaster statistics quickly and consistently after an event.",
        "Cyclones, floods and drought.",
    ),
}

# Local working hours: where sessions fall (weight per hour of the member's own day).
WORKDAY_HOURS = {7: 1, 8: 4, 9: 8, 10: 10, 11: 9, 12: 4, 13: 6, 14: 9, 15: 9, 16: 7, 17: 4, 18: 2, 19: 2, 20: 3, 21: 2}
WEEKEND_HOURS = {9: 2, 10: 3, 11: 3, 12: 2, 14: 2, 15: 2, 16: 2, 17: 2, 19: 3, 20: 3, 21: 2}

# Contributions an editor makes, by how often; viewers may only vote, register and vote in polls.
EDITOR_KINDS = {
    "comment_create": 30,
    "page_edit": 16,
    "answer_post": 14,
    "vote_cast": 12,
    "post_create": 8,
    "question_ask": 6,
    "event_registered": 4,
    "poll_voted": 3,
}
VIEWER_KINDS = {"vote_cast": 5, "event_registered": 3, "poll_voted": 3}
# The object each kind acts on (an item kind), and what opening an item of that kind is recorded as.
TARGET_KINDS = {
    "comment_create": ("page", "question", "post", "event"),
    "page_edit": ("page",),
    "answer_post": ("question",),
    "vote_cast": ("question",),
    "post_create": ("post",),
    "question_ask": ("question",),
    "event_registered": ("event",),
    "poll_voted": ("poll",),
    "answer_accept": ("question",),
}
TYPED = {"page": Page, "question": Question, "event": Event, "post": Post, "poll": Poll}
VIEW_KIND = {"page": "page_view", "question": "question_view", "event": "event_view", "post": "post_view"}
VIEW_KIND["poll"] = "poll_view"
ACCEPTED_SHARE = 0.3  # answers later accepted (an ``answer_accepted`` credit for their author)

# Events the membership services recorded while the seed ran, moved to the moment the member joined.
JOIN_KINDS = ("community_join", "space_join", "join_request", "join_request_approved", "invite", "referral")


@dataclass
class Target:
    item_id: int
    kind: str  # item kind
    space_id: int
    label: str  # model label of the typed object ("spaces.page")
    pk: int


@dataclass
class Member:
    user: object
    habit: Habit | None
    joined: dict[int, datetime]  # community id -> when they joined it
    home: int
    stopped: date | None
    breaks: list[tuple[date, date]]  # leave, missions, census fieldwork: no sessions from the first to the second day
    zone: zoneinfo.ZoneInfo
    country: str
    organisation_type: str


class ActivitySeeder:
    """Adds the newcomers, dates memberships back and writes the year of activity (see the module docstring)."""

    def __init__(self, seeder) -> None:
        self.seeder = seeder
        self.people = seeder.people
        self.User = get_user_model()
        self.now = timezone.now()
        self.today = self.now.date()
        self.random = random.Random(RANDOM_SEED)
        self.events: list[ActivityEvent] = []
        self.visits: set[tuple[int, int, date]] = set()  # (member, community, the community's day)
        self.members_by_community: dict[int, list[Member]] = defaultdict(list)

    def run(self) -> None:
        has_history = ActivityEvent.objects.filter(
            occurred_at__lt=self.now - timedelta(days=HISTORY_MARKER_DAYS)
        ).exists()
        newcomers = {newcomer.email: self.ensure_newcomer(newcomer) for newcomer in NEWCOMERS}
        if has_history:
            rollup.rollup_new_events()
            return
        self.seeder_forget()
        members = self.members(newcomers)
        self.date_memberships_back(members)
        self.write_history(members)
        self.set_last_logins(members)
        rollup.rebuild()

    @staticmethod
    def seeder_forget() -> None:
        """Drop the cached roles, as a new request would (the seed acts as many requests)."""
        space_permissions.forget_access_context()
        community_permissions.forget_community_roles()

    # --- Newcomers ------------------------------------------------------------------------------------------
    def ensure_newcomer(self, newcomer: Newcomer):
        user = self.User.objects.filter(email__iexact=newcomer.email).first()
        if user is None:
            user = self.create_user(newcomer)
        communities = {c.slug: c for c in Community.objects.filter(slug__in=newcomer.communities)}
        if newcomer.habit == "never":
            # Carried over from the network's mailing list when the community moved here: a membership, and
            # nothing they did themselves (the services would record a join, an action of theirs).
            for slug in newcomer.communities:
                CommunityMembership.objects.get_or_create(community=communities[slug], user=user)
            return user
        for slug in newcomer.communities:
            community = communities[slug]
            if not community_services.onboarding_complete(user=user, community=community):
                questions = list(community.intro_questions.all())
                answers = {q.pk: ANSWERS[slug][i % len(ANSWERS[slug])] for i, q in enumerate(questions)}
                community_services.onboarding_submit(
                    actor=user, community=community, accept_guidelines=True, answers=answers
                )
        for index, (slug, space_slug, role) in enumerate(newcomer.spaces):
            space = Space.objects.select_related("community").get(community=communities[slug], slug=space_slug)
            if index == 0 and newcomer.referred_by:
                self.ensure_invited(space, self.people[newcomer.referred_by], user, role)
            else:
                self.seeder.ensure_member(space, self.people[ADMINS[slug]], user, role)
        return user

    def create_user(self, newcomer: Newcomer):
        user = self.User.objects.create_user(email=newcomer.email, password=None, display_name=newcomer.name)
        first, _sep, last = newcomer.name.partition(" ")
        user.first_name, user.last_name = first, last
        user.password = self.seeder.password_hash
        # Before anything they do: new accounts are held to the spam limits for their first day.
        user.date_joined = self.now - timedelta(days=newcomer.joined_days_ago + 2)
        user.save(update_fields=["first_name", "last_name", "password", "date_joined"])
        profile = user.profile
        profile.organisation = newcomer.organisation
        profile.organisation_type = newcomer.organisation_type
        profile.country = newcomer.country
        profile.job_title = newcomer.job_title
        profile.time_zone = newcomer.time_zone
        profile.save()
        EmailAddress.objects.get_or_create(user=user, email=user.email, defaults={"verified": True, "primary": True})
        return user

    def ensure_invited(self, space: Space, inviter, user, role: int) -> None:
        if Invitation.objects.filter(space=space, email__iexact=user.email).exists():
            return
        if SpaceMembership.objects.filter(space=space, user=user).exists():
            return
        self.seeder_forget()
        invitation = space_services.invitation_create(
            actor=inviter,
            space=space,
            recipient=user.email,
            role=role,
            message=f"Your office's experience would be welcome in {space.name}.",
        )
        space_services.invitation_accept(actor=user, token=invitation.token)

    # --- Who is who -----------------------------------------------------------------------------------------
    def members(self, newcomers: dict) -> list[Member]:
        plans: dict[int, tuple[str, int, str, int]] = {}  # user id -> (habit, joined days ago, home, stopped)
        for key, regular in REGULARS.items():
            plans[self.people[key].pk] = (
                regular.habit,
                regular.joined_days_ago,
                regular.home,
                regular.stopped_days_ago,
            )
        for newcomer in NEWCOMERS:
            user = newcomers[newcomer.email]
            plans[user.pk] = (
                newcomer.habit,
                newcomer.joined_days_ago,
                newcomer.communities[0],
                newcomer.stopped_days_ago,
            )
        slugs = dict(Community.objects.values_list("slug", "pk"))
        memberships: dict[int, list[int]] = defaultdict(list)
        rows = CommunityMembership.objects.filter(user_id__in=plans, user__is_staff=False).order_by("joined_at", "pk")
        for user_id, community_id in rows.values_list("user_id", "community_id"):
            memberships[user_id].append(community_id)
        users = self.User.objects.filter(pk__in=plans).select_related("profile").order_by("pk")
        members = []
        for user in users:
            habit, days_ago, home, stopped = plans[user.pk]
            communities = memberships.get(user.pk, [])
            if not communities:
                continue
            home_id = slugs[home] if slugs.get(home) in communities else communities[0]
            first = self._at(user, self.today - timedelta(days=days_ago), time(10, 0))
            joined = {home_id: first}
            for community_id in communities:
                if community_id != home_id:
                    # Their other communities came later, when a colleague or a topic drew them there.
                    later = min(days_ago - 1, self.random.randint(20, 120))
                    joined[community_id] = first + timedelta(days=max(1, later), hours=self.random.randint(0, 6))
            profile = user.profile
            members.append(
                Member(
                    user=user,
                    habit=HABITS.get(habit.removeprefix("dormant-")),
                    joined=joined,
                    home=home_id,
                    stopped=self.today - timedelta(days=stopped) if stopped else None,
                    breaks=self._breaks(days_ago),
                    zone=self._zone(profile.time_zone),
                    country=profile.country or "",
                    organisation_type=profile.organisation_type or "",
                )
            )
        return members

    def _breaks(self, days_ago: int) -> list[tuple[date, date]]:
        breaks = []
        for _n in range(self.random.randint(0, 2)):
            start = self.today - timedelta(days=self.random.randint(0, max(days_ago, 1)))
            breaks.append((start, start + timedelta(days=self.random.randint(10, 40))))
        return breaks

    @staticmethod
    def _zone(name: str) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(name or "UTC")
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")

    def _at(self, user, day: date, at: time) -> datetime:
        zone = self._zone(getattr(getattr(user, "profile", None), "time_zone", "UTC"))
        return datetime.combine(day, at, tzinfo=zone)

    # --- Dating memberships back ------------------------------------------------------------------------------
    def date_memberships_back(self, members: list[Member]) -> None:
        """Memberships, onboardings, requests and invitations (and the join events the services recorded) get
        the moment each member joined; communities and spaces are older than their first member."""
        joined = {(m.user.pk, community_id): moment for m in members for community_id, moment in m.joined.items()}
        earliest = min(joined.values()) - timedelta(days=7)
        Community.objects.filter(pk__in={c for _u, c in joined}, created_at__gt=earliest).update(created_at=earliest)
        Space.objects.filter(community_id__in={c for _u, c in joined}, created_at__gt=earliest).update(
            created_at=earliest + timedelta(hours=2)
        )
        rows = list(CommunityMembership.objects.filter(user_id__in={u for u, _c in joined}))
        for row in rows:
            row.joined_at = joined.get((row.user_id, row.community_id), row.joined_at)
        CommunityMembership.objects.bulk_update(rows, ["joined_at"], batch_size=500)
        onboardings = list(Onboarding.objects.filter(user_id__in={u for u, _c in joined}))
        for row in onboardings:
            if (row.user_id, row.community_id) in joined:
                row.accepted_at = joined[(row.user_id, row.community_id)] - timedelta(minutes=10)
        Onboarding.objects.bulk_update(onboardings, ["accepted_at"], batch_size=500)
        spaces = dict(Space.objects.values_list("pk", "community_id"))
        space_rows = list(SpaceMembership.objects.filter(user_id__in={u for u, _c in joined}))
        for row in space_rows:
            moment = joined.get((row.user_id, spaces[row.space_id]))
            if moment is not None:
                row.joined_at = moment + timedelta(minutes=5)
        SpaceMembership.objects.bulk_update(space_rows, ["joined_at"], batch_size=500)
        requests = {
            r.pk: r
            for r in JoinRequest.objects.filter(status=JoinRequestStatus.APPROVED, user_id__in={u for u, _c in joined})
        }
        for r in requests.values():
            moment = joined.get((r.user_id, spaces[r.space_id]))
            if moment is not None:
                r.created_at, r.decided_at = moment - timedelta(days=1), moment
        JoinRequest.objects.bulk_update(list(requests.values()), ["created_at", "decided_at"], batch_size=500)
        invitations = {
            i.pk: i
            for i in Invitation.objects.filter(
                status=InvitationStatus.ACCEPTED, accepted_by_id__in={u for u, _c in joined}
            )
        }
        for i in invitations.values():
            moment = joined.get((i.accepted_by_id, spaces[i.space_id]))
            if moment is not None:
                i.created_at, i.accepted_at = moment - timedelta(days=2), moment
        Invitation.objects.bulk_update(list(invitations.values()), ["created_at", "accepted_at"], batch_size=500)
        self._date_join_events_back(joined, requests, invitations)

    def _date_join_events_back(self, joined, requests, invitations) -> None:
        since = self.now - timedelta(days=1)
        events = list(ActivityEvent.objects.filter(kind__in=JOIN_KINDS, occurred_at__gte=since))
        for event in events:
            joiner = None
            if event.kind in ("community_join", "space_join"):
                joiner = event.member_id
            elif event.target_type == "spaces.joinrequest" and event.target_id in requests:
                joiner = requests[event.target_id].user_id
            elif event.target_type == "spaces.invitation" and event.target_id in invitations:
                joiner = invitations[event.target_id].accepted_by_id
            moment = joined.get((joiner, event.community_id))
            if moment is not None:
                offset = JOIN_KINDS.index(event.kind)
                event.occurred_at = moment + timedelta(minutes=offset - 2)
        ActivityEvent.objects.bulk_update(events, ["occurred_at"], batch_size=500)

    # --- The year of activity -----------------------------------------------------------------------------
    def targets(self, members: list[Member]) -> dict[int, dict[int, list[Target]]]:
        """Member id -> community id -> the items they may see there (pages, questions, events, posts, polls)."""
        community_ids = {c for m in members for c in m.joined}
        items = Item.objects.filter(kind__in=list(TYPED), space__community_id__in=community_ids)
        rows = {pk: (kind, space_id) for pk, kind, space_id in items.values_list("pk", "kind", "space_id")}
        typed: dict[int, tuple[str, int]] = {}
        for model in TYPED.values():
            for item_id, pk in model.objects.filter(item_id__in=rows).values_list("item_id", "pk"):
                typed[item_id] = (model._meta.label_lower, pk)
        community_of = dict(Space.objects.values_list("pk", "community_id"))
        visible = space_permissions.visible_items_for([m.user for m in members], items)
        found: dict[int, dict[int, list[Target]]] = {}
        for member in members:
            mine: dict[int, list[Target]] = defaultdict(list)
            for item_id in sorted(visible.get(member.user.pk, ())):
                kind, space_id = rows[item_id]
                if item_id in typed and community_of[space_id] in member.joined:
                    label, pk = typed[item_id]
                    mine[community_of[space_id]].append(Target(item_id, kind, space_id, label, pk))
            found[member.user.pk] = mine
        return found

    def roles(self, members: list[Member]) -> dict[int, dict[int, int]]:
        """Member id -> space id -> the role they act with (community moderators and admins: everywhere)."""
        ids = [m.user.pk for m in members]
        roles: dict[int, dict[int, int]] = defaultdict(dict)
        live = Space.objects.filter(is_archived=False)
        for user_id, space_id, role in SpaceMembership.objects.filter(user_id__in=ids, space__in=live).values_list(
            "user_id", "space_id", "role"
        ):
            roles[user_id][space_id] = role
        lead = CommunityMembership.objects.filter(
            user_id__in=ids, role__in=[CommunityRole.MODERATOR, CommunityRole.ADMIN]
        ).values_list("user_id", "community_id")
        spaces_of: dict[int, list[int]] = defaultdict(list)
        for space_id, community_id in live.values_list("pk", "community_id"):
            spaces_of[community_id].append(space_id)
        for user_id, community_id in lead:
            for space_id in spaces_of[community_id]:
                roles[user_id][space_id] = max(roles[user_id].get(space_id, 0), SpaceRole.MODERATOR)
        return roles

    def write_history(self, members: list[Member]) -> int:
        zones = {pk: self._zone(name) for pk, name in Community.objects.values_list("pk", "time_zone")}
        targets = self.targets(members)
        roles = self.roles(members)
        for member in members:
            for community_id in member.joined:
                self.members_by_community[community_id].append(member)
        first_day = self.today - timedelta(days=HISTORY_DAYS)
        for member in members:
            if member.habit is None:
                continue
            for community_id, joined in sorted(member.joined.items()):
                interest = 1.0 if community_id == member.home else OTHER_COMMUNITY_INTEREST
                day = max(first_day, joined.astimezone(member.zone).date())
                last = member.stopped or self.today
                while day <= last:
                    away = any(start <= day <= end for start, end in member.breaks)
                    if not away and self.random.random() < self._chance(member.habit, day) * interest:
                        self.session(
                            member,
                            community_id,
                            zones[community_id],
                            day,
                            targets[member.user.pk].get(community_id, []),
                            roles.get(member.user.pk, {}),
                        )
                    day += timedelta(days=1)
        self.events.sort(key=lambda event: event.occurred_at)
        for start in range(0, len(self.events), CHUNK):
            ActivityEvent.objects.bulk_create(self.events[start : start + CHUNK], ignore_conflicts=True)
        return len(self.events)

    def _chance(self, habit: Habit, day: date) -> float:
        chance = habit.weekday_visit if day.weekday() < 5 else habit.weekend_visit
        if (day.month, day.day) >= (12, 22) or (day.month, day.day) <= (1, 3):
            chance *= 0.3  # the end-of-year holidays
        # Slowly growing: the community is busier now than a year ago.
        age = (self.today - day).days / HISTORY_DAYS
        return chance * (1.15 - 0.3 * age)

    def _hour(self, day: date) -> tuple[int, int]:
        hours = WORKDAY_HOURS if day.weekday() < 5 else WEEKEND_HOURS
        hour = self.random.choices(list(hours), weights=list(hours.values()))[0]
        return hour, self.random.randint(0, 59)

    def session(self, member, community_id, community_zone, day, targets, roles) -> None:
        hour, minute = self._hour(day)
        moment = datetime.combine(day, time(hour, minute), tzinfo=member.zone)
        if moment > self.now or moment < member.joined[community_id]:
            return
        views = [self._pick_target(targets, roles) for _n in range(self.random.randint(1, member.habit.most_views))]
        views = [target for target in views if target is not None]
        visit_day = moment.astimezone(community_zone).date()
        if (member.user.pk, community_id, visit_day) not in self.visits:
            self.visits.add((member.user.pk, community_id, visit_day))
            space_id = views[0].space_id if views else None
            self.add(member, VISIT, community_id, space_id, None, moment, visit_day=visit_day)
        for target in views:
            moment += timedelta(minutes=self.random.randint(1, 9))
            if moment > self.now:  # a session that began minutes ago is not over yet
                return
            self.add(member, VIEW_KIND[target.kind], community_id, target.space_id, target, moment)
        if self.random.random() >= member.habit.contribute:
            return
        for _n in range(self.random.randint(1, member.habit.most_contributions)):
            moment += timedelta(minutes=self.random.randint(3, 25))
            self.contribute(member, community_id, targets, roles, moment)

    def _pick_target(self, targets: list[Target], roles: dict[int, int]) -> Target | None:
        if not targets:
            return None
        # Members open mostly what is in their own spaces, and now and then the rest of what they may see.
        weights = [3 if target.space_id in roles else 1 for target in targets]
        return self.random.choices(targets, weights=weights)[0]

    def contribute(self, member, community_id, targets, roles, moment) -> None:
        spaces = sorted({t.space_id for t in targets if roles.get(t.space_id, 0) >= VIEWER})
        if not spaces or moment > self.now:
            return
        space_id = self.random.choice(spaces)
        choices = EDITOR_KINDS if roles[space_id] >= EDITOR else VIEWER_KINDS
        kind = self.random.choices(list(choices), weights=list(choices.values()))[0]
        here = [t for t in targets if t.space_id == space_id and t.kind in TARGET_KINDS[kind]]
        if not here:
            if roles[space_id] < EDITOR:
                return
            kind = "comment_create"
            here = [t for t in targets if t.space_id == space_id and t.kind in TARGET_KINDS[kind]]
            if not here:
                return
        target = self.random.choice(here)
        self.add(member, kind, community_id, space_id, target, moment)
        if kind == "answer_post" and self.random.random() < ACCEPTED_SHARE:
            self.accept(member, community_id, target, moment)

    def accept(self, answerer: Member, community_id: int, question: Target, answered: datetime) -> None:
        """Someone else in the community accepts the answer later: their contribution, the answerer's credit."""
        moment = answered + timedelta(hours=self.random.randint(2, 96))
        candidates = [
            m
            for m in self.members_by_community[community_id]
            if m is not answerer and m.habit is not None and m.joined[community_id] < answered
        ]
        if moment > self.now or not candidates:
            return
        accepter = self.random.choice(candidates)
        self.add(accepter, "answer_accept", community_id, question.space_id, question, moment)
        self.add(answerer, "answer_accepted", community_id, question.space_id, question, moment)

    def add(self, member, kind, community_id, space_id, target, moment, visit_day=None) -> None:
        self.events.append(
            ActivityEvent(
                member_id=member.user.pk,
                community_id=community_id,
                space_id=space_id,
                kind=kind,
                target_type=target.label if target else "",
                target_id=target.pk if target else None,
                country=member.country,
                organisation_type=member.organisation_type,
                occurred_at=moment.astimezone(UTC),
                recorded_at=self.now,
                visit_day=visit_day,
            )
        )

    def set_last_logins(self, members: list[Member]) -> None:
        """The latest sign-in on record is the member's latest activity (never-signed-in members have none)."""
        latest = dict(
            ActivityEvent.objects.filter(member_id__in=[m.user.pk for m in members])
            .exclude(kind__in=["answer_accepted"])
            .values("member_id")
            .annotate(last=Max("occurred_at"))
            .values_list("member_id", "last")
        )
        users = []
        for member in members:
            last = latest.get(member.user.pk)
            if last is not None:
                member.user.last_login = last
                users.append(member.user)
        self.User.objects.bulk_update(users, ["last_login"], batch_size=500)
