"""The notifications page, marking read, preferences and muting a space (issue 5, items 5-6)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from copapp.utils import PeekPage, add_service_errors, safe_next
from members import notifications as services
from members import selectors_notifications as selectors
from members.forms_notifications import NotificationPreferencesForm
from spaces.models import Space

PAGE_SIZE = 25


def _page(request, number=None):
    """One page of the member's notifications, without a total: the keenest members have thousands, and counting
    the ones still visible to them checked every one (120 ms at scale) for a "Page 3 of 82" nobody needs."""
    keys = selectors.shown_notifications(request.user).values_list("pk", flat=True)
    page = PeekPage(keys, number or request.GET.get("page"), PAGE_SIZE)
    rows = selectors.with_related(page.object_list, links=False)
    return page, selectors.notification_rows(rows, links=False)


def _notification(request, notification_id):
    """One of the member's notifications they may still see, with its related rows; 404 otherwise."""
    found = get_object_or_404(selectors.shown_notifications(request.user), pk=notification_id)
    return selectors.with_related([found])[0]


@login_required
def notification_list(request):
    page, rows = _page(request)
    template = "members/partials/notification_list.html" if request.htmx else "members/notifications.html"
    return render(request, template, {"page": page, "notifications": rows})


@login_required
def notification_open(request, notification_id):
    """Follow a notification: it is marked read, and the member goes where it points (404 if they can no longer
    see its item, exactly as the item itself would answer)."""
    notification = _notification(request, notification_id)
    services.notification_mark_read(actor=request.user, notification=notification)
    return redirect(selectors.notification_target(notification))


@login_required
@require_POST
def notification_read(request, notification_id):
    notification = _notification(request, notification_id)
    services.notification_mark_read(actor=request.user, notification=notification)
    if request.htmx:
        row = selectors.notification_rows([notification])[0]
        return render(request, "members/partials/notification_item.html", {"notification": row, "oob_count": True})
    return redirect(safe_next(request, reverse("members:notifications")))


@login_required
@require_POST
def notifications_read_all(request):
    count = services.notifications_mark_all_read(actor=request.user)
    if request.htmx:
        page, rows = _page(request, request.POST.get("page"))
        context = {"page": page, "notifications": rows, "oob_count": True}
        return render(request, "members/partials/notification_list.html", context)
    if count:
        messages.success(request, _("All notifications marked read."))
    return redirect(safe_next(request, reverse("members:notifications")))


@login_required
@require_http_methods(["GET", "POST"])
def notification_preferences(request):
    preferences = selectors.notification_preferences_of(request.user)
    form = NotificationPreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        try:
            services.notification_preferences_update(actor=request.user, user=request.user, **form.service_kwargs())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Notification settings saved."))
            return redirect("members:notification-preferences")
    context = {"form": form, "mutes": selectors.muted_spaces(request.user)}
    return render(request, "members/notification_preferences.html", context)


@login_required
@require_POST
def space_mute_toggle(request, community_slug, space_slug):
    """Mute or unmute a space. Unmuting works even for a space the member can no longer see; muting one they
    cannot see answers 404, as the space itself would."""
    space = get_object_or_404(
        Space.objects.select_related("community"), community__slug=community_slug, slug=space_slug
    )
    muted = not selectors.is_muted(request.user, space)
    try:
        muted = services.space_mute_set(actor=request.user, space=space, muted=muted)
    except PermissionDenied:
        raise Http404 from None
    if request.htmx:
        context = {"show": True, "muted": muted, "space": space, "next": safe_next(request, space.get_absolute_url())}
        return render(request, "members/partials/mute_button.html", context)
    if muted:
        messages.success(
            request, _("Muted: you will hear from %(space)s only when something is for you.") % {"space": space.name}
        )
    else:
        messages.success(request, _("Unmuted %(space)s.") % {"space": space.name})
    return redirect(safe_next(request, space.get_absolute_url()))
