from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from copapp.uploads import validate_image_upload
from members.models import Profile, timezone_choices
from members.services import parse_expertise


class ProfileForm(forms.ModelForm):
    display_name = forms.CharField(label=_("Display name"), max_length=120, required=True)
    expertise_text = forms.CharField(
        label=_("Areas of expertise"),
        required=False,
        max_length=1000,
        help_text=_("Separate with commas, e.g. record linkage, census, SDG indicators."),
    )
    time_zone = forms.ChoiceField(label=_("Time zone"), choices=timezone_choices)

    class Meta:
        model = Profile
        fields = [
            "organisation",
            "organisation_type",
            "country",
            "job_title",
            "bio",
            "time_zone",
            "preferred_language",
            "avatar",
        ]
        widgets = {"bio": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        profile = self.instance
        self.fields["display_name"].initial = profile.user.display_name
        self.fields["expertise_text"].initial = ", ".join(e.name for e in profile.expertise.all())
        self.order_fields(["display_name", "organisation", "organisation_type", "country", "job_title"])

    def clean_avatar(self):
        avatar = self.cleaned_data.get("avatar")
        if avatar and hasattr(avatar, "content_type"):
            validate_image_upload(avatar, max_bytes=settings.AVATAR_MAX_BYTES)
        return avatar

    def expertise_list(self) -> list[str]:
        return parse_expertise(self.cleaned_data.get("expertise_text", ""))

    def profile_fields(self) -> dict:
        data = {name: self.cleaned_data[name] for name in self.Meta.fields if name in self.cleaned_data}
        if "avatar" not in self.changed_data:
            data.pop("avatar", None)
        return data


class DirectoryFilterForm(forms.Form):
    """The directory's filters. Each field is checked on its own: a wrong value in one (a hand-edited address)
    is reported next to it and ignored, while the others still filter."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200)
    country = forms.CharField(label=_("Country"), required=False, max_length=80)
    expertise = forms.TypedChoiceField(
        label=_("Expertise"),
        required=False,
        coerce=int,
        empty_value=None,
        error_messages={"invalid_choice": _("No member lists this area of expertise; showing every area.")},
    )
    community = forms.ChoiceField(
        label=_("Community"),
        required=False,
        error_messages={"invalid_choice": _("There is no such community; showing members of every community.")},
    )

    def __init__(self, *args, expertise_choices=(), community_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expertise"].choices = [("", _("Any")), *((str(pk), name) for pk, name in expertise_choices)]
        self.fields["community"].choices = [("", _("Any")), *community_choices]

    def filters(self) -> dict:
        """The valid filters (every field that passed its check), for ``selectors.member_directory``."""
        data: dict = {}
        if self.is_bound:
            self.is_valid()  # fills cleaned_data with every field that passed its check
            data = self.cleaned_data
        return {
            "query": data.get("q") or "",
            "country": data.get("country") or "",
            "expertise_id": data.get("expertise"),
            "community_slug": data.get("community") or "",
        }


class AccountDeleteForm(forms.Form):
    confirm = forms.CharField(label=_("Type DELETE to confirm"), max_length=10)

    def clean_confirm(self):
        if self.cleaned_data["confirm"].strip() != "DELETE":
            raise forms.ValidationError(_("Type DELETE in capital letters to confirm."))
        return self.cleaned_data["confirm"]
