"""The activity log in the admin: append-only, so it can be browsed and filtered but never added to, edited or
deleted from here."""

from django.contrib import admin

from analytics.models import ActivityEvent


@admin.register(ActivityEvent)
class ActivityEventAdmin(admin.ModelAdmin):
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

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
