"""Input validation for the dashboards' filters and the points policy; no side effects."""

from __future__ import annotations

import zoneinfo
from datetime import date
from functools import cache

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from analytics.kinds import DEFAULT_POINTS
from analytics.services import CAP_MAX, CAP_MIN, WEIGHT_MAX, WEIGHT_MIN

# Labels of the kinds that earn points (analytics.kinds.DEFAULT_POINTS), as the points policy page shows them.
KIND_LABELS = {
    "answer_post": _("Posting an answer"),
    "answer_accepted": _("Having an answer accepted"),
    "page_create": _("Creating a page"),
    "page_edit": _("Editing a page"),
    "question_ask": _("Asking a question"),
    "paper_submitted": _("Submitting a paper"),
    "post_create": _("Writing a post"),
    "event_create": _("Creating an event"),
    "comment_create": _("Commenting"),
    "event_registered": _("Registering for an event"),
    "file_upload": _("Uploading a file"),
    "poll_created": _("Creating a poll"),
    "vote_cast": _("Voting on a question or answer"),
    "poll_voted": _("Voting in a poll"),
    "visit": _("Visiting the community (once a day)"),
    "referral": _("Bringing in a new member (accepted invitation)"),
}

POSTING_BY = [
    ("", _("All contributions")),
    ("community", _("Per community")),
    ("space", _("Per space")),
    ("member", _("Per member")),
]


class PlainSelect(forms.Select):
    """``forms.Select``'s markup (flat choices, one value), written out in Python: the six hundred time zones through
    Django's per-option widget template cost a tenth of a second on every dashboard."""

    def render(self, name, value, attrs=None, renderer=None):
        selected = set(self.format_value(value))
        options = format_html_join(
            "\n",
            '  <option value="{}"{}>{}</option>',
            ((str(key), " selected" if str(key) in selected else "", label) for key, label in self.choices),
        )
        attributes = flatatt(self.build_attrs(self.attrs, attrs))
        return format_html('<select name="{}"{}>\n{}\n</select>', name, attributes, options)


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name.replace("_", " ")) for name in sorted(zoneinfo.available_timezones())]


class DashboardFilterForm(forms.Form):
    """The dashboard's GET filters. Each choice list holds only what the viewer may see (permitted spaces)."""

    space = forms.ChoiceField(label=_("Space"), required=False)
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    country = forms.ChoiceField(label=_("Country"), required=False)
    organisation_type = forms.ChoiceField(label=_("Organisation type"), required=False)
    tz = forms.ChoiceField(label=_("Heatmap time zone"), required=False, choices=time_zone_choices, widget=PlainSelect)
    posting_by = forms.ChoiceField(label=_("Posting history"), required=False, choices=POSTING_BY)

    def __init__(
        self,
        data,
        *,
        initial: dict | None = None,
        spaces: list[tuple[str, str]],
        all_spaces_label: str,
        countries: list[tuple[str, str]],
        organisation_types: list[tuple[str, str]],
        today: date,
        member_figures: bool,
        several_communities: bool = False,
    ):
        super().__init__(data, initial=initial)
        self.today = today
        self.fields["space"].choices = [("", all_spaces_label), *spaces]
        self.fields["country"].choices = [("", _("All countries")), *countries]
        self.fields["organisation_type"].choices = [("", _("All organisation types")), *organisation_types]
        left_out = {"space"} if len(spaces) < 2 else set()
        if not several_communities:
            left_out.add("community")
        self.fields["posting_by"].choices = [c for c in POSTING_BY if c[0] not in left_out]
        if not member_figures:
            self.fields["posting_by"].choices = [c for c in self.fields["posting_by"].choices if c[0] != "member"]

    def clean_end(self):
        end = self.cleaned_data.get("end")
        if end is not None and end > self.today:
            raise forms.ValidationError(_("The end date is in the future."))
        return end

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end") or self.today
        if start is not None and "end" not in self.errors and start > end:
            self.add_error("start", _("The start date is after the end date."))
        return data

    def values(self) -> tuple[dict, list[str]]:
        """Every filter's value, with the default in place of each wrong one, and a notice per wrong one."""
        self.is_valid()
        values, notices = {}, []
        for name, field in self.fields.items():
            if name in self.errors:
                values[name] = None if isinstance(field, forms.DateField) else ""
                for error in self.errors[name]:
                    notices.append(
                        gettext("%(filter)s: %(error)s The default is shown instead.")
                        % {"filter": field.label, "error": error}
                    )
            else:
                values[name] = self.cleaned_data.get(name)
        return values, notices


class PointsPolicyForm(forms.Form):
    """Points per activity kind and the daily cap. The service validates again (it is the rule's owner)."""

    daily_cap = forms.IntegerField(
        label=_("Daily cap per member"),
        min_value=CAP_MIN,
        max_value=CAP_MAX,
        help_text=_("A member earns at most this many points a day, however much they do."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for kind in DEFAULT_POINTS:
            self.fields[kind] = forms.IntegerField(
                label=KIND_LABELS.get(kind, kind.replace("_", " ")),
                min_value=WEIGHT_MIN,
                max_value=WEIGHT_MAX,
                help_text=_("Default: %(points)s") % {"points": DEFAULT_POINTS[kind]},
            )
        self.fields["daily_cap"] = self.fields.pop("daily_cap")  # after the weights

    def weights(self) -> dict[str, int]:
        return {kind: self.cleaned_data[kind] for kind in DEFAULT_POINTS}
