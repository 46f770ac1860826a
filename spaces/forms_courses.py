"""Input for courses. Content rules (a correct option per question, a page of the same space) live in the service;
these forms only read what was typed."""

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class CourseForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    description = forms.CharField(
        label=_("Description (optional)"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Markdown is supported."),
    )
    is_published = forms.BooleanField(
        label=_("Published: members can see the course and enrol"),
        required=False,
        help_text=_("Leave unticked to keep it a draft that only instructors see."),
    )


class LessonAddForm(forms.Form):
    page = forms.TypedChoiceField(label=_("Page"), coerce=int, choices=())

    def __init__(self, *args, pages=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Any submitted id is accepted here; the service says whether it is a page of this space.
        self.fields["page"].choices = [(page.pk, page.title) for page in pages]
        self.fields["page"].valid_value = lambda value: True  # type: ignore[attr-defined]


QUIZ_HELP = _(
    "One question per line starting with “?” (one right answer) or “??” (several right answers), followed by "
    "its options, one per line: “*” before a right option, “-” before a wrong one."
)


class QuizForm(forms.Form):
    pass_mark = forms.IntegerField(
        label=_("Pass mark (%)"),
        initial=70,
        error_messages={
            "min_value": _("The pass mark is a percentage between 0 and 100."),
            "max_value": _("The pass mark is a percentage between 0 and 100."),
            "invalid": _("The pass mark is a percentage between 0 and 100."),
        },
        min_value=0,
        max_value=100,
    )
    questions = forms.CharField(
        label=_("Questions"), widget=forms.Textarea(attrs={"rows": 14}), help_text=QUIZ_HELP, strip=False
    )

    def clean_questions(self) -> list[dict]:
        questions: list[dict] = []
        for number, raw in enumerate(self.cleaned_data["questions"].splitlines(), start=1):
            line = raw.strip()
            if not line:
                continue
            if line.startswith("??"):
                questions.append({"text": line[2:].strip(), "multiple": True, "options": []})
            elif line.startswith("?"):
                questions.append({"text": line[1:].strip(), "multiple": False, "options": []})
            elif line[0] in "*-":
                if not questions:
                    raise forms.ValidationError(gettext("Line %d: write a question (“?”) before its options.") % number)
                questions[-1]["options"].append({"label": line[1:].strip(), "correct": line[0] == "*"})
            else:
                raise forms.ValidationError(gettext("Line %d: start it with “?”, “??”, “*” or “-”.") % number)
        return questions


def quiz_as_text(questions) -> str:
    """The quiz's questions in the form's text format, to edit them again."""
    lines: list[str] = []
    for question in questions:
        lines.append(("?? " if question.multiple else "? ") + question.text)
        lines.extend(("* " if option.is_correct else "- ") + option.label for option in question.options.all())
        lines.append("")
    return "\n".join(lines).strip()
