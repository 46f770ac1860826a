"""Digest pages: the preview (what a member's digest would hold now) and the one-click unsubscribe link."""

from csp.decorators import csp_update
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from members import digests, services_digests
from members.models import DigestFrequency, DigestRecord, Notification, NotificationKind

User = get_user_model()
PREVIEW_RECORDS = 10


# The preview shows the e-mail as it will arrive, with the inline styles mail clients need: style attributes
# (never scripts) are allowed on this page only.
@csp_update({"style-src-attr": ["'unsafe-inline'"]})
@login_required
@require_GET
def digest_preview(request):
    """The digest a member would get now, composed exactly as the job would, without sending or recording
    anything. Members see their own; site staff may see anyone's with ``?member=<id>``."""
    member = request.user
    if "member" in request.GET:
        if not request.user.is_staff:
            raise PermissionDenied
        member_id = request.GET["member"]
        member = get_object_or_404(User, pk=int(member_id) if member_id.isdigit() else 0)
    member = digests.load_members([member.pk])[member.pk]
    job = digests.preview_job(member, timezone.now())
    digest = digests.compose_digests([job])[0]
    if member.pk != request.user.pk:
        # Direct messages stay between their participants: staff previewing someone's digest see none of them.
        digest.messages = []
        private = set(
            Notification.objects.filter(pk__in=digest.notification_ids, kind=NotificationKind.MESSAGE).values_list(
                "pk", flat=True
            )
        )
        digest.notifications = [n for n in digest.notifications if n.notification_id not in private]
    prefs = digests.prefs_of(member)
    context = {
        "member": member,
        "digest": digest,
        "outcome": digests.outcome_of(digest),
        "digests_off": prefs.digest_frequency == DigestFrequency.OFF,
        "prefs": prefs,
        "is_own": member.pk == request.user.pk,
        "records": DigestRecord.objects.filter(user=member).order_by("-period_end", "-pk")[:PREVIEW_RECORDS],
    }
    # The unsubscribe link is left out: a working one would let whoever previews turn the member's digest off.
    subject, text, _html = digests.render_digest(digest, unsubscribe="")
    context.update(subject=subject, text=text)
    context["body"] = render_to_string(
        "emails/partials/digest_content.html", digests.digest_context(digest, unsubscribe="")
    )
    return render(request, "members/digest_preview.html", context)


@csrf_exempt  # RFC 8058: mail clients POST "List-Unsubscribe=One-Click" with no cookies; the token is the proof
@require_http_methods(["GET", "POST"])
def digest_unsubscribe(request, token):
    """GET: a confirmation page with a button. POST (the button, or a mail client's one-click): digests off.

    Works without signing in, once: a used link, or digests already off, says so; a forged, altered or expired
    token gets a 400 page.
    """
    state = digests.unsubscribe_state(token)
    if not state.valid:
        return render(request, "members/digest_unsubscribe_invalid.html", status=400)
    context = {"member": state.member, "token": token}
    if state.already:
        return render(request, "members/digest_unsubscribe.html", {**context, "step": "already"})
    if request.method == "POST":
        services_digests.digest_unsubscribe(actor=state.member, record=state.record)
        return render(request, "members/digest_unsubscribe.html", {**context, "step": "done"})
    return render(request, "members/digest_unsubscribe.html", {**context, "step": "confirm"})
