"""Input for events. Dates and times arrive as wall-clock times in the event's own zone and stay naive here:
the service reads them in that zone (refusing times that daylight saving skips or repeats) and stores UTC."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from spaces.models import Registration, RegistrationQuestion, RegistrationQuestionKind, RegistrationStatus
from spaces.services.events import MAX_ANSWER, MAX_QUESTIONS, zone_names

LOCAL_FORMAT = "%Y-%m-%dT%H:%M"


def timezone_choices() -> list[tuple[str, str]]:
    # The same list as members' profile form, built here because spaces does not import members.
    return [(name, name.replace("_", " ")) for name in sorted(zone_names())]


class LocalDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input whose value stays naive (Django would read it in the viewer's zone)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_FORMAT)
    input_formats = [LOCAL_FORMAT, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=None)
        text = str(value).strip()
        try:
            result = parse_datetime(text)
        except ValueError:
            result = None
        for fmt in self.input_formats if result is None else []:
            try:
                result = datetime.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        if result is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return result.replace(tzinfo=None)

    def prepare_value(self, value):
        return value  # never shift the organiser's wall-clock time into the viewer's zone


class EventForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300, error_messages={"required": _("Give the event a title.")})
    description = forms.CharField(
        label=_("Description"),
        required=False,
        strip=False,
        widget=forms.Textarea,
        help_text=_("Markdown is supported."),
    )
    starts_at = LocalDateTimeField(
        label=_("Starts"),
        help_text=_("In the event's time zone."),
        error_messages={"required": _("Give the date and time the event starts.")},
    )
    ends_at = LocalDateTimeField(
        label=_("Ends"),
        help_text=_("In the event's time zone."),
        error_messages={"required": _("Give the date and time the event ends.")},
    )
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        choices=timezone_choices,
        help_text=_("Where the event happens. Members see the times in their own zone, with this one beside it."),
    )
    venue = forms.CharField(label=_("Venue"), required=False, max_length=300)
    online_url = forms.CharField(
        label=_("Online meeting link"),
        required=False,
        max_length=500,
        widget=forms.URLInput,
        help_text=_("Shown only to people registered as going or maybe, and to the organisers."),
    )
    capacity = forms.IntegerField(
        label=_("Capacity"),
        required=False,
        min_value=1,
        help_text=_("Leave empty for no limit. Beyond it, people join a waiting list that moves up by itself."),
    )
    registration_deadline = LocalDateTimeField(
        label=_("Registration deadline"), required=False, help_text=_("Optional; in the event's time zone.")
    )


STATUS_CHOICES = [
    (RegistrationStatus.GOING, _("Going")),
    (RegistrationStatus.MAYBE, _("Maybe")),
    (RegistrationStatus.NOT_GOING, _("Not going")),
]
YES_NO = [("yes", _("Yes")), ("no", _("No"))]


def question_field_name(question: RegistrationQuestion) -> str:
    return f"question_{question.pk}"


class RegistrationForm(forms.Form):
    """Going / maybe / not going, and one field per registration question (checked by the service, so a
    required question does not block saying "not going")."""

    status = forms.ChoiceField(label=_("Will you come?"), choices=STATUS_CHOICES, widget=forms.RadioSelect)

    def __init__(self, *args, questions: list[RegistrationQuestion], registration: Registration | None, **kwargs):
        initial = kwargs.pop("initial", {}) or {}
        if registration is not None:
            status = registration.status
            initial["status"] = RegistrationStatus.GOING if status == RegistrationStatus.WAITLISTED else status
            for question in questions:
                initial[question_field_name(question)] = registration.answers.get(str(question.pk), "")
        else:
            initial.setdefault("status", RegistrationStatus.GOING)
        super().__init__(*args, initial=initial, **kwargs)
        self.questions = questions
        for question in questions:
            label = question.label + (" " + str(_("(required)")) if question.required else "")
            if question.kind == RegistrationQuestionKind.CHOICE:
                choices = [("", _("Choose…")), *[(c, c) for c in question.choice_list]]
                field: forms.Field = forms.ChoiceField(label=label, required=False, choices=choices)
            elif question.kind == RegistrationQuestionKind.YES_NO:
                field = forms.ChoiceField(label=label, required=False, choices=YES_NO, widget=forms.RadioSelect)
            else:
                field = forms.CharField(label=label, required=False, max_length=MAX_ANSWER)
            self.fields[question_field_name(question)] = field

    def answers(self) -> dict[str, str]:
        return {
            str(q.pk): self.cleaned_data.get(question_field_name(q)) or ""
            for q in self.questions
            if question_field_name(q) in self.cleaned_data
        }


class RegistrationQuestionForm(forms.Form):
    id = forms.IntegerField(required=False, widget=forms.HiddenInput)
    label = forms.CharField(label=_("Question"), max_length=200, required=False)
    kind = forms.ChoiceField(label=_("Kind of answer"), choices=RegistrationQuestionKind.choices, required=False)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For “one of a list”: one choice per line."),
    )
    required = forms.BooleanField(label=_("Required"), required=False)


class BaseQuestionFormSet(forms.BaseFormSet):
    def questions(self) -> list[dict]:
        """The filled-in rows, in order, without those left blank or marked for removal."""
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data or self._should_delete_form(form) or not (data.get("label") or "").strip():
                continue
            rows.append({key: data.get(key) for key in ("id", "label", "kind", "choices", "required")})
        return rows


QuestionFormSet = forms.formset_factory(
    RegistrationQuestionForm, formset=BaseQuestionFormSet, extra=2, can_delete=True, max_num=MAX_QUESTIONS
)


def question_initial(questions: list[RegistrationQuestion]) -> list[dict]:
    return [
        {"id": q.pk, "label": q.label, "kind": q.kind, "choices": q.choices, "required": q.required} for q in questions
    ]


def parse_attendance(data) -> dict[int, bool]:
    """The attendance form: ``shown`` lists the registrations on the page, ``present`` those ticked."""
    present = {value for value in data.getlist("present") if value.isdigit()}
    return {int(value): value in present for value in data.getlist("shown") if value.isdigit()}
