"""Admin for accounts and profiles. Members log in by e-mail; the @handle is derived from it if left blank."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm
from django.utils.translation import gettext_lazy as _

from members.models import (
    DataExport,
    DigestRecord,
    Expertise,
    Follow,
    Notification,
    NotificationPreferences,
    PersonalAccessToken,
    Profile,
    SpaceMute,
    User,
    username_from_email,
)


class MemberCreationForm(AdminUserCreationForm):
    """Create an account from an e-mail address; the public @handle is derived from it."""

    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("email", "display_name")

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email and not self.instance.username:
            self.instance.username = username_from_email(User.objects.normalize_email(email), User)
        return cleaned


class ProfileInline(admin.StackedInline):
    model = Profile
    can_delete = False
    extra = 0
    max_num = 1
    autocomplete_fields = ["expertise"]
    fields = [
        "organisation",
        "organisation_type",
        "country",
        "job_title",
        "bio",
        "expertise",
        "time_zone",
        "preferred_language",
        "avatar",
        "updated_at",
    ]
    readonly_fields = ["updated_at"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    add_form = MemberCreationForm
    fieldsets = (
        (None, {"fields": ("email", "username", "password")}),
        (_("Personal info"), {"fields": ("display_name", "first_name", "last_name")}),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Important dates"), {"fields": ("last_login", "date_joined", "deleted_at")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("email", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ["last_login", "date_joined", "deleted_at"]
    inlines = [ProfileInline]
    list_display = [
        "email",
        "display_name",
        "username",
        "organisation",
        "country",
        "is_staff",
        "is_active",
        "date_joined",
    ]
    list_filter = ["is_staff", "is_superuser", "is_active", "profile__organisation_type", "groups"]
    search_fields = ["email", "display_name", "username", "first_name", "last_name", "profile__organisation"]
    ordering = ["email"]
    list_select_related = ["profile"]
    date_hierarchy = "date_joined"

    def get_inline_instances(self, request, obj=None):
        # The profile is created by a signal when the account is saved, so it is edited only once it exists.
        if obj is None:
            return []
        return super().get_inline_instances(request, obj)

    @admin.display(description=_("organisation"), ordering="profile__organisation")
    def organisation(self, obj: User) -> str:
        profile = getattr(obj, "profile", None)
        return profile.organisation if profile else ""

    @admin.display(description=_("country"), ordering="profile__country")
    def country(self, obj: User) -> str:
        profile = getattr(obj, "profile", None)
        return profile.country if profile else ""


@admin.register(Profile)
class ProfileAdmin(admin.ModelAdmin):
    list_display = [
        "user",
        "organisation",
        "organisation_type",
        "country",
        "job_title",
        "time_zone",
        "updated_at",
    ]
    list_filter = ["organisation_type", "preferred_language", "country"]
    search_fields = ["user__email", "user__display_name", "organisation", "country", "job_title"]
    autocomplete_fields = ["user", "expertise"]
    list_select_related = ["user"]
    readonly_fields = ["updated_at"]


@admin.register(Expertise)
class ExpertiseAdmin(admin.ModelAdmin):
    list_display = ["name", "profile_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        from django.db.models import Count

        return super().get_queryset(request).annotate(profile_count=Count("profiles"))

    @admin.display(description=_("profiles"), ordering="profile_count")
    def profile_count(self, obj: Expertise) -> int:
        return obj.profile_count


# --- Notifications and digests (issue 5) ---------------------------------------------------------------------
@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["recipient", "kind", "created_at", "read_at", "email_state"]
    list_select_related = ["recipient"]
    list_filter = ["kind", "email_state"]
    search_fields = ["recipient__email"]
    raw_id_fields = ["recipient", "actor", "item", "space"]


@admin.register(NotificationPreferences)
class NotificationPreferencesAdmin(admin.ModelAdmin):
    list_display = ["user", "digest_frequency", "digest_hour", "last_digest_at"]
    list_select_related = ["user"]
    list_filter = ["digest_frequency"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]


@admin.register(Follow)
class FollowAdmin(admin.ModelAdmin):
    list_display = ["follower", "followed", "created"]
    list_select_related = ["follower", "followed"]
    raw_id_fields = ["follower", "followed"]
    search_fields = ["follower__username", "followed__username"]


@admin.register(SpaceMute)
class SpaceMuteAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "created_at"]
    list_select_related = ["user", "space"]
    raw_id_fields = ["user", "space"]


@admin.register(DigestRecord)
class DigestRecordAdmin(admin.ModelAdmin):
    """The digest outbox: read it to see who was sent what, skipped, or left uncertain."""

    list_display = ["user", "frequency", "period_end", "status", "item_count", "sending_at", "sent_at", "preview"]
    list_select_related = ["user"]
    list_filter = ["status", "frequency"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_at", "sending_at", "sent_at"]

    @admin.display(description=_("next digest"))
    def preview(self, obj: DigestRecord) -> str:
        from django.urls import reverse
        from django.utils.html import format_html

        url = reverse("members:digest-preview")
        return format_html('<a href="{}?member={}">{}</a>', url, obj.user_id, _("preview"))


# --- Personal access tokens for the REST API (issue 8) ------------------------------------------------------------
@admin.register(PersonalAccessToken)
class PersonalAccessTokenAdmin(admin.ModelAdmin):
    """Tokens are created by members on their account page; here staff can see them and revoke one (set the
    revoked time). The hash is read-only: the secret itself is never stored."""

    list_display = ["name", "user", "prefix", "scope", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_select_related = ["user"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["prefix", "token_hash", "created_at", "last_used_at"]
    fields = ["user", "name", "scope", "prefix", "token_hash", "created_at", "last_used_at", "expires_at", "revoked_at"]

    def has_add_permission(self, request) -> bool:
        return False  # the secret must be shown to its owner once: members create tokens themselves


# --- Members' downloads of their own data (issue 8, item 5) ---------------------------------------------------------
@admin.register(DataExport)
class DataExportAdmin(admin.ModelAdmin):
    """Read-only: members request exports on their data page; only they download them. The file has no public
    URL (private storage), so the admin shows where it is stored instead of a link."""

    list_display = ["pk", "user", "status", "size", "created_at", "finished_at", "expires_at"]
    list_select_related = ["user"]
    list_filter = ["status"]
    search_fields = ["user__email", "user__username"]
    raw_id_fields = ["user"]
    fields = ["user", "status", "stored_as", "size", "created_at", "started_at", "finished_at", "expires_at", "error"]
    readonly_fields = fields

    @admin.display(description=_("stored as"))
    def stored_as(self, obj) -> str:
        return obj.file.name or "—"

    def has_add_permission(self, request) -> bool:
        return False
