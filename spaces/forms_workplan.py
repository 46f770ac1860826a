"""Input for the work plan. Rules about owners and linked items live in the service."""

from django import forms
from django.utils.translation import gettext_lazy as _

from spaces.models import MilestoneStatus


class WorkPlanForm(forms.Form):
    product = forms.CharField(
        label=_("Product"),
        max_length=300,
        required=False,
        help_text=_('What the group is making, e.g. "a collection of good practices for the June meeting".'),
    )
    description = forms.CharField(
        label=_("Description (optional)"), required=False, strip=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    due_date = forms.DateField(
        label=_("Product due (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class OwnerField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.public_name


class LinkedItemsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.get_kind_display()}: {obj.title or obj.pk}"


class MilestoneForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    due_date = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    owner = OwnerField(label=_("Owner (optional)"), queryset=None, required=False, empty_label=_("Nobody yet"))
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneStatus.choices, initial=MilestoneStatus.PLANNED)
    linked_items = LinkedItemsField(
        label=_("Linked pages and events"),
        queryset=None,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, owners, linkable, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owners
        self.fields["linked_items"].queryset = linkable


class MilestoneStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), choices=MilestoneStatus.choices)
