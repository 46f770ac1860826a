from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from spaces.models import Space, SpaceRole, Visibility
from spaces.models.space import VISIBILITY_HELP


class SpaceForm(forms.ModelForm):
    visibility = forms.ChoiceField(
        label=_("Who can see this space?"),
        # Lazy, so each request reads the choices in its own language.
        choices=[
            (v.value, format_lazy(_("{label}: {help}"), label=v.label, help=VISIBILITY_HELP[v])) for v in Visibility
        ],
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
        label=_("Personal message (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
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


class PageForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=300)
    body = forms.CharField(
        label=_("Content (Markdown)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 18, "class": "editor"}),
        help_text=_("Markdown: # heading, **bold**, - lists, | tables |, [links](https://…), ![image](/files/…)."),
    )
    summary = forms.CharField(
        label=_("Edit summary (optional)"),
        required=False,
        max_length=100,
        help_text=_("A few words on what you changed, shown in the history."),
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    parent = forms.TypedChoiceField(label=_("Parent page"), required=False, coerce=int, empty_value=None)

    def __init__(self, *args, parents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("— top level —"))] + [(p.pk, p.title) for p in parents]


class PageRestrictionForm(forms.Form):
    restrict_view = forms.BooleanField(label=_("Only named people may see this page"), required=False)
    restrict_edit = forms.BooleanField(label=_("Only named people may edit this page"), required=False)
    viewers = forms.CharField(
        label=_("People who may see it"),
        required=False,
        max_length=2000,
        help_text=_("Usernames separated by commas. The author and the space's admins always can."),
    )
    editors = forms.CharField(label=_("People who may edit it"), required=False, max_length=2000)

    def _users(self, field: str):
        from django.contrib.auth import get_user_model

        names = [
            n.strip().lstrip("@") for n in self.cleaned_data.get(field, "").replace(";", ",").split(",") if n.strip()
        ]
        users = list(get_user_model().objects.filter(username__in=names, is_active=True))
        missing = set(names) - {u.username for u in users}
        if missing:
            self.add_error(field, _("No member has the username: %s") % ", ".join(sorted(missing)))
        return users

    def clean(self):
        cleaned = super().clean()
        cleaned["viewer_users"] = self._users("viewers")
        cleaned["editor_users"] = self._users("editors")
        return cleaned


class PageMoveForm(forms.Form):
    target = forms.TypedChoiceField(label=_("Destination space"), coerce=int)
    mode = forms.ChoiceField(
        label=_("Move or copy"),
        choices=[
            ("move", _("Move (with history; it leaves this space)")),
            ("copy", _("Copy (this page stays)")),
        ],
        widget=forms.RadioSelect,
        initial="move",
    )

    def __init__(self, *args, spaces=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [(s.pk, f"{s.community.name} › {s.name}") for s in spaces]


class PageTemplateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    description = forms.CharField(label=_("Description"), max_length=300, required=False)
    body = forms.CharField(label=_("Content (Markdown)"), required=False, widget=forms.Textarea(attrs={"rows": 12}))
