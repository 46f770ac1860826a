"""Input for posts. Validation of content (empty, too long, a time in the past) lives in the services."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from spaces.services.posts import MAX_BODY

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"


class PostForm(forms.Form):
    body = forms.CharField(
        label=_("Post"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_BODY}),
        help_text=_("Markdown works; links are made clickable and @username mentions a member."),
    )
    is_announcement = forms.BooleanField(
        label=_("Announcement"),
        required=False,
        help_text=_("Marks the post as an announcement, which members are notified of."),
    )
    publish_at = forms.DateTimeField(
        label=_("Publish at (optional)"),
        required=False,
        input_formats=[DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=DATETIME_LOCAL),
        error_messages={"invalid": _("Enter the date and time as shown, e.g. 2030-05-01 09:30.")},
    )

    def __init__(self, *args, can_announce: bool = False, can_schedule: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not can_announce:
            del self.fields["is_announcement"]
        if can_schedule:
            self.fields["publish_at"].help_text = _(
                "In your time zone (%(tz)s). Leave it empty to post now; pick a later time to schedule the post."
            ) % {"tz": timezone.get_current_timezone_name()}
        else:
            del self.fields["publish_at"]
