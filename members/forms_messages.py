"""Input for direct messages (issue 9, item 1): validation only; the services decide and write."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from copapp.uploads import FILE_TYPES_HELP
from members.models import MAX_PARTICIPANTS, MESSAGE_MAX_CHARS
from spaces.models import FlagReason

User = get_user_model()
SEPARATORS = re.compile(r"[,;\n]+")


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by the service (``copapp.uploads``)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class ReplyForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Message"),
        max_length=MESSAGE_MAX_CHARS,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=gettext_lazy("Markdown is supported."),
        error_messages={"required": gettext_lazy("Write a message before sending.")},
    )
    attachments = MultipleFileField(
        label=gettext_lazy("Attachments"),
        required=False,
        help_text=gettext_lazy("Optional, up to 5 files. Allowed: %(types)s.") % {"types": FILE_TYPES_HELP},
    )


def members_from_names(raw: str, *, actor=None, empty: str = "") -> list:
    """The active members named in ``raw`` (@handles, e-mail addresses or full names, separated by commas), without
    ``actor``. Raises ``ValidationError`` naming what matches nobody, or more than one member."""
    names = [name.strip() for name in SEPARATORS.split(raw) if name.strip()]
    names = list(dict.fromkeys(name.lower() for name in names))
    if not names:
        raise forms.ValidationError(empty or _("Choose at least one member to write to."))
    if len(names) + 1 > MAX_PARTICIPANTS:
        raise forms.ValidationError(
            _("A conversation can have at most %(n)d people, you included.") % {"n": MAX_PARTICIPANTS}
        )
    query = Q()
    for name in names:
        handle = name.removeprefix("@")
        query |= Q(email__iexact=name) | Q(username__iexact=handle) | Q(display_name__iexact=name)
    found = list(User.objects.active().filter(query))
    chosen, unknown = {}, []
    for name in names:
        handle = name.removeprefix("@")
        by_key = [u for u in found if u.email.lower() == name or u.username.lower() == handle]
        matches = by_key or [u for u in found if u.display_name.lower() == name]
        if len(matches) != 1:
            unknown.append(name)
        else:
            chosen[matches[0].pk] = matches[0]
    if unknown:
        raise forms.ValidationError(
            _("No single member matches: %(names)s. Use their @handle or e-mail address.")
            % {"names": ", ".join(unknown)}
        )
    if actor is not None:
        chosen.pop(actor.pk, None)
    if not chosen:
        raise forms.ValidationError(_("Choose at least one member other than yourself."))
    return list(chosen.values())


class ConversationForm(ReplyForm):
    recipients = forms.CharField(
        label=gettext_lazy("To"),
        max_length=2000,
        help_text=gettext_lazy("Members' @handles, e-mail addresses or full names, separated by commas."),
        error_messages={"required": gettext_lazy("Choose at least one member to write to.")},
    )
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=200, required=False)

    field_order = ["recipients", "subject", "body", "attachments"]

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_recipients(self) -> list:
        return members_from_names(self.cleaned_data["recipients"], actor=self.actor)


class AddPeopleForm(forms.Form):
    """Add members to a conversation one takes part in; the service checks the limit, blocks and who is in."""

    people = forms.CharField(
        label=gettext_lazy("Add people"),
        max_length=2000,
        help_text=gettext_lazy(
            "Members' @handles, e-mail addresses or full names, separated by commas. "
            "The people you add can read the whole conversation, from its first message."
        ),
        error_messages={"required": gettext_lazy("Choose at least one member to add.")},
    )

    def __init__(self, *args, actor=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.actor = actor

    def clean_people(self) -> list:
        return members_from_names(
            self.cleaned_data["people"], actor=self.actor, empty=_("Choose at least one member to add.")
        )


class MessageReportForm(forms.Form):
    reason = forms.ChoiceField(label=gettext_lazy("Why are you reporting this message?"), choices=FlagReason.choices)
    note = forms.CharField(
        label=gettext_lazy("Note for the site staff"),
        max_length=400,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    share_text = forms.BooleanField(
        label=gettext_lazy("Share the text of this message with the site staff"),
        required=False,
        help_text=gettext_lazy("Without this, the staff see only your reason and note, never the message itself."),
    )
