"""Input for papers submitted to events, their review, and files attached to events. The type and size checks
of uploads live in the services (copapp.uploads); deadlines and permissions too."""

from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.forms_events import LocalDateTimeField
from spaces.forms_files import upload_help


class PaperForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    abstract = forms.CharField(
        label=_("Abstract"),
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 12}),
        help_text=_("Markdown: **bold**, _italic_, [links](https://example.org), lists."),
    )
    file = forms.FileField(label=_("Paper or slides (optional)"), required=False, help_text=upload_help())

    def __init__(self, *args, editing: bool = False, has_file: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            self.fields["file"].label = _("Replace the file (optional)")
        if has_file:
            self.fields["remove_file"] = forms.BooleanField(label=_("Remove the current file"), required=False)


class PaperDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("accept", _("Accept")), ("decline", _("Decline"))],
        widget=forms.RadioSelect,
    )
    message = forms.CharField(
        label=_("Message to the author (optional)"),
        required=False,
        max_length=5_000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )


class EventFileForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=upload_help())
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        max_length=500,
        help_text=_("For example “Agenda” or “Slides of the opening talk”."),
    )


class PaperSettingsForm(forms.Form):
    papers_open = forms.BooleanField(label=_("Accept paper and abstract submissions"), required=False)
    papers_deadline = LocalDateTimeField(
        label=_("Submission deadline (optional)"),
        required=False,
        help_text=_("In the event's time zone. After it, nobody can submit or edit a paper."),
    )
