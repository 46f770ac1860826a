"""Admin for spaces, their members, requests, invitations, bans, items and individual (guardian) grants.

The app's own screens go through spaces.services (permissions, at-least-one-admin, ban rules); the admin is
the site staff's direct tool. Spaces use guardian's admin, whose "Object permissions" page grants a role on
one space to one person. The grant tables are listed read-only here (a grant can be withdrawn by deleting it).
"""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from guardian.admin import GuardedModelAdmin

from spaces.models import (
    Bookmark,
    Event,
    FeedToken,
    Flag,
    Invitation,
    Item,
    ItemGroupObjectPermission,
    ItemUserObjectPermission,
    JoinRequest,
    Mention,
    Milestone,
    ModerationLogEntry,
    Paper,
    Poll,
    PollOption,
    PollVote,
    Post,
    Reaction,
    Registration,
    RegistrationQuestion,
    SearchWord,
    SearchWordQueue,
    Space,
    SpaceBan,
    SpaceGroupObjectPermission,
    SpaceMembership,
    SpaceUserObjectPermission,
    WorkPlan,
)


def _refresh_member_counts(space_ids) -> None:
    """Keep Space.member_count right when memberships are edited here rather than through the services."""
    for space_id in set(space_ids):
        count = SpaceMembership.objects.filter(space_id=space_id).count()
        Space.objects.filter(pk=space_id).update(member_count=count)


@admin.register(Space)
class SpaceAdmin(GuardedModelAdmin):
    list_display = [
        "name",
        "community",
        "visibility",
        "default_role",
        "member_count",
        "is_archived",
        "created_at",
    ]
    list_filter = ["community", "visibility", "default_role", "is_archived"]
    search_fields = ["name", "slug", "description", "community__name"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["community", "created_by"]
    readonly_fields = ["member_count", "created_at", "archived_at"]
    list_select_related = ["community"]
    date_hierarchy = "created_at"
    fieldsets = [
        (None, {"fields": ["community", "name", "slug", "description"]}),
        (_("Access"), {"fields": ["visibility", "default_role"]}),
        (_("State"), {"fields": ["is_archived", "archived_at", "member_count", "created_by", "created_at"]}),
    ]


@admin.register(SpaceMembership)
class SpaceMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "community", "role", "joined_at"]
    list_filter = ["role", "space__community", "space__visibility"]
    search_fields = ["user__email", "user__display_name", "user__username", "space__name"]
    autocomplete_fields = ["user", "space"]
    list_select_related = ["user", "space__community"]
    readonly_fields = ["joined_at"]
    date_hierarchy = "joined_at"

    @admin.display(description=_("community"), ordering="space__community__name")
    def community(self, obj: SpaceMembership):
        return obj.space.community

    def save_model(self, request, obj, form, change):
        previous_space_id = form.initial.get("space") if change else None
        super().save_model(request, obj, form, change)
        _refresh_member_counts([obj.space_id, *([previous_space_id] if previous_space_id else [])])

    def delete_model(self, request, obj):
        space_id = obj.space_id
        super().delete_model(request, obj)
        _refresh_member_counts([space_id])

    def delete_queryset(self, request, queryset):
        space_ids = list(queryset.values_list("space_id", flat=True))
        super().delete_queryset(request, queryset)
        _refresh_member_counts(space_ids)


@admin.register(SpaceBan)
class SpaceBanAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "banned_by", "reason", "created_at"]
    list_filter = ["space__community"]
    search_fields = ["user__email", "user__display_name", "space__name", "reason"]
    autocomplete_fields = ["user", "space", "banned_by"]
    list_select_related = ["user", "space", "banned_by"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(JoinRequest)
class JoinRequestAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "status", "created_at", "decided_by", "decided_at"]
    list_filter = ["status", "space__community", "space"]
    search_fields = ["user__email", "user__display_name", "space__name", "message"]
    autocomplete_fields = ["user", "space", "decided_by"]
    list_select_related = ["user", "space", "decided_by"]
    readonly_fields = ["created_at"]
    date_hierarchy = "created_at"


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "space",
        "role",
        "status",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_at",
    ]
    list_filter = ["status", "role", "space__community"]
    search_fields = ["email", "invitee__display_name", "space__name", "message"]
    autocomplete_fields = ["space", "invitee", "invited_by", "accepted_by"]
    list_select_related = ["space", "invited_by"]
    readonly_fields = ["created_at", "accepted_at", "accepted_by"]
    date_hierarchy = "created_at"


@admin.register(Item)
class ItemAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "space", "author", "moderation_state", "is_restricted", "created_at"]
    list_filter = ["kind", "moderation_state", "is_restricted", "space__community"]
    search_fields = ["title", "author__email", "author__display_name", "space__name"]
    autocomplete_fields = ["space", "author"]
    list_select_related = ["space", "author"]
    readonly_fields = ["created_at", "updated_at"]
    date_hierarchy = "created_at"


# --- Individual grants (django-guardian direct foreign-key tables) ------------------------------------------
class GrantAdmin(admin.ModelAdmin):
    """Grants, read-only; deleting one withdraws it. New grants: the object's "Object permissions" page."""

    list_filter = [("permission", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["permission", "content_object"]
    readonly_fields = ["permission", "content_object"]

    @admin.display(description=_("permission"), ordering="permission__codename")
    def permission_name(self, obj) -> str:
        return obj.permission.name

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class UserGrantAdmin(GrantAdmin):
    list_display = ["user", "permission_name", "content_object"]
    search_fields = ["user__email", "user__display_name", "user__username"]
    list_select_related = [*GrantAdmin.list_select_related, "user"]
    readonly_fields = ["user", *GrantAdmin.readonly_fields]


class GroupGrantAdmin(GrantAdmin):
    list_display = ["group", "permission_name", "content_object"]
    search_fields = ["group__name"]
    list_select_related = [*GrantAdmin.list_select_related, "group"]
    readonly_fields = ["group", *GrantAdmin.readonly_fields]


@admin.register(SpaceUserObjectPermission)
class SpaceUserObjectPermissionAdmin(UserGrantAdmin):
    list_filter = [*GrantAdmin.list_filter, "content_object__community"]
    search_fields = [*UserGrantAdmin.search_fields, "content_object__name"]
    list_select_related = [*UserGrantAdmin.list_select_related, "content_object__community"]


@admin.register(SpaceGroupObjectPermission)
class SpaceGroupObjectPermissionAdmin(GroupGrantAdmin):
    list_filter = [*GrantAdmin.list_filter, "content_object__community"]
    search_fields = [*GroupGrantAdmin.search_fields, "content_object__name"]


@admin.register(ItemUserObjectPermission)
class ItemUserObjectPermissionAdmin(UserGrantAdmin):
    search_fields = [*UserGrantAdmin.search_fields, "content_object__title"]


@admin.register(ItemGroupObjectPermission)
class ItemGroupObjectPermissionAdmin(GroupGrantAdmin):
    search_fields = [*GroupGrantAdmin.search_fields, "content_object__title"]


# --- Content ---------------------------------------------------------------------------------------------------------
from simple_history.admin import SimpleHistoryAdmin  # noqa: E402

from spaces.models import (  # noqa: E402
    Comment,
    FileAsset,
    FileVersion,
    Page,
    PageDraft,
    PageEditPresence,
    PageTemplate,
    Watch,
)


@admin.register(Page)
class PageAdmin(SimpleHistoryAdmin):
    """Page history (versions) opens from each page's "History" button; edits here write a version too."""

    list_display = ["title", "space", "version", "last_edited_by", "last_edited_at"]
    list_select_related = ["space", "last_edited_by"]
    search_fields = ["title", "slug"]
    raw_id_fields = ["item", "space", "parent", "created_by", "last_edited_by"]
    readonly_fields = ["body_html", "version"]


@admin.register(PageTemplate)
class PageTemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "space"]
    list_select_related = ["space"]
    search_fields = ["name"]
    raw_id_fields = ["space"]


@admin.register(PageDraft)
class PageDraftAdmin(admin.ModelAdmin):
    list_display = ["user", "page", "space", "updated_at"]
    list_select_related = ["user", "page", "space"]
    raw_id_fields = ["user", "page", "space"]


@admin.register(PageEditPresence)
class PageEditPresenceAdmin(admin.ModelAdmin):
    list_display = ["page", "user", "seen_at"]
    list_select_related = ["page", "user"]
    raw_id_fields = ["page", "user"]


class FileVersionInline(admin.TabularInline):
    model = FileVersion
    extra = 0
    fields = ["number", "original_name", "size", "content_type", "uploaded_by", "uploaded_at"]
    readonly_fields = fields


@admin.register(FileAsset)
class FileAssetAdmin(admin.ModelAdmin):
    list_display = ["name", "space", "page", "version_count"]
    list_select_related = ["space", "page"]
    search_fields = ["name"]
    raw_id_fields = ["item", "space", "page", "current_version"]
    inlines = [FileVersionInline]


@admin.register(FileVersion)
class FileVersionAdmin(admin.ModelAdmin):
    list_display = ["original_name", "asset", "number", "size", "content_type", "uploaded_by", "uploaded_at"]
    list_select_related = ["asset", "uploaded_by"]
    search_fields = ["original_name", "sha256"]
    raw_id_fields = ["asset", "uploaded_by"]
    # The blob has no public URL (private storage); show where it is stored instead of a link.
    exclude = ["file"]
    readonly_fields = ["stored_as", "sha256", "size", "content_type"]

    @admin.display(description=_("stored as"))
    def stored_as(self, obj: FileVersion) -> str:
        return obj.file.name


@admin.register(Comment)
class CommentAdmin(SimpleHistoryAdmin):
    list_display = ["pk", "target", "author", "created_at", "edited_at"]
    list_select_related = ["target", "author"]
    search_fields = ["body"]
    raw_id_fields = ["item", "target", "parent", "author"]
    readonly_fields = ["body_html"]


@admin.register(Watch)
class WatchAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "space", "created_at"]
    list_select_related = ["user", "item", "space"]
    raw_id_fields = ["user", "item", "space"]


# --- Questions and answers (issue 4) ------------------------------------------------------------------------
# Counters (answer count, vote score) are kept by spaces.services.questions; they are read-only here.
from spaces.models import Answer, Question, Tag, Vote  # noqa: E402


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "space"]
    list_select_related = ["space"]
    search_fields = ["name", "slug"]
    raw_id_fields = ["space"]


class AnswerInline(admin.TabularInline):
    model = Answer
    extra = 0
    fields = ["vote_score", "created_at"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Question)
class QuestionAdmin(SimpleHistoryAdmin):
    list_display = ["title", "space", "answer_count", "vote_score", "created_at"]
    list_select_related = ["space"]
    search_fields = ["title", "body"]
    raw_id_fields = ["item", "space", "accepted_answer", "last_edited_by"]
    readonly_fields = ["body_html", "answer_count", "vote_score", "version"]
    filter_horizontal = ["tags"]
    inlines = [AnswerInline]


@admin.register(Answer)
class AnswerAdmin(SimpleHistoryAdmin):
    list_display = ["pk", "question", "vote_score", "created_at"]
    list_select_related = ["question"]
    search_fields = ["body"]
    raw_id_fields = ["item", "question", "last_edited_by"]
    readonly_fields = ["body_html", "vote_score", "version"]


@admin.register(Vote)
class VoteAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "created_at"]
    list_select_related = ["user", "item"]
    raw_id_fields = ["user", "item"]


# --- Events, posts, polls, work plan (issue 4) ---------------------------------------------------------------
class RegistrationQuestionInline(admin.TabularInline):
    model = RegistrationQuestion
    extra = 0


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["title", "space", "starts_at", "timezone", "capacity", "going_count", "waitlist_count"]
    list_select_related = ["space"]
    list_filter = ["papers_open"]
    search_fields = ["title", "description", "venue"]
    raw_id_fields = ["item", "space", "last_edited_by"]
    readonly_fields = ["description_html", "going_count", "maybe_count", "waitlist_count"]
    inlines = [RegistrationQuestionInline]


@admin.register(RegistrationQuestion)
class RegistrationQuestionAdmin(admin.ModelAdmin):
    list_display = ["label", "event", "kind", "required"]
    list_select_related = ["event"]
    search_fields = ["label"]
    raw_id_fields = ["event"]


@admin.register(Registration)
class RegistrationAdmin(admin.ModelAdmin):
    """Registrations change through the event page (capacity and waiting list are kept by its service)."""

    list_display = ["user", "event", "status", "attended", "status_changed_at"]
    list_select_related = ["user", "event"]
    list_filter = ["status", "attended"]
    search_fields = ["user__email", "event__title"]
    raw_id_fields = ["event", "user", "attendance_marked_by"]
    readonly_fields = ["status", "status_changed_at"]


@admin.register(Paper)
class PaperAdmin(admin.ModelAdmin):
    list_display = ["title", "event", "author", "status", "submitted_at"]
    list_select_related = ["event", "author"]
    list_filter = ["status"]
    search_fields = ["title", "abstract"]
    raw_id_fields = ["event", "author", "decided_by"]
    # The file has no public URL (private storage): show where it is stored instead of a link.
    exclude = ["file"]
    readonly_fields = ["stored_as", "abstract_html", "file_name", "file_size", "file_content_type"]

    @admin.display(description=_("stored as"))
    def stored_as(self, obj: Paper) -> str:
        return obj.file.name


@admin.register(FeedToken)
class FeedTokenAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "created_at", "last_used_at"]
    list_select_related = ["user", "space"]
    search_fields = ["user__email"]
    raw_id_fields = ["user", "space"]
    readonly_fields = ["token"]


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ["pk", "space", "is_pinned", "is_announcement", "published_at", "created_at"]
    list_select_related = ["space"]
    list_filter = ["is_pinned", "is_announcement"]
    search_fields = ["body"]
    raw_id_fields = ["item", "space"]
    readonly_fields = ["body_html"]


@admin.register(Reaction)
class ReactionAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "created_at"]
    list_select_related = ["user", "item"]
    raw_id_fields = ["user", "item"]


@admin.register(Bookmark)
class BookmarkAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "created_at"]
    list_select_related = ["user", "item"]
    raw_id_fields = ["user", "item"]


@admin.register(Mention)
class MentionAdmin(admin.ModelAdmin):
    list_display = ["user", "item", "created_at"]
    list_select_related = ["user", "item"]
    raw_id_fields = ["user", "item"]


class PollOptionInline(admin.TabularInline):
    model = PollOption
    extra = 0
    readonly_fields = ["vote_count"]


@admin.register(Poll)
class PollAdmin(admin.ModelAdmin):
    list_display = ["question", "space", "multiple", "closes_at", "voter_count"]
    list_select_related = ["space"]
    search_fields = ["question"]
    raw_id_fields = ["item", "space"]
    readonly_fields = ["description_html", "voter_count"]
    inlines = [PollOptionInline]


@admin.register(PollOption)
class PollOptionAdmin(admin.ModelAdmin):
    list_display = ["label", "poll", "vote_count"]
    list_select_related = ["poll"]
    search_fields = ["label"]
    raw_id_fields = ["poll"]


@admin.register(PollVote)
class PollVoteAdmin(admin.ModelAdmin):
    list_display = ["user", "option", "poll", "created_at"]
    list_select_related = ["user", "option", "poll"]
    raw_id_fields = ["user", "option", "poll"]


@admin.register(WorkPlan)
class WorkPlanAdmin(admin.ModelAdmin):
    list_display = ["product", "space", "due_date", "updated_at"]
    list_select_related = ["space"]
    search_fields = ["product"]
    raw_id_fields = ["space", "updated_by"]


@admin.register(Milestone)
class MilestoneAdmin(admin.ModelAdmin):
    list_display = ["title", "space", "due_date", "owner", "status"]
    list_select_related = ["space", "owner"]
    list_filter = ["status"]
    search_fields = ["title"]
    raw_id_fields = ["space", "owner"]
    filter_horizontal = ["linked_items"]


# --- Flags and the moderation log (issue 5) ------------------------------------------------------------------
@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    list_display = ["reason", "target_type", "target_id", "space", "flagger", "status", "weight", "created_at"]
    list_select_related = ["space", "flagger", "target_type"]
    list_filter = ["status", "reason"]
    search_fields = ["note", "flagger__email"]
    raw_id_fields = ["item", "space", "community", "flagger", "target_author", "resolved_by"]


@admin.register(ModerationLogEntry)
class ModerationLogEntryAdmin(admin.ModelAdmin):
    """The audit log is never editable, not even here."""

    list_display = ["created_at", "action", "actor", "target_label", "space", "community"]
    list_select_related = ["actor", "space", "community"]
    list_filter = ["action"]
    search_fields = ["target_label", "reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


from spaces.models import SpaceVisit  # noqa: E402


@admin.register(SpaceVisit)
class SpaceVisitAdmin(admin.ModelAdmin):
    list_display = ["user", "space", "last_visit_at"]
    list_select_related = ["user", "space"]
    raw_id_fields = ["user", "space"]


# --- Outgoing webhooks (issue 8): managed by space admins in the site; here for site staff ----------------------
from spaces.models import Webhook, WebhookDelivery  # noqa: E402
from spaces.webhooks import WebhookAddressError, check_url  # noqa: E402


class WebhookAdminForm(forms.ModelForm):
    """The same address check as the space admins' form: private networks refused at save time too."""

    class Meta:
        model = Webhook
        fields = ["space", "name", "url", "format", "is_active", "send_created", "send_changed", "created_by"]

    def clean_url(self):
        url = self.cleaned_data["url"]
        if url and (self.instance.pk is None or url != self.instance.url):
            try:
                check_url(url)
            except WebhookAddressError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return url


@admin.register(Webhook)
class WebhookAdmin(admin.ModelAdmin):
    """Site staff's view of every space's webhooks; the address is checked on save as in the space's settings
    (and again before every delivery)."""

    form = WebhookAdminForm
    list_display = ["name", "space", "format", "is_active", "send_created", "send_changed", "created_at"]
    list_select_related = ["space"]
    list_filter = ["format", "is_active"]
    search_fields = ["name", "url"]
    raw_id_fields = ["space", "created_by"]
    readonly_fields = ["secret", "created_at", "updated_at"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "url":
            kwargs["assume_scheme"] = "https"
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    """The delivery log: read-only, as it records what was sent."""

    list_display = ["created_at", "webhook", "event", "status", "attempts", "status_code", "last_attempt_at"]
    list_select_related = ["webhook"]
    list_filter = ["status", "event"]
    search_fields = ["webhook__name", "error"]
    raw_id_fields = ["webhook", "item"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- Courses (issue 9, item 3) ----------------------------------------------------------------------------------
from spaces.models import (  # noqa: E402
    Course,
    Enrolment,
    Lesson,
    LessonCompletion,
    Quiz,
    QuizAttempt,
    QuizOption,
    QuizQuestion,
)


class LessonInline(admin.TabularInline):
    model = Lesson
    extra = 0
    raw_id_fields = ["page"]


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    list_display = ["title", "space", "is_published", "created_at"]
    list_select_related = ["space"]
    list_filter = ["is_published"]
    search_fields = ["title", "description"]
    raw_id_fields = ["space", "created_by"]
    readonly_fields = ["description_html", "published_at", "created_at", "updated_at"]
    inlines = [LessonInline]


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ["course", "page", "position"]
    list_select_related = ["course", "page"]
    search_fields = ["course__title", "page__title"]
    raw_id_fields = ["course", "page"]


class QuizQuestionInline(admin.TabularInline):
    model = QuizQuestion
    extra = 0


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ["lesson", "pass_mark", "updated_at"]
    search_fields = ["lesson__page__title", "lesson__course__title"]
    raw_id_fields = ["lesson"]
    inlines = [QuizQuestionInline]


class QuizOptionInline(admin.TabularInline):
    model = QuizOption
    extra = 0


@admin.register(QuizQuestion)
class QuizQuestionAdmin(admin.ModelAdmin):
    list_display = ["text", "quiz", "multiple", "position"]
    search_fields = ["text"]
    raw_id_fields = ["quiz"]
    inlines = [QuizOptionInline]


@admin.register(QuizOption)
class QuizOptionAdmin(admin.ModelAdmin):
    list_display = ["label", "question", "is_correct", "position"]
    search_fields = ["label"]
    raw_id_fields = ["question"]


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["user", "course", "enrolled_at", "completed_at"]
    list_select_related = ["user", "course"]
    search_fields = ["user__email", "user__display_name", "course__title"]
    raw_id_fields = ["user", "course"]


@admin.register(LessonCompletion)
class LessonCompletionAdmin(admin.ModelAdmin):
    list_display = ["user", "lesson", "completed_at"]
    list_select_related = ["user"]
    search_fields = ["user__email", "lesson__page__title"]
    raw_id_fields = ["user", "lesson"]


@admin.register(QuizAttempt)
class QuizAttemptAdmin(admin.ModelAdmin):
    """Attempts are a record of what was submitted: read-only."""

    list_display = ["user", "quiz", "score", "passed", "created_at"]
    list_select_related = ["user"]
    list_filter = ["passed"]
    search_fields = ["user__email", "quiz__lesson__page__title"]
    raw_id_fields = ["user", "quiz"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchWord)
class SearchWordAdmin(admin.ModelAdmin):
    """The words search corrects misspellings to: kept by the database (read-only here); a word that should not be
    offered can be deleted, and comes back only if an item is written with it again."""

    list_display = ["word", "documents"]
    search_fields = ["word"]
    ordering = ["-documents", "word"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(SearchWordQueue)
class SearchWordQueueAdmin(admin.ModelAdmin):
    """New words of items written lately, on their way into the word list (read-only: the database fills the
    queue, ``search_words_collect`` empties it); deleting one only keeps it off the list until written again."""

    list_display = ["word"]
    search_fields = ["word"]
    ordering = ["word", "pk"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
