"""Input for outgoing webhooks. The address check (private networks) is the service's: it resolves the host."""

from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.models import WebhookFormat


class WebhookForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=120, help_text=_("For you: where it goes, e.g. “Team chat” or “Our website”.")
    )
    url = forms.URLField(
        label=_("URL"),
        max_length=500,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
        help_text=_("The receiver's address, e.g. https://hooks.slack.com/services/… or your own endpoint."),
    )
    format = forms.ChoiceField(
        label=_("Format"),
        choices=WebhookFormat.choices,
        initial=WebhookFormat.JSON,
        widget=forms.RadioSelect,
        help_text=_("JSON for your own systems; a Slack-compatible message for a chat channel."),
    )
    send_created = forms.BooleanField(label=_("Send new items"), required=False, initial=True)
    send_changed = forms.BooleanField(label=_("Send changed items"), required=False)
    is_active = forms.BooleanField(
        label=_("Active"), required=False, initial=True, help_text=_("Switch it off to stop sending for a while.")
    )
