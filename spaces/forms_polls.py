"""Input for polls. Content rules (2 to 20 distinct options, a closing time in the future) live in the service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.models import ResultsShown


class PollForm(forms.Form):
    question = forms.CharField(label=_("Question"), max_length=300)
    description = forms.CharField(
        label=_("Details (optional)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown is supported."),
    )
    options = forms.CharField(
        label=_("Options"),
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("One option per line, between 2 and 20."),
    )
    multiple = forms.BooleanField(label=_("Members may choose several options"), required=False)
    closes_at = forms.DateTimeField(
        label=_("Closes (optional)"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=_("In your time zone. Leave empty to close the poll by hand."),
    )
    results_shown = forms.ChoiceField(
        label=_("Show the results"),
        choices=ResultsShown.choices,
        initial=ResultsShown.AFTER_VOTE,
        widget=forms.RadioSelect,
        help_text=_("You and the space's moderators always see the results."),
    )

    def clean_options(self) -> list[str]:
        return self.cleaned_data["options"].splitlines()
