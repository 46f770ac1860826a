"""Demo content for issue 4: events (past and upcoming, with registrations, questions, papers and attendance),
posts (one pinned, one announcement, one scheduled), polls and a work plan with an overdue milestone.

Everything goes through the services, as a member would do it, and every step checks first whether it has
already been done, so running the seed twice changes nothing. Dates are relative to today, so the demo always
has an upcoming meeting, a past one with attendance, and a milestone that is overdue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from spaces.models import Event, Milestone, Poll, Post, Registration, Space, WorkPlan
from spaces.services import events as event_services
from spaces.services import papers as paper_services
from spaces.services import polls as poll_services
from spaces.services import posts as post_services
from spaces.services import workplan as workplan_services


@dataclass
class EventPlan:
    community: str
    space: str
    title: str
    organiser: str
    days_from_today: int  # negative: a past event
    local_start: time
    hours: int
    time_zone: str
    description: str
    venue: str = ""
    online_url: str = ""
    capacity: int | None = None
    questions: list[dict] = field(default_factory=list)
    going: list[tuple[str, dict]] = field(default_factory=list)  # (person key, answers by question label)
    maybe: list[str] = field(default_factory=list)
    not_going: list[str] = field(default_factory=list)
    papers: list[tuple[str, str, str, bool | None]] = field(default_factory=list)  # (key, title, abstract, accepted)
    attended: list[str] = field(default_factory=list)


EVENTS = [
    EventPlan(
        "data-integration",
        "linkage-help-desk",
        "Webinar: probabilistic linkage with Splink",
        "ramon",
        days_from_today=9,
        local_start=time(14, 0),
        hours=2,
        time_zone="Asia/Manila",
        description=(
            "A hands-on session on **Splink** for offices starting with probabilistic linkage: estimating "
            "m and u probabilities, choosing blocking rules, and reading the match weights chart.\n\n"
            "Bring a question about your own linkage project."
        ),
        online_url="https://meet.example.org/splink-webinar",
        capacity=3,
        questions=[
            {"label": "Which linkage software do you use today?", "kind": "text", "required": False},
            {"label": "Do you need interpretation into Russian?", "kind": "yes_no", "required": True},
        ],
        going=[
            (
                "duc",
                {"Which linkage software do you use today?": "SAS", "Do you need interpretation into Russian?": "no"},
            ),
            ("aroha", {"Do you need interpretation into Russian?": "no"}),
            (
                "priya",
                {"Which linkage software do you use today?": "R", "Do you need interpretation into Russian?": "no"},
            ),
            ("agus", {"Do you need interpretation into Russian?": "no"}),  # capacity 3: waiting list
        ],
        maybe=[],
    ),
    EventPlan(
        "data-integration",
        "linkage-task-team",
        "Task team drafting session: chapter 3 (quality of linked data)",
        "emma",
        days_from_today=-12,
        local_start=time(9, 0),
        hours=3,
        time_zone="Pacific/Auckland",
        description="Working session on the draft of chapter 3. Papers: short notes on each office's quality checks.",
        online_url="https://meet.example.org/task-team-ch3",
        going=[("agus", {}), ("jiyeon", {}), ("aroha", {})],
        maybe=["priya"],
        papers=[
            ("agus", "Clerical review at BPS: sampling and costs", "How BPS samples pairs for clerical review.", True),
            ("jiyeon", "False-match rates in the Korean linked panel", "Estimating false matches with twins.", None),
        ],
        attended=["agus", "jiyeon"],
    ),
    EventPlan(
        "census-innovation",
        "good-practices",
        "Expert group meeting on register-based census, Bangkok",
        "maria",
        days_from_today=40,
        local_start=time(9, 0),
        hours=8,
        time_zone="Asia/Bangkok",
        description=(
            "The annual meeting of the expert group, hosted by the UN Conference Centre in Bangkok. "
            "Offices are invited to submit papers on their transition to register-based censuses."
        ),
        venue="United Nations Conference Centre, Rajadamnern Nok Avenue, Bangkok",
        capacity=40,
        questions=[{"label": "Dietary requirements", "kind": "text", "required": False}],
        going=[("losaline", {"Dietary requirements": "Vegetarian"}), ("lan", {}), ("sabin", {})],
        maybe=["faamanu"],
        papers=[("lan", "Viet Nam's population register: coverage checks", "How we measured coverage.", None)],
    ),
]


@dataclass
class PostPlan:
    community: str
    space: str
    author: str
    body: str
    pinned: bool = False
    announcement: bool = False
    in_hours: int | None = None  # scheduled
    likes: list[str] = field(default_factory=list)


POSTS = [
    PostPlan(
        "data-integration",
        "linkage-help-desk",
        "ramon",
        "**Welcome to the help desk!** Ask anything about record linkage, from blocking to clerical review. "
        "Tag your question so others can find it, and accept the answer that solved it. "
        "New here? Tell us which data sources your office links.",
        pinned=True,
        likes=["duc", "aroha", "priya"],
    ),
    PostPlan(
        "data-integration",
        "linkage-help-desk",
        "agus",
        "The slides and code from last month's BPS linkage clinic are in the Good practices library. "
        "Thanks @duc for the questions that shaped the session. https://example.org/bps-clinic",
        likes=["duc", "ramon"],
    ),
    PostPlan(
        "data-integration",
        "linkage-help-desk",
        "ramon",
        "The Splink webinar is full; join the waiting list and you will move up automatically if a place frees.",
        announcement=True,
    ),
    PostPlan(
        "data-integration",
        "linkage-help-desk",
        "ramon",
        "Reminder: the webinar starts tomorrow at 14:00 Manila time. The meeting link is on the event page.",
        in_hours=24 * 8,
    ),
    PostPlan(
        "data-integration",
        "linkage-task-team",
        "emma",
        "Draft of chapter 3 is ready for comments until Friday. Please comment on the page rather than by e-mail.",
        likes=["agus", "jiyeon"],
    ),
]


@dataclass
class PollPlan:
    community: str
    space: str
    author: str
    question: str
    options: list[str]
    multiple: bool = False
    closes_in_days: int | None = None
    results_after_close: bool = False
    votes: list[tuple[str, list[int]]] = field(default_factory=list)


POLLS = [
    PollPlan(
        "data-integration",
        "linkage-help-desk",
        "ramon",
        "Which topic should the next webinar cover?",
        ["Clerical review", "Privacy-preserving linkage", "Linkage quality indicators", "Using Splink at scale"],
        multiple=True,
        closes_in_days=14,
        votes=[("duc", [1, 2]), ("aroha", [1]), ("priya", [2, 3]), ("agus", [0])],
    ),
    PollPlan(
        "data-integration",
        "linkage-task-team",
        "emma",
        "When should the task team meet in person?",
        ["June, before the Committee", "September, with the expert group meeting"],
        closes_in_days=7,
        results_after_close=True,
        votes=[("agus", [0]), ("jiyeon", [1])],
    ),
]


WORK_PLAN = {
    "space": ("data-integration", "linkage-task-team"),
    "by": "emma",
    "product": "Guidelines on integrating administrative data (draft for the 2026 Committee on Statistics)",
    "description": "Five chapters, each drafted by a lead office and reviewed by the whole task team.",
    "due_in_days": 120,
    "milestones": [
        # (title, due in days (negative: past), owner, status, linked event title or page title)
        ("Outline agreed by the task team", -60, "emma", "done", None),
        (
            "Chapter 3 first draft",
            -5,
            "agus",
            "in_progress",
            "Task team drafting session: chapter 3 (quality of linked data)",
        ),
        ("Country case studies collected", 30, "aroha", "planned", None),
        ("Full draft to the bureau", 100, "emma", "planned", None),
    ],
}


# Moderation (issue 5): a salesman's advert flagged by three members (hidden automatically, waiting in the
# queue), an off-topic post flagged once (still open), and a comment a moderator hid, with a warning.
SPAM_POST = (
    "mark",
    "Struggling with linkage dashboards? DashPro builds them in a day! Special price for statistics offices: "
    "https://dashpro.example.com/offer https://dashpro.example.com/demo",
)
SPAM_FLAGGERS = [("duc", "spam", ""), ("aroha", "spam", ""), ("priya", "other", "An advert, not a question.")]
OFF_TOPIC_FLAG = ("agus", "off_topic", "About census enumeration, not linkage; better in the census community.")
OFF_TOPIC_POST = (
    "duc",
    "Does anyone have a good template for enumerator training schedules? Ours is a spreadsheet from 2009.",
)


class EngagementSeeder:
    def __init__(self, people: dict, forget) -> None:
        self.people = people
        self.forget = forget

    def run(self) -> None:
        for plan in EVENTS:
            self.ensure_event(plan)
        for plan in POSTS:
            self.ensure_post(plan)
        for plan in POLLS:
            self.ensure_poll(plan)
        self.ensure_work_plan()
        self.ensure_moderation()

    def space(self, community: str, slug: str) -> Space:
        return Space.objects.select_related("community").get(community__slug=community, slug=slug)

    # Events
    def ensure_event(self, plan: EventPlan) -> None:
        space = self.space(plan.community, plan.space)
        event = Event.objects.filter(space=space, title=plan.title).select_related("item", "space").first()
        if event is not None:
            return
        organiser = self.people[plan.organiser]
        today = timezone.localdate()
        # Registrations and papers happen while the event is ahead; a past event is then moved to its date.
        day = today + timedelta(days=max(plan.days_from_today, 3))
        start = datetime.combine(day, plan.local_start)
        event = event_services.event_create(
            actor=organiser,
            space=space,
            title=plan.title,
            starts_at=start,
            ends_at=start + timedelta(hours=plan.hours),
            time_zone=plan.time_zone,
            description=plan.description,
            venue=plan.venue,
            online_url=plan.online_url,
            capacity=plan.capacity,
        )
        questions = []
        if plan.questions:
            questions = event_services.event_questions_set(actor=organiser, event=event, questions=plan.questions)
        by_label = {q.label: str(q.pk) for q in questions}
        if plan.papers:
            event = paper_services.event_papers_configure(
                actor=organiser, event=event, papers_open=True, papers_deadline=timezone.now() + timedelta(days=2)
            )
        for key, answers in plan.going:
            event_services.event_registration_set(
                actor=self.people[key],
                event=event,
                status="going",
                answers={by_label[label]: value for label, value in answers.items()},
            )
        for status, keys in (("maybe", plan.maybe), ("not_going", plan.not_going)):
            for key in keys:
                event_services.event_registration_set(actor=self.people[key], event=event, status=status)
        for key, title, abstract, accepted in plan.papers:
            paper = paper_services.paper_submit(
                actor=self.people[key],
                event=event,
                title=title,
                abstract=abstract,
                upload=SimpleUploadedFile(
                    f"{title[:40]}.txt".replace(" ", "-").replace(":", ""),
                    f"{title}\n\n{abstract}\n".encode(),
                    content_type="text/plain",
                ),
            )
            if accepted is not None:
                paper_services.paper_decide(
                    actor=organiser,
                    paper=paper,
                    accept=accepted,
                    message="Thank you: please present it in ten minutes." if accepted else "Thank you.",
                )
        if plan.days_from_today < 0:
            day = today + timedelta(days=plan.days_from_today)
            start = timezone.make_aware(datetime.combine(day, plan.local_start), event_services._zone(plan.time_zone))
            Event.objects.filter(pk=event.pk).update(
                starts_at=start, ends_at=start + timedelta(hours=plan.hours), papers_deadline=start - timedelta(days=7)
            )
            event.refresh_from_db()
            attended = {
                r.pk: r.user_id in {self.people[k].pk for k in plan.attended}
                for r in Registration.objects.filter(event=event, status="going")
            }
            if attended:
                event_services.event_attendance_mark(actor=organiser, event=event, attended=attended)

    # Posts
    def ensure_post(self, plan: PostPlan) -> None:
        space = self.space(plan.community, plan.space)
        author = self.people[plan.author]
        if Post.objects.filter(space=space, item__author=author, body=plan.body).exists():
            return
        publish_at = timezone.now() + timedelta(hours=plan.in_hours) if plan.in_hours else None
        post = post_services.post_create(
            actor=author, space=space, body=plan.body, is_announcement=plan.announcement, publish_at=publish_at
        )
        if plan.pinned:
            post_services.post_pin(actor=author, post=post)
        for key in plan.likes:
            post_services.like_toggle(actor=self.people[key], item=post.item)

    # Polls
    def ensure_poll(self, plan: PollPlan) -> None:
        space = self.space(plan.community, plan.space)
        if Poll.objects.filter(space=space, question=plan.question).exists():
            return
        poll = poll_services.poll_create(
            actor=self.people[plan.author],
            space=space,
            question=plan.question,
            options=plan.options,
            multiple=plan.multiple,
            closes_at=timezone.now() + timedelta(days=plan.closes_in_days) if plan.closes_in_days else None,
            results_shown="after_close" if plan.results_after_close else "after_vote",
        )
        options = list(poll.options.order_by("position", "pk"))
        for key, choices in plan.votes:
            poll_services.poll_vote(actor=self.people[key], poll=poll, option_ids=[options[i].pk for i in choices])

    # Work plan
    def ensure_work_plan(self) -> None:
        space = self.space(*WORK_PLAN["space"])
        if WorkPlan.objects.filter(space=space).exclude(product="").exists():
            return
        actor = self.people[WORK_PLAN["by"]]
        today = timezone.localdate()
        workplan_services.work_plan_update(
            actor=actor,
            space=space,
            product=WORK_PLAN["product"],
            description=WORK_PLAN["description"],
            due_date=today + timedelta(days=WORK_PLAN["due_in_days"]),
        )
        for title, due_in, owner, status, linked in WORK_PLAN["milestones"]:
            if Milestone.objects.filter(space=space, title=title).exists():
                continue
            items = []
            if linked:
                event = Event.objects.filter(space=space, title=linked).select_related("item").first()
                items = [event.item] if event else []
            milestone = workplan_services.milestone_create(
                actor=actor,
                space=space,
                title=title,
                due_date=today + timedelta(days=due_in),
                owner=self.people[owner],
                linked_items=items,
            )
            if status != "planned":
                workplan_services.milestone_set_status(actor=actor, milestone=milestone, status=status)

    # Moderation
    def ensure_moderation(self) -> None:
        from spaces.models import Flag
        from spaces.services import moderation as moderation_services
        from spaces.services.membership import space_join

        space = self.space("data-integration", "linkage-help-desk")
        moderator = self.people["ramon"]
        author_key, body = SPAM_POST
        author = self.people[author_key]
        post = Post.objects.filter(space=space, item__author=author).select_related("item").first()
        if post is None:
            if not space.memberships.filter(user=author).exists():
                from communities.models import Onboarding
                from communities.services import onboarding_submit

                if not Onboarding.objects.filter(user=author, community=space.community).exists():
                    answers = {q.pk: "Selling dashboards." for q in space.community.intro_questions.all()}
                    onboarding_submit(actor=author, community=space.community, accept_guidelines=True, answers=answers)
                space_join(actor=author, space=space)
                self.forget(author)
            post = post_services.post_create(actor=author, space=space, body=body)
            for key, reason, note in SPAM_FLAGGERS:
                moderation_services.flag_create(actor=self.people[key], target=post.item, reason=reason, note=note)
        key, text = OFF_TOPIC_POST
        off_topic = Post.objects.filter(space=space, body=text).select_related("item").first()
        if off_topic is None:
            off_topic = post_services.post_create(actor=self.people[key], space=space, body=text)
        if not Flag.objects.filter(item=off_topic.item).exists():
            flagger, reason, note = OFF_TOPIC_FLAG
            moderation_services.flag_create(actor=self.people[flagger], target=off_topic.item, reason=reason, note=note)
        welcome = Post.objects.filter(space=space, is_pinned=True).select_related("item").first()
        if welcome is not None and not welcome.item.comments.filter(item__author=author).exists():
            from spaces.services import comment_create

            comment = comment_create(
                actor=author, target=welcome.item, body="Great community! DM me for a DashPro discount."
            )
            moderation_services.item_hide(actor=moderator, item=comment.item, reason="Advertising is not allowed.")
            moderation_services.author_warn(
                actor=moderator,
                target=comment.item,
                message="Please do not advertise products here; see the community guidelines.",
            )
