"""The form for a new personal access token (input validation only; ``members.services_tokens`` writes)."""

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from members.models import TokenScope

EXPIRY_CHOICES = [
    ("", _("Never")),
    ("30", _("In 30 days")),
    ("90", _("In 90 days")),
    ("365", _("In a year")),
]


class TokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=100,
        help_text=_("What the token is for, such as the script or tool that will use it."),
    )
    scope = forms.ChoiceField(
        label=_("Access"),
        choices=TokenScope.choices,
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
        help_text=_("A read-only token cannot change anything, even where you could."),
    )
    expires = forms.ChoiceField(label=_("Expires"), choices=EXPIRY_CHOICES, required=False)

    def expires_at(self):
        days = self.cleaned_data.get("expires")
        return timezone.now() + timedelta(days=int(days)) if days else None
