from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from communities.models import Community, CommunityRole
from copapp.uploads import validate_image_upload
from members.models import timezone_choices


class CommunityForm(forms.ModelForm):
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices, initial="UTC")
    intro_questions = forms.CharField(
        label=_("Introductory questions"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("One question per line. New members answer them before their first join or post."),
    )

    class Meta:
        model = Community
        fields = ["name", "slug", "description", "guidelines", "time_zone", "logo"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 3}),
            "guidelines": forms.Textarea(attrs={"rows": 6}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["intro_questions"].initial = "\n".join(q.text for q in self.instance.intro_questions.all())

    def validate_unique(self) -> None:
        return None  # the service checks the slug case-insensitively and says so clearly

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "content_type"):
            validate_image_upload(logo, max_bytes=settings.LOGO_MAX_BYTES)
        return logo

    def question_list(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("intro_questions", "").splitlines() if line.strip()]


class OnboardingForm(forms.Form):
    accept_guidelines = forms.BooleanField(label=_("I have read and accept the community guidelines"), required=False)

    def __init__(self, *args, questions, **kwargs):
        super().__init__(*args, **kwargs)
        self.questions = list(questions)
        for question in self.questions:
            self.fields[f"question_{question.pk}"] = forms.CharField(
                label=question.text,
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    def answers(self) -> dict[int, str]:
        return {q.pk: self.cleaned_data.get(f"question_{q.pk}", "") for q in self.questions}


class CommunityRoleForm(forms.Form):
    role = forms.ChoiceField(choices=CommunityRole.choices)
