from django.db import transaction
from django.db.models import Q
from django.db.models.signals import m2m_changed, post_delete, post_migrate, post_save
from django.dispatch import receiver

from communities.models import CommunityMembership
from copapp import rolecache
from copapp.signals import account_erasing, community_ban_lifting, community_ban_set
from spaces import permissions
from spaces.models import (
    Answer,
    Comment,
    Event,
    FileAsset,
    Invitation,
    Item,
    ItemKind,
    ItemUserObjectPermission,
    JoinRequest,
    Page,
    PageDraft,
    PageEditPresence,
    Poll,
    Post,
    Question,
    Space,
    SpaceBan,
    SpaceMembership,
    SpaceUserObjectPermission,
    Watch,
)


@receiver(account_erasing)
def erase_member_data(sender, user, **kwargs) -> None:
    """A deleted account leaves no personal data in spaces; what the member wrote stays, as by "former member"."""
    space_ids = list(SpaceMembership.objects.filter(user=user).values_list("space_id", flat=True))
    SpaceMembership.objects.filter(user=user).delete()
    for space in Space.objects.filter(pk__in=space_ids):
        Space.objects.filter(pk=space.pk).update(member_count=space.memberships.count())
    JoinRequest.objects.filter(user=user).delete()
    Invitation.objects.filter(Q(invitee=user) | Q(email__iexact=user.email)).delete()
    PageDraft.objects.filter(user=user).delete()
    PageEditPresence.objects.filter(user=user).delete()
    Watch.objects.filter(user=user).delete()
    user.feed_tokens.all().delete()  # secret calendar links stop at once
    permissions.forget_access_context(user)


# --- Community bans reach every space of the community (issue 5) ------------------------------------------------
@receiver(community_ban_set)
def apply_community_ban(sender, ban, actor, **kwargs) -> None:
    from spaces.services.moderation import community_ban_apply

    community_ban_apply(ban=ban, actor=actor)


@receiver(community_ban_lifting)
def lift_community_ban(sender, ban, actor, reason="", **kwargs) -> None:
    from spaces.services.moderation import community_ban_lift

    community_ban_lift(ban=ban, actor=actor, reason=reason)


# --- Search: every write of an item's text reaches its search text (issue 7) --------------------------------------
# Which fields of each typed model feed the search text; a save that names none of them (a counter, a pin) is
# skipped. The title lives on the Item row itself, where the database triggers pick it up.
_SEARCH_TEXT_FIELDS = {
    "page": {"body"},
    "question": {"body"},
    "answer": {"body"},
    "event": {"description", "venue"},
    "post": {"body"},
    "poll": {"description"},
    "comment": {"body"},
    "fileasset": {"description"},
}


def _touches_text(sender, update_fields) -> bool:
    return update_fields is None or bool(_SEARCH_TEXT_FIELDS[sender._meta.model_name] & set(update_fields))


def _index_item_of(instance, kind: str) -> None:
    from spaces.search_index import search_index_item

    # The service's own Item object, when it is at hand, gets the new text too, so a later full save() of it
    # cannot write an empty search text back.
    cached = type(instance)._meta.get_field("item").is_cached(instance)
    search_index_item(instance.item if cached else Item(pk=instance.item_id, kind=kind))


@receiver(post_save, sender=Page, dispatch_uid="spaces.search.page")
@receiver(post_save, sender=Question, dispatch_uid="spaces.search.question")
@receiver(post_save, sender=Answer, dispatch_uid="spaces.search.answer")
@receiver(post_save, sender=Event, dispatch_uid="spaces.search.event")
@receiver(post_save, sender=Post, dispatch_uid="spaces.search.post")
@receiver(post_save, sender=Comment, dispatch_uid="spaces.search.comment")
def index_content(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    if not raw and _touches_text(sender, update_fields):
        _index_item_of(instance, sender._meta.model_name)


@receiver(post_save, sender=Poll, dispatch_uid="spaces.search.poll")
def index_poll(sender, instance, created=False, raw=False, update_fields=None, **kwargs) -> None:
    if raw:
        return
    if _touches_text(sender, update_fields):
        _index_item_of(instance, ItemKind.POLL)
    if created:
        # The options are bulk-created after the poll row (no post_save for them): index again once they exist.
        transaction.on_commit(lambda: _index_item_of(instance, ItemKind.POLL))


@receiver(m2m_changed, sender=Question.tags.through, dispatch_uid="spaces.search.question_tags")
def index_question_tags(sender, instance, action, reverse=False, **kwargs) -> None:
    if not reverse and action in ("post_add", "post_remove", "post_clear"):
        _index_item_of(instance, ItemKind.QUESTION)


@receiver(post_save, sender=FileAsset, dispatch_uid="spaces.search.file")
def index_file(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    """Name and description at once; the text inside the file after commit, in a task (it may take a while)."""
    if raw:
        return
    if _touches_text(sender, update_fields):
        _index_item_of(instance, ItemKind.FILE)
    if instance.current_version_id and (update_fields is None or "current_version" in update_fields):
        from spaces.tasks import file_text_extract_task

        asset_id = instance.pk
        transaction.on_commit(lambda: file_text_extract_task.delay(asset_id))


@receiver(post_migrate, dispatch_uid="spaces.search.sqlite_triggers")
def restore_search_triggers(sender, using="default", **kwargs) -> None:
    if sender.name == "spaces":
        from spaces.search_index import ensure_sqlite_triggers

        ensure_sqlite_triggers(using)


# --- Outgoing webhooks: new and changed content, from the activity events the services record (issue 8) ----------
@receiver(post_save, sender="analytics.ActivityEvent", dispatch_uid="spaces.webhooks.on_activity")
def webhooks_on_activity(sender, instance, created=False, raw=False, **kwargs) -> None:
    """Hands content created or changed to the webhooks after commit (nothing is queried before it)."""
    if created and not raw:
        from spaces.services.webhooks import webhooks_on_activity as on_activity

        on_activity(instance)


# --- Roles: any change, however it is made (a service, the admin, a cascade), retires the roles held in memory ---
@receiver(post_save, sender=SpaceMembership, dispatch_uid="spaces.roles.membership_saved")
@receiver(post_delete, sender=SpaceMembership, dispatch_uid="spaces.roles.membership_deleted")
@receiver(post_save, sender=CommunityMembership, dispatch_uid="spaces.roles.community_saved")
@receiver(post_delete, sender=CommunityMembership, dispatch_uid="spaces.roles.community_deleted")
@receiver(post_save, sender=SpaceBan, dispatch_uid="spaces.roles.ban_saved")
@receiver(post_delete, sender=SpaceBan, dispatch_uid="spaces.roles.ban_deleted")
@receiver(post_save, sender=SpaceUserObjectPermission, dispatch_uid="spaces.roles.grant_saved")
@receiver(post_delete, sender=SpaceUserObjectPermission, dispatch_uid="spaces.roles.grant_deleted")
@receiver(post_save, sender=ItemUserObjectPermission, dispatch_uid="spaces.roles.named_saved")
@receiver(post_delete, sender=ItemUserObjectPermission, dispatch_uid="spaces.roles.named_deleted")
# the roles carry the site's open spaces and the spaces of each community (permissions._roles_of)
@receiver(post_save, sender=Space, dispatch_uid="spaces.roles.space_saved")
@receiver(post_delete, sender=Space, dispatch_uid="spaces.roles.space_deleted")
def roles_changed(sender, **kwargs) -> None:
    rolecache.bump()
