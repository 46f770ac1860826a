"""The notification preferences form: input validation only (``members.notifications`` writes)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from members.models import DigestFrequency, NotificationKind, NotificationPreferences
from members.notifications import EMAILED_ELSEWHERE

# Kinds a member can switch e-mail off for. Invitations and answers to join requests are e-mailed by the space
# itself, like account e-mails: always, and never held back.
EMAIL_KINDS = [(kind.value, kind.label) for kind in NotificationKind if kind not in EMAILED_ELSEWHERE]


class NotificationPreferencesForm(forms.Form):
    email_on = forms.MultipleChoiceField(
        label=_("E-mail me about"),
        choices=EMAIL_KINDS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Direct things (mentions, replies, moderation, decisions on your papers, event reminders) come at once, "
            "at most one e-mail an hour; everything else, and what waits beyond that, comes in your digest. "
            "Unticked kinds stay on the notifications page only."
        ),
    )
    digest_frequency = forms.ChoiceField(label=_("Digest"), choices=DigestFrequency.choices)
    digest_hour = forms.TypedChoiceField(
        label=_("Send the digest at"),
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        coerce=int,
        help_text=_("In your time zone (set on your profile). Weekly digests come on Mondays."),
    )
    skip_digest_if_seen = forms.BooleanField(
        label=_("Skip the digest when I have already seen everything in it"), required=False
    )

    def __init__(self, *args, preferences: NotificationPreferences, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "email_on": [kind for kind, _label in EMAIL_KINDS if kind not in (preferences.email_off or [])],
                "digest_frequency": preferences.digest_frequency,
                "digest_hour": preferences.digest_hour,
                "skip_digest_if_seen": preferences.skip_digest_if_seen,
            },
        )
        super().__init__(*args, **kwargs)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "email_off": [kind for kind, _label in EMAIL_KINDS if kind not in data["email_on"]],
            "digest_frequency": data["digest_frequency"],
            "digest_hour": data["digest_hour"],
            "skip_digest_if_seen": data["skip_digest_if_seen"],
        }
