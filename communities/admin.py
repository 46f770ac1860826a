"""Admin for communities, their memberships, introductory questions and onboarding records.

The app's own screens go through communities.services (permissions, onboarding rules); the admin is the site
staff's direct tool. Onboarding records and answers are what members submitted, so they are shown read-only.
"""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from communities.models import Community, CommunityBan, CommunityMembership, IntroAnswer, IntroQuestion, Onboarding


class IntroQuestionInline(admin.TabularInline):
    model = IntroQuestion
    extra = 0
    fields = ["position", "text", "required"]


@admin.register(Community)
class CommunityAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "member_count", "space_count", "time_zone", "created_at"]
    search_fields = ["name", "slug", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["created_by"]
    readonly_fields = ["created_at"]
    inlines = [IntroQuestionInline]
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(member_count=Count("memberships", distinct=True), space_count=Count("spaces", distinct=True))
        )

    @admin.display(description=_("members"), ordering="member_count")
    def member_count(self, obj: Community) -> int:
        return obj.member_count

    @admin.display(description=_("spaces"), ordering="space_count")
    def space_count(self, obj: Community) -> int:
        return obj.space_count


@admin.register(CommunityMembership)
class CommunityMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "role", "is_focal_point", "country", "joined_at"]
    list_filter = ["community", "role", "is_focal_point"]
    search_fields = ["user__email", "user__display_name", "user__username", "community__name"]
    autocomplete_fields = ["user", "community"]
    list_select_related = ["user__profile", "community"]
    readonly_fields = ["joined_at"]

    @admin.display(description=_("country"), ordering="user__profile__country")
    def country(self, obj: CommunityMembership) -> str:
        profile = getattr(obj.user, "profile", None)
        return profile.country if profile else ""


@admin.register(IntroQuestion)
class IntroQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "community", "position", "required"]
    list_filter = ["community", "required"]
    search_fields = ["text", "community__name"]
    list_select_related = ["community"]
    autocomplete_fields = ["community"]


@admin.register(Onboarding)
class OnboardingAdmin(admin.ModelAdmin):
    list_display = ["user", "community", "accepted_at"]
    list_filter = ["community"]
    search_fields = ["user__email", "user__display_name", "community__name"]
    list_select_related = ["user", "community"]
    readonly_fields = ["user", "community", "accepted_at", "guidelines_accepted"]
    date_hierarchy = "accepted_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IntroAnswer)
class IntroAnswerAdmin(admin.ModelAdmin):
    list_display = ["user", "question", "community", "short_text", "answered_at"]
    list_filter = ["question__community"]
    search_fields = ["user__email", "user__display_name", "text", "question__text"]
    list_select_related = ["user", "question__community"]
    readonly_fields = ["user", "question", "text", "answered_at"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=_("community"), ordering="question__community__name")
    def community(self, obj: IntroAnswer) -> Community:
        return obj.question.community

    @admin.display(description=_("answer"))
    def short_text(self, obj: IntroAnswer) -> str:
        return obj.text if len(obj.text) <= 80 else obj.text[:77] + "..."


@admin.register(CommunityBan)
class CommunityBanAdmin(admin.ModelAdmin):
    """Bans are set from the review queue (which also bans from every space); here they are listed."""

    list_display = ["user", "community", "banned_by", "created_at"]
    list_select_related = ["user", "community", "banned_by"]
    search_fields = ["user__email", "reason"]
    raw_id_fields = ["user", "community", "banned_by"]
