"""Template tags for moderation on the pages where content is read.

{% load space_moderation %}
{% flag_button target %}         a small "Flag" disclosure with the flag form (htmx; works without JS), for an
                                 item or a typed row with ``.item`` (page, question, answer, comment, post, event,
                                 poll, file), a paper or a member. No query: drawn on every comment of a thread.
{% moderation_notice target %}   for hidden content, why it is hidden (seen by its author and the moderators);
                                 nothing, and no query, for visible content.
"""

from functools import lru_cache

from django import template
from django.contrib.contenttypes.models import ContentType
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from spaces import permissions
from spaces.forms_moderation import FlagForm
from spaces.models import Item, ModerationAction, ModerationLogEntry, ModerationState

register = template.Library()


def _as_target(target):
    """The registry row of a typed object (``page.item``); papers and members stay as they are."""
    if not isinstance(target, Item) and isinstance(getattr(target, "item", None), Item):
        return target.item
    return target


def _user(context):
    request = context.get("request")
    return context.get("user") or (request.user if request is not None else None)


_FORM_ID = "flag-form-id"  # stands for the form's id in the blank fields, replaced by each button's own


@lru_cache(maxsize=64)
def _blank_flag_fields(language: str | None) -> str:
    """The unfilled flag form's fields, drawn once per language: a page draws one flag form per comment and answer,
    and Django's form widgets cost more to render than the rest of a comment."""
    return render_to_string("spaces/partials/flag_fields.html", {"form": FlagForm(auto_id=f"{_FORM_ID}-%s")})


def blank_flag_fields(form_id: str) -> SafeString:
    # Only the ids change between buttons, and ``form_id`` is made of a kind name and a number.
    return mark_safe(_blank_flag_fields(get_language()).replace(_FORM_ID, form_id))  # noqa: S308  # nosec B308, B703


@register.inclusion_tag("spaces/partials/flag_button.html", takes_context=True)
def flag_button(context, target) -> dict:
    target = _as_target(target)
    user = _user(context)
    if target is None or user is None or not permissions.can_flag(user, target):
        return {"can_flag": False}
    kind = permissions.flag_target_kind(target)
    request = context.get("request")
    form_id = f"flag-{kind}-{target.pk}"
    return {
        "can_flag": True,
        "kind_label": target.get_kind_display().lower() if kind == "item" else kind,
        "flag_url": reverse("spaces:flag", kwargs={"target_kind": kind, "target_id": target.pk}),
        "blank_fields": blank_flag_fields(form_id),
        "form_id": form_id,
        "next": request.get_full_path() if request is not None else "",
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("spaces/partials/moderation_notice.html", takes_context=True)
def moderation_notice(context, target) -> dict:
    item = _as_target(target)
    if not isinstance(item, Item) or item.moderation_state == ModerationState.VISIBLE:
        return {"show": False}
    user = _user(context)
    entry = (
        ModerationLogEntry.objects.filter(
            target_type=ContentType.objects.get_for_model(Item),
            target_id=item.pk,
            action__in=[ModerationAction.HIDE, ModerationAction.AUTO_HIDE],
        )
        .order_by("-created_at", "-pk")
        .first()
    )
    automatic = item.moderation_state == ModerationState.PENDING
    return {
        "show": True,
        "automatic": automatic,
        "is_author": user is not None and user.is_authenticated and item.author_id == user.pk,
        "reason": entry.reason if entry is not None and not automatic else "",
        "kind_label": item.get_kind_display().lower(),
    }
