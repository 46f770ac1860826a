"""The append-only activity log and the roll-ups the dashboards read. Recording imports nothing of ours
(ARCHITECTURE.md)."""

from datetime import date

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ActivityEvent(models.Model):
    """One meaningful action. Country and organisation type are copied in so breakdowns need no join.

    ``visit_day`` is set on visit events only: the calendar day in the community's time zone. A partial unique
    constraint makes a second visit on the same day a no-op, so "once per member per community per day" holds
    under concurrent requests. ``recorded_at`` is when the row was written; ``occurred_at`` when the action
    happened (they differ for imported history and for events that arrive late).
    """

    member = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("member")
    )
    community_id = models.BigIntegerField(_("community ID"), null=True, db_index=True)
    space_id = models.BigIntegerField(_("space ID"), null=True, db_index=True)
    kind = models.CharField(_("kind"), max_length=40)
    target_type = models.CharField(_("target type"), max_length=40, blank=True)
    target_id = models.BigIntegerField(_("target ID"), null=True)
    country = models.CharField(_("country"), max_length=80, blank=True)
    organisation_type = models.CharField(_("organisation type"), max_length=20, blank=True)
    occurred_at = models.DateTimeField(_("occurred"), db_index=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)
    visit_day = models.DateField(_("visit day"), null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["community_id", "occurred_at"]),
            models.Index(fields=["member", "occurred_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["member", "community_id", "visit_day"],
                condition=Q(visit_day__isnull=False),
                name="analytics_one_visit_per_member_community_day",
            )
        ]
        verbose_name = _("activity event")
        verbose_name_plural = _("activity events")

    def __str__(self) -> str:
        return f"{self.kind} by {self.member_id} at {self.occurred_at:%Y-%m-%d %H:%M}"


class MemberDay(models.Model):
    """One member's activity on one calendar day (in the community's time zone), in one community as a whole
    (``space_id`` = 0) or in one space of it. Kept current by the incremental roll-up; what dashboards read.

    ``points`` are the day's engagement points under the community's current weights, capped at its daily cap;
    they are recomputed from ``kind_counts`` when an admin changes the weights.
    """

    WHOLE_COMMUNITY = 0

    member_id = models.BigIntegerField(_("member ID"))
    community_id = models.BigIntegerField(_("community ID"))
    space_id = models.BigIntegerField(_("space ID"), default=WHOLE_COMMUNITY)
    day = models.DateField(_("day"))
    country = models.CharField(_("country"), max_length=80, blank=True)
    organisation_type = models.CharField(_("organisation type"), max_length=20, blank=True)
    events = models.PositiveIntegerField(
        _("activity events"), default=0, help_text="Activity events (credits excluded)."
    )
    visits = models.PositiveIntegerField(_("visits"), default=0)
    views = models.PositiveIntegerField(_("views"), default=0)
    contributions = models.PositiveIntegerField(_("contributions"), default=0)
    kind_counts = models.JSONField(_("events by kind"), default=dict, blank=True)
    points = models.PositiveIntegerField(_("engagement points"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member_id", "community_id", "space_id", "day"], name="analytics_memberday_unique"
            )
        ]
        indexes = [
            models.Index(fields=["community_id", "space_id", "day"]),
            models.Index(fields=["member_id", "day"]),
        ]
        verbose_name = _("member day")
        verbose_name_plural = _("member days")

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.community_id}/{self.space_id} on {self.day}"


class MemberMonth(models.Model):
    """One member's ``MemberDay`` rows of one calendar month (of the community's time zone), in one community as a
    whole (``space_id`` 0) or one space of it, folded into a row: which days of the month they were active
    (``MemberDay.events`` > 0), contributed and visited, as bit masks (bit ``d - 1`` for day ``d``), and the month's
    points, contributions and accepted referrals. What the cohort table, the return rates, the active-member counts
    and the all-time figures read, so that a year costs a dozen rows per member instead of hundreds.

    Written by the database, never by Python: triggers on ``analytics_memberday`` (migration 0004) fold every
    insert, update and delete of member days into their months in the same statement. Whatever writes member days
    (the incremental roll-up, ``rebuild``, the points recomputation, ``seed_scale``'s set-based roll-up, tests)
    therefore keeps the months exactly in step, and a month row exists exactly when its month has member days
    (``days`` of them)."""

    member_id = models.BigIntegerField(_("member ID"))
    community_id = models.BigIntegerField(_("community ID"))
    space_id = models.BigIntegerField(_("space ID"), default=MemberDay.WHOLE_COMMUNITY)
    month = models.DateField(_("month"), help_text="First day of the month.")
    days = models.PositiveIntegerField(_("member days"), default=0, help_text="Member days of the month.")
    active_mask = models.PositiveIntegerField(
        _("active days (bit mask)"), default=0, help_text="Bit d-1: active on day d (events > 0)."
    )
    contribution_mask = models.PositiveIntegerField(
        _("contribution days (bit mask)"), default=0, help_text="Bit d-1: a contribution on day d."
    )
    visit_mask = models.PositiveIntegerField(
        _("visit days (bit mask)"), default=0, help_text="Bit d-1: a visit on day d."
    )
    points = models.PositiveIntegerField(_("engagement points"), default=0)
    contributions = models.PositiveIntegerField(_("contributions"), default=0)
    referrals = models.PositiveIntegerField(
        _("referrals"), default=0, help_text="Accepted invitations (referral actions)."
    )

    class Meta:
        # One index serves the triggers' upserts (its key), and the metrics, which read a scope's months. The
        # second finds one member's whole-community months, which the triggers fold into ``MemberStanding``.
        constraints = [
            models.UniqueConstraint(
                fields=["community_id", "space_id", "month", "member_id"], name="analytics_membermonth_unique"
            )
        ]
        indexes = [
            models.Index(
                fields=["member_id", "community_id", "month"],
                condition=Q(space_id=0),
                name="analytics_membermonth_member",
            )
        ]
        verbose_name = _("member month")
        verbose_name_plural = _("member months")

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.community_id}/{self.space_id} in {self.month:%Y-%m}"


class MemberEra(models.Model):
    """A member's months of one five-year era (60 calendar months of the community's zone, counted from year 0), in
    one community as a whole (``space_id`` 0) or one space: bit ``k`` of ``active_months`` is set when the era's
    ``k``-th month has an active day (``MemberMonth.active_mask`` > 0). One row per member covers any 12-month
    window but one in five, so the cohort table reads about one row per member instead of a dozen.

    Written by the database like ``MemberMonth``: triggers on ``analytics_membermonth`` (migration 0004) fold its
    changes in the same statement; a row exists exactly when the era has member months (``months`` of them)."""

    MONTHS = 60

    member_id = models.BigIntegerField(_("member ID"))
    community_id = models.BigIntegerField(_("community ID"))
    space_id = models.BigIntegerField(_("space ID"), default=MemberDay.WHOLE_COMMUNITY)
    era = models.IntegerField(_("era"), help_text="(year * 12 + month - 1) // 60 of its months.")
    months = models.PositiveIntegerField(_("member months"), default=0, help_text="Member months of the era.")
    active_months = models.PositiveBigIntegerField(
        _("active months (bit mask)"), default=0, help_text="Bit k: active in the era's month k."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community_id", "space_id", "era", "member_id"], name="analytics_memberera_unique"
            )
        ]
        verbose_name = _("member era")
        verbose_name_plural = _("member eras")

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.community_id}/{self.space_id} in era {self.era}"

    @classmethod
    def of(cls, month: date) -> tuple[int, int]:
        """(era, bit) of the month of ``month``."""
        return divmod(month.year * 12 + month.month - 1, cls.MONTHS)


class MemberStanding(models.Model):
    """One member in one community as a whole: when they joined it (``joined_at``, empty once they have left) and
    their recent activity, folded from the whole-community ``MemberMonth`` rows. ``last_month`` is the latest month
    with an active day (``year * 12 + month - 1``), ``mask0``..``mask2`` are the day masks of that month and the two
    before it, and bit ``k`` of ``active_months`` is set when month ``last_month - k`` has an active day (k < 63).

    The return rate and the cohort table of whole communities read one row per member here instead of the
    memberships, the months and the eras together. Written by the database: triggers on the memberships and on the
    months (migration 0006) keep it in the same statement; a row exists while the member belongs to the community
    or has months in it."""

    RECENT_MONTHS = 63

    member_id = models.BigIntegerField(_("member ID"))
    community_id = models.BigIntegerField(_("community ID"))
    joined_at = models.DateTimeField(_("joined"), null=True, blank=True, help_text="Empty when not a member now.")
    last_month = models.IntegerField(
        _("last active month"), null=True, blank=True, help_text="year * 12 + month - 1 of the latest active month."
    )
    mask0 = models.PositiveIntegerField(_("days of the last active month"), default=0)
    mask1 = models.PositiveIntegerField(_("days of the month before"), default=0)
    mask2 = models.PositiveIntegerField(_("days of two months before"), default=0)
    active_months = models.PositiveBigIntegerField(
        _("active months (bit mask)"), default=0, help_text="Bit k: active in month last_month - k."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["community_id", "member_id"], name="analytics_memberstanding_unique")
        ]
        verbose_name = _("member standing")
        verbose_name_plural = _("member standings")

    def __str__(self) -> str:
        return f"member {self.member_id} in {self.community_id}"

    @staticmethod
    def month_index(month: date) -> int:
        return month.year * 12 + month.month - 1


class ActivityBucket(models.Model):
    """Activity in one 15-minute UTC bucket, for the best-time-to-post heatmap in any time zone (offsets such
    as +5:30 and +5:45 fall on bucket edges). ``space_id`` = 0 is the whole community."""

    community_id = models.BigIntegerField(_("community ID"))
    space_id = models.BigIntegerField(_("space ID"), default=0)
    country = models.CharField(_("country"), max_length=80, blank=True)
    organisation_type = models.CharField(_("organisation type"), max_length=20, blank=True)
    bucket = models.DateTimeField(_("15-minute bucket"), help_text="Start of the 15-minute bucket, UTC.")
    events = models.PositiveIntegerField(_("activity events"), default=0)
    contributions = models.PositiveIntegerField(_("contributions"), default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["community_id", "space_id", "country", "organisation_type", "bucket"],
                name="analytics_bucket_unique",
            )
        ]
        indexes = [models.Index(fields=["community_id", "space_id", "bucket"])]
        verbose_name = _("activity bucket")
        verbose_name_plural = _("activity buckets")

    def __str__(self) -> str:
        return f"{self.events} events in {self.community_id}/{self.space_id} at {self.bucket:%Y-%m-%d %H:%M}"


class PointsPolicy(models.Model):
    """A community's engagement-point weights (overrides of ``analytics.kinds.DEFAULT_POINTS``) and daily cap."""

    community = models.OneToOneField(
        "communities.Community", on_delete=models.CASCADE, related_name="+", verbose_name=_("community")
    )
    weights = models.JSONField(_("weights"), default=dict, blank=True)
    daily_cap = models.PositiveIntegerField(_("daily cap"), default=200)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("updated by"),
    )

    class Meta:
        verbose_name = _("points policy")
        verbose_name_plural = _("points policies")

    def __str__(self) -> str:
        return f"points policy of community {self.community_id}"


class RollupState(models.Model):
    """Where the incremental roll-up stands: every event with an id up to ``last_event_id`` is counted, except
    the ids in ``gaps`` (ids skipped when last read: a transaction may still commit them). Gaps are re-read on
    every run and dropped after a day. ``generation`` counts the runs that changed the roll-ups."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    last_event_id = models.BigIntegerField(_("last event ID"), default=0)
    gaps = models.JSONField(_("skipped event IDs"), default=list, blank=True)
    # Bumped whenever a run changes the roll-ups (events counted, a rebuild, points recomputed): cached dashboard
    # figures are keyed by it, so they are recomputed only after the roll-ups moved.
    generation = models.BigIntegerField(_("generation"), default=0)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("roll-up state")
        verbose_name_plural = _("roll-up states")

    def __str__(self) -> str:
        return f"{self.name} at event {self.last_event_id}"
