"""Input for the search page: what to look for and the filters. Validation only."""

from django import forms
from django.utils.translation import gettext_lazy as _

from communities.models import Community
from spaces import permissions
from spaces.models import ItemKind, Space

MAX_QUERY = 200


class SearchForm(forms.Form):
    q = forms.CharField(
        label=_("Search for"),
        required=False,
        max_length=MAX_QUERY,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "maxlength": MAX_QUERY}),
        help_text=_('Every word must appear; "quoted words" as a phrase, -word to leave it out.'),
    )
    community = forms.ModelChoiceField(
        label=_("Community"),
        required=False,
        queryset=Community.objects.order_by("name"),
        to_field_name="slug",
        empty_label=_("All communities"),
    )
    space = forms.ModelChoiceField(
        label=_("Space"),
        required=False,
        queryset=Space.objects.none(),
        to_field_name="slug",
        empty_label=_("All spaces"),
    )
    kind = forms.MultipleChoiceField(
        label=_("Content type"), required=False, choices=ItemKind.choices, widget=forms.CheckboxSelectMultiple
    )
    author = forms.CharField(
        label=_("Author"),
        required=False,
        max_length=150,
        help_text=_("Their @username."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    date_from = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        # The space filter lists the chosen community's spaces whose content the user may read.
        slug = self.data.get("community") if self.is_bound else None
        if slug:
            self.fields["space"].queryset = Space.objects.filter(
                permissions.readable_spaces_q(user), community__slug=slug
            ).order_by("name")
        else:
            del self.fields["space"]

    def clean_author(self) -> str:
        return self.cleaned_data["author"].strip().lstrip("@")

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        return cleaned

    # The community and content type filters are drawn by the page's template from these: Django's widgets render a
    # template for every option: about 2 ms of a search's CPU for twenty communities and the content types.
    def community_options(self) -> list[tuple[str, str, bool]]:
        """(slug, name, chosen) of every community, in the field's order."""
        chosen = self["community"].value()
        rows = self.fields["community"].queryset.values_list("slug", "name")
        return [(slug, name, slug == chosen) for slug, name in rows]

    def kind_options(self) -> list[tuple[str, str, bool]]:
        """(value, label, chosen) of every content type."""
        chosen = {str(value) for value in self["kind"].value() or ()}
        return [(value, label, value in chosen) for value, label in self.fields["kind"].choices]

    @property
    def filtered(self) -> bool:
        """Whether any filter is set (the filters panel then starts open)."""
        return any(self.data.get(name) for name in ("community", "space", "kind", "author", "date_from", "date_to"))
