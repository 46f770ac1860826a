import os

from django.conf import settings
from django.core.files.storage import FileSystemStorage


class PrivateFileStorage(FileSystemStorage):
    """Files of spaces: outside the web root, no public URL; reads PRIVATE_MEDIA_ROOT at use time (tests move it)."""

    def __init__(self, location=None, **kwargs):
        kwargs["base_url"] = None
        super().__init__(location=location, **kwargs)

    @property  # type: ignore[override]
    def base_location(self):
        return self._value_or_setting(self._location, settings.PRIVATE_MEDIA_ROOT)

    @property  # type: ignore[override]
    def location(self):
        return os.path.abspath(self.base_location)

    def url(self, name):
        raise ValueError("Space files have no public URL; link to the permission-checked download view.")
