from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.models import Space, SpaceRole, Visibility
from spaces.models.space import VISIBILITY_HELP


class SpaceForm(forms.ModelForm):
    visibility = forms.ChoiceField(
        label=_("Who can see this space?"),
        choices=[(v.value, f"{v.label}: {VISIBILITY_HELP[v]}") for v in Visibility],
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Space
        fields = ["name", "slug", "description", "visibility", "default_role"]
        help_texts = {
            "slug": _("Lower-case letters, numbers and hyphens, used in the space's address."),
            "default_role": _("Viewers read; editors also create and edit content."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Uniqueness of the slug within the community is checked by the service, which knows the community.
        self.fields["default_role"].coerce = int  # type: ignore[attr-defined]

    def validate_unique(self) -> None:
        return None


class JoinRequestForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the moderators (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Say who you are and why you would like to join."),
    )


class DecisionForm(forms.Form):
    message = forms.CharField(
        label=_("Message to the requester (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class InvitationForm(forms.Form):
    recipient = forms.CharField(
        label=_("E-mail address or username"),
        max_length=254,
        help_text=_("People without an account get an e-mail that leads them through sign-up into the space."),
    )
    role = forms.TypedChoiceField(label=_("Role"), coerce=int)
    message = forms.CharField(
        label=_("Personal message (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args, roles: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, SpaceRole(r).label) for r in roles]
        self.fields["role"].initial = SpaceRole.VIEWER


class RoleForm(forms.Form):
    role = forms.TypedChoiceField(label=_("Role"), coerce=int)

    def __init__(self, *args, roles: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, SpaceRole(r).label) for r in roles]


class BanForm(forms.Form):
    reason = forms.CharField(label=_("Reason (shown to moderators)"), required=False, max_length=2000)


class DeleteSpaceForm(forms.Form):
    confirm_name = forms.CharField(label=_("Type the space's name to confirm"), max_length=120)
