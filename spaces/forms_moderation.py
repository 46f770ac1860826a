"""Input for flags and moderator actions. The rules (a note for "other", one open flag each, who may act) live in
spaces/services/moderation.py."""

from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.models import FlagReason


class FlagForm(forms.Form):
    reason = forms.ChoiceField(label=_("What is wrong?"), choices=FlagReason.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label=_("Note for the moderators"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed for “Something else”. Only the moderators read it."),
    )


MODERATION_ACTIONS = [
    ("dismiss", _("Dismiss the flags")),
    ("hide", _("Hide")),
    ("unhide", _("Show again")),
    ("warn", _("Warn the author")),
    ("remove", _("Remove")),
    ("ban_space", _("Ban the author from the space")),
    ("ban_community", _("Ban the author from the community")),
]


class ModerationActionForm(forms.Form):
    action = forms.ChoiceField(choices=MODERATION_ACTIONS)
    message = forms.CharField(required=False, max_length=2000)
    community = forms.SlugField(required=False)
