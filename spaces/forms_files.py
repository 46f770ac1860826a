"""Input for the file repository. The type and size checks live in the service (copapp.uploads)."""

from django import forms
from django.conf import settings
from django.template.defaultfilters import filesizeformat
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from copapp.uploads import FILE_TYPES_HELP


def _upload_help() -> str:
    return _("Up to %(limit)s. Allowed: %(types)s.") % {
        "limit": filesizeformat(settings.FILE_MAX_BYTES),
        "types": FILE_TYPES_HELP,
    }


upload_help = lazy(_upload_help, str)


class FileUploadForm(forms.Form):
    file = forms.FileField(label=_("File"), help_text=upload_help())
    description = forms.CharField(label=_("Description (optional)"), required=False, max_length=500)
    page = forms.IntegerField(required=False, widget=forms.HiddenInput)


class FileVersionForm(forms.Form):
    file = forms.FileField(label=_("New version"), help_text=upload_help())
    comment = forms.CharField(label=_("What changed? (optional)"), required=False, max_length=300)
