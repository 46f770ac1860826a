"""Direct messages between members (issue 9, item 1): list, conversation, new conversation, reply, add people,
mute, leave, block, report and attachments. Every fetch goes through ``members.permissions_messages``: anyone who
is not a participant gets 404, as if the conversation did not exist."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from copapp.utils import add_service_errors, safe_next
from members import permissions_messages as perms
from members import selectors_messages as selectors
from members import services_messages as services
from members.forms_messages import AddPeopleForm, ConversationForm, MessageReportForm, ReplyForm
from members.models import MAX_PARTICIPANTS

User = get_user_model()
CONVERSATIONS_PER_PAGE = 20
MESSAGES_PER_PAGE = 30
FILE_CSP = "default-src 'none'; sandbox"


def _member_or_404(request):
    if not perms.may_use_messages(request.user):
        raise Http404


@login_required
@require_safe
def conversation_list(request):
    _member_or_404(request)
    page = Paginator(selectors.conversation_rows(request.user), CONVERSATIONS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    for row in page.object_list:
        row.others = [p.user for p in row.conversation.participants.all() if p.user_id != request.user.pk]
        row.unread = row.last_read_at is None or row.last_read_at < row.conversation.last_message_at
    return render(request, "members/messages/conversation_list.html", {"page": page, "rows": page.object_list})


def _conversation_context(request, participation, form=None, add_form=None) -> dict:
    conversation = participation.conversation
    paginator = Paginator(selectors.conversation_messages(request.user, conversation.pk), MESSAGES_PER_PAGE)
    page = paginator.get_page(request.GET.get("page") or paginator.num_pages)
    participants = selectors.conversation_participants(conversation.pk, viewer=request.user)
    others = [p.user for p in participants if p.user_id != request.user.pk]
    blocked_by_me, blocked_me = selectors.blocks_between(request.user, [u.pk for u in others])
    return {
        "conversation": conversation,
        "participation": participation,
        "participants": [p.user for p in participants],
        "others": [(u, u.pk in blocked_by_me) for u in others],
        "page": page,
        "chat": page.object_list,
        "form": form or ReplyForm(),
        "can_post": not blocked_me and bool(others),
        "add_form": add_form or AddPeopleForm(),
        "can_add_people": perms.can_add_people(request.user, participation) and len(participants) < MAX_PARTICIPANTS,
        "max_participants": MAX_PARTICIPANTS,
    }


@login_required
@require_safe
def conversation_detail(request, conversation_id):
    participation = perms.get_participation_for_user(request.user, conversation_id)
    context = _conversation_context(request, participation)
    services.conversation_mark_read(actor=request.user, participation=participation)
    return render(request, "members/messages/conversation_detail.html", context)


@login_required
@require_POST
def message_reply(request, conversation_id):
    participation = perms.get_participation_for_user(request.user, conversation_id)
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.message_send(
                actor=request.user,
                conversation=participation.conversation,
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except PermissionDenied as exc:
            messages.error(request, str(exc) or services.blocked_message())
            return redirect(participation.conversation)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Message sent."))
            return redirect(participation.conversation)
    context = _conversation_context(request, participation, form)
    return render(request, "members/messages/conversation_detail.html", context, status=400)


@login_required
@require_POST
def conversation_add_people(request, conversation_id):
    participation = perms.get_participation_for_user(request.user, conversation_id)
    form = AddPeopleForm(request.POST, actor=request.user)
    if form.is_valid():
        try:
            added = services.conversation_add_people(
                actor=request.user, conversation=participation.conversation, members=form.cleaned_data["people"]
            )
        except PermissionDenied as exc:
            form.add_error("people", str(exc) or services.blocked_message())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            names = ", ".join(member.public_name for member in added)
            messages.success(request, _("Added to the conversation: %(names)s.") % {"names": names})
            return redirect(participation.conversation)
    context = _conversation_context(request, participation, add_form=form)
    return render(request, "members/messages/conversation_detail.html", context, status=400)


@login_required
@require_http_methods(["GET", "POST"])
def conversation_new(request):
    _member_or_404(request)
    initial = {}
    if request.method == "GET" and request.GET.get("to"):
        recipient = User.objects.active().filter(username=request.GET["to"]).first()
        initial["recipients"] = f"@{recipient.username}" if recipient is not None else ""
    form = ConversationForm(request.POST or None, request.FILES or None, actor=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            conversation = services.conversation_start(
                actor=request.user,
                recipients=form.cleaned_data["recipients"],
                subject=form.cleaned_data["subject"],
                body=form.cleaned_data["body"],
                attachments=form.cleaned_data["attachments"],
            )
        except PermissionDenied as exc:
            form.add_error("recipients", str(exc) or services.blocked_message())
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Message sent."))
            return redirect(conversation)
    status = 400 if request.method == "POST" else 200
    return render(request, "members/messages/conversation_new.html", {"form": form}, status=status)


@login_required
@require_POST
def conversation_mute(request, conversation_id):
    participation = perms.get_participation_for_user(request.user, conversation_id)
    muted = services.conversation_mute_set(
        actor=request.user, participation=participation, muted=not participation.muted
    )
    if muted:
        messages.success(request, _("Conversation muted: you will not be notified of new messages."))
    else:
        messages.success(request, _("Conversation unmuted."))
    return redirect(participation.conversation)


@login_required
@require_POST
def conversation_leave(request, conversation_id):
    participation = perms.get_participation_for_user(request.user, conversation_id)
    services.conversation_leave(actor=request.user, participation=participation)
    messages.success(request, _("You left the conversation."))
    return redirect("members:messages")


@login_required
@require_http_methods(["GET", "POST"])
def message_report(request, conversation_id, message_id):
    message = perms.get_message_for_user(request.user, conversation_id, message_id)
    if not perms.can_report_message(request.user, message):
        raise PermissionDenied
    form = MessageReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.message_report(actor=request.user, message=message, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Thank you. The site staff will review your report."))
            return redirect(message.conversation)
    return render(request, "members/messages/message_report.html", {"form": form, "message": message})


@login_required
@require_safe
def message_attachment(request, attachment_id, filename):
    attachment = perms.get_attachment_for_user(request.user, attachment_id)
    try:
        handle = attachment.file.storage.open(attachment.file.name, "rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    response = FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_safe
def blocked_list(request):
    return render(request, "members/messages/blocked_list.html", {"blocks": selectors.blocked_members(request.user)})


@login_required
@require_POST
def member_block(request, username):
    member = get_object_or_404(User.objects.active(), username=username)
    try:
        services.member_block(actor=request.user, member=member)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(name)s is blocked: they cannot message you.") % {"name": member.public_name})
    return redirect(safe_next(request, reverse("members:blocked")))


@login_required
@require_POST
def member_unblock(request, username):
    member = get_object_or_404(User.objects.all(), username=username)
    if services.member_unblock(actor=request.user, member=member):
        messages.success(request, _("%(name)s is unblocked.") % {"name": member.public_name})
    return redirect(reverse("members:blocked"))
