"""Input for questions and answers. Validation of content (empty title, too many tags) lives in the services."""

from django import forms
from django.utils.translation import gettext_lazy as _


class QuestionForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=300,
        help_text=_("Say what you want to know in one sentence; similar questions are suggested as you type."),
    )
    body = forms.CharField(
        label=_("Details"), required=False, strip=False, widget=forms.Textarea, help_text=_("Markdown is supported.")
    )
    tags = forms.CharField(label=_("Tags"), required=False, help_text=_("Up to five, separated by commas."))
    summary = forms.CharField(label=_("What did you change? (optional)"), required=False, max_length=100)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["summary"]


class AnswerForm(forms.Form):
    body = forms.CharField(
        label=_("Your answer"),
        required=False,
        strip=False,
        widget=forms.Textarea,
        help_text=_("Markdown is supported."),
    )
    summary = forms.CharField(label=_("What did you change? (optional)"), required=False, max_length=100)

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not editing:
            del self.fields["summary"]
