"""Analytics in the admin. The activity log is append-only and the roll-ups are written only by the roll-up
engine (analytics.rollup; member months by the database's triggers), so all of them can be browsed and filtered
but never added to, edited or deleted from here. A community's points policy is the one thing edited here; saving
it recomputes the points."""

from django import forms
from django.contrib import admin
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from analytics.kinds import DEFAULT_POINTS
from analytics.models import (
    ActivityBucket,
    ActivityEvent,
    MemberDay,
    MemberEra,
    MemberMonth,
    MemberStanding,
    PointsPolicy,
    RollupState,
)
from analytics.tasks import points_recompute_task


class ReadOnlyAdmin(admin.ModelAdmin):
    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ActivityEvent)
class ActivityEventAdmin(ReadOnlyAdmin):
    list_display = [
        "occurred_at",
        "kind",
        "member",
        "community_id",
        "space_id",
        "target_type",
        "target_id",
        "country",
        "organisation_type",
    ]
    list_filter = ["kind", "organisation_type", "target_type"]
    search_fields = ["kind", "member__email", "member__display_name", "country"]
    list_select_related = ["member"]
    date_hierarchy = "occurred_at"
    ordering = ["-occurred_at"]
    # The log grows large: no exact total count on every page load.
    show_full_result_count = False


@admin.register(MemberDay)
class MemberDayAdmin(ReadOnlyAdmin):
    list_display = [
        "day",
        "member_id",
        "community_id",
        "space_id",
        "events",
        "visits",
        "views",
        "contributions",
        "points",
        "country",
        "organisation_type",
    ]
    list_filter = ["organisation_type"]
    search_fields = ["country"]
    date_hierarchy = "day"
    ordering = ["-day", "member_id"]
    show_full_result_count = False


@admin.register(MemberMonth)
class MemberMonthAdmin(ReadOnlyAdmin):
    list_display = ["month", "member_id", "community_id", "space_id", "days", "points", "contributions", "referrals"]
    date_hierarchy = "month"
    ordering = ["-month", "member_id"]
    show_full_result_count = False


@admin.register(MemberEra)
class MemberEraAdmin(ReadOnlyAdmin):
    list_display = ["era", "member_id", "community_id", "space_id", "months", "active_months"]
    ordering = ["-era", "member_id"]
    show_full_result_count = False


@admin.register(MemberStanding)
class MemberStandingAdmin(ReadOnlyAdmin):
    list_display = ["member_id", "community_id", "joined_at", "last_month", "active_months"]
    ordering = ["community_id", "member_id"]
    show_full_result_count = False


@admin.register(ActivityBucket)
class ActivityBucketAdmin(ReadOnlyAdmin):
    list_display = ["bucket", "community_id", "space_id", "country", "organisation_type", "events", "contributions"]
    list_filter = ["organisation_type"]
    search_fields = ["country"]
    date_hierarchy = "bucket"
    ordering = ["-bucket"]
    show_full_result_count = False


@admin.register(RollupState)
class RollupStateAdmin(ReadOnlyAdmin):
    list_display = ["name", "last_event_id", "generation", "updated_at"]


class PointsPolicyForm(forms.ModelForm):
    class Meta:
        model = PointsPolicy
        fields = ["community", "weights", "daily_cap"]

    def clean_weights(self):
        weights = self.cleaned_data["weights"] or {}
        if not isinstance(weights, dict):
            raise forms.ValidationError(_('Give the weights as {"kind": points}, for example {"answer_post": 10}.'))
        for kind, points in weights.items():
            if kind not in DEFAULT_POINTS:
                raise forms.ValidationError(
                    _("“%(kind)s” is not an activity that earns points."), params={"kind": kind}
                )
            if isinstance(points, bool) or not isinstance(points, int) or points < 0:
                raise forms.ValidationError(
                    _("The weight of %(kind)s must be a whole number of 0 or more."), params={"kind": kind}
                )
        return weights


@admin.register(PointsPolicy)
class PointsPolicyAdmin(admin.ModelAdmin):
    form = PointsPolicyForm
    list_display = ["community", "daily_cap", "updated_at", "updated_by"]
    list_select_related = ["community", "updated_by"]
    search_fields = ["community__name"]
    readonly_fields = ["updated_at", "updated_by"]

    def save_model(self, request, obj, form, change) -> None:
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)
        self._recompute([obj.community_id])

    def delete_model(self, request, obj) -> None:
        super().delete_model(request, obj)
        self._recompute([obj.community_id])

    def delete_queryset(self, request, queryset) -> None:
        community_ids = list(queryset.values_list("community_id", flat=True))
        super().delete_queryset(request, queryset)
        self._recompute(community_ids)

    @staticmethod
    def _recompute(community_ids: list[int]) -> None:
        # Every stored day's points follow the new weights and cap (the defaults once the policy is deleted).
        for community_id in community_ids:
            transaction.on_commit(lambda community_id=community_id: points_recompute_task.delay(community_id))
