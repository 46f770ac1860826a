"""Members and one's own notifications in the REST API (issue 8).

The member directory is for signed-in members, as on the web (anonymous callers get 401); notifications are
each member's own, filtered by what they may still see (``members.selectors_notifications``).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest
from ninja import Path, Query, Router

from copapp.api_schemas import ID_MAX, Done, ErrorOut, PageParams, user_ref
from copapp.api_support import member_only, paginate, reject_nul, web_url, writes
from members import notifications as notification_services
from members import selectors, selectors_notifications
from members.api_schemas import (
    MemberDetailOut,
    MemberFilters,
    MemberList,
    MeOut,
    NotificationFilters,
    NotificationList,
    NotificationOut,
)
from members.models import OrganisationType

User = get_user_model()
router = Router(tags=["members"])
ERRORS = {code: ErrorOut for code in (401, 403, 404, 422, 429)}


def _member(request: HttpRequest, member, *, detail: bool = False) -> dict:
    profile = getattr(member, "profile", None)
    out = {
        "username": member.username,
        "display_name": member.public_name,
        "job_title": getattr(profile, "job_title", ""),
        "organisation": getattr(profile, "organisation", ""),
        "country": getattr(profile, "country", ""),
        "expertise": [e.name for e in profile.expertise.all()] if profile is not None else [],
        "url": web_url(request, member.get_absolute_url()),
    }
    if detail:
        out.update(
            organisation_type=getattr(profile, "organisation_type", ""),
            bio=getattr(profile, "bio", ""),
            time_zone=getattr(profile, "time_zone", "UTC"),
        )
    return out


@router.get("/members", response={200: MemberList, **ERRORS}, tags=["members"], **member_only())
def member_list(request: HttpRequest, filters: Query[MemberFilters], paging: Query[PageParams]):
    """The member directory: active members, searchable by name, organisation, country and expertise."""
    organisation_type = filters.organisation_type if filters.organisation_type in OrganisationType.values else ""
    members = selectors.member_directory(query=filters.q, country=filters.country, organisation_type=organisation_type)
    page = paginate(request, members, paging)
    page["results"] = [_member(request, member) for member in page["results"]]
    return page


@router.get("/members/{username}", response={200: MemberDetailOut, **ERRORS}, **member_only())
def member_detail(request: HttpRequest, username: str):
    """One member's public profile."""
    reject_nul(username)
    member = (
        User.objects.filter(username=username, is_active=True, deleted_at__isnull=True)
        .select_related("profile")
        .prefetch_related("profile__expertise")
        .first()
    )
    if member is None:
        raise Http404
    return _member(request, member, detail=True)


@router.get("/me", response={200: MeOut, **ERRORS}, tags=["me"], **member_only())
def me(request: HttpRequest):
    """The member making the request (the token's owner)."""
    member = User.objects.select_related("profile").prefetch_related("profile__expertise").get(pk=request.user.pk)
    token = getattr(request, "api_token", None)
    out = _member(request, member, detail=True)
    out.update(email=member.email, is_staff=member.is_staff, token_scope=token.scope if token else None)
    return out


# --- Notifications ----------------------------------------------------------------------------------------------
def _notification(request: HttpRequest, row) -> dict:
    space = row.space
    return {
        "id": row.pk,
        "kind": row.kind,
        "message": row.message,
        "url": web_url(request, row.target_url),
        "actor": user_ref(row.actor),
        "item_id": row.item_id,
        "space": f"{space.community.slug}/{space.slug}" if space is not None else None,
        "created_at": row.created_at,
        "read_at": row.read_at,
    }


@router.get("/me/notifications", response={200: NotificationList, **ERRORS}, tags=["me"], **member_only())
def notification_list(request: HttpRequest, filters: Query[NotificationFilters], paging: Query[PageParams]):
    """Your notifications, newest first; only those about things you may still see."""
    notifications = selectors_notifications.shown_notifications(request.user)
    if filters.unread:
        notifications = notifications.filter(read_at__isnull=True)
    page = paginate(
        request,
        notifications.values_list("pk", flat=True),
        paging,
        prepare=lambda keys: selectors_notifications.notification_rows(selectors_notifications.with_related(keys)),
    )
    page["results"] = [_notification(request, row) for row in page["results"]]
    page["unread_count"] = selectors_notifications.unread_notification_count(request.user)
    return page


@router.post(
    "/me/notifications/{notification_id}/read",
    response={200: NotificationOut, **ERRORS},
    tags=["me"],
    **writes(),
)
def notification_read(request: HttpRequest, notification_id: int = Path(..., ge=1, le=ID_MAX)):
    """Mark one of your notifications read."""
    notification = selectors_notifications.shown_notifications(request.user).filter(pk=notification_id).first()
    if notification is None:
        raise Http404
    notification = selectors_notifications.with_related([notification])[0]
    notification_services.notification_mark_read(actor=request.user, notification=notification)
    return _notification(request, selectors_notifications.notification_rows([notification])[0])


@router.post("/me/notifications/read-all", response={200: Done, **ERRORS}, tags=["me"], **writes())
def notifications_read_all(request: HttpRequest):
    """Mark all your notifications read; ``count`` says how many were unread."""
    return {"ok": True, "count": notification_services.notifications_mark_all_read(actor=request.user)}
