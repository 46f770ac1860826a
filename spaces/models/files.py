"""The file repository: files in a space's library or attached to a page, each with its versions."""

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .items import Item
from .space import Space


def private_storage():
    """Uploaded files live outside the web root and are served only by the permission-checked view."""
    return storages["private"]


def file_version_path(instance: "FileVersion", filename: str) -> str:
    return f"files/{instance.asset.space_id}/{instance.asset_id}/{instance.number}/{filename}"


class FileAsset(models.Model):
    item = models.OneToOneField(Item, on_delete=models.CASCADE, related_name="file", verbose_name=_("item"))
    space = models.ForeignKey(Space, on_delete=models.CASCADE, related_name="files", verbose_name=_("space"))
    page = models.ForeignKey(
        "spaces.Page",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
        verbose_name=_("attached to page"),
    )
    event = models.ForeignKey(
        "spaces.Event",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="files",
        help_text=_("Attached to an event (agenda, presentations): seen only where the event is seen."),
        verbose_name=_("attached to event"),
    )
    name = models.CharField(_("name"), max_length=255)
    description = models.CharField(_("description"), max_length=500, blank=True)
    current_version = models.ForeignKey(
        "FileVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("current version"),
    )
    version_count = models.PositiveIntegerField(_("number of versions"), default=0)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(page__isnull=True) | models.Q(event__isnull=True), name="file_on_page_or_event"
            )
        ]
        verbose_name = _("file")
        verbose_name_plural = _("files")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("spaces:file-detail", kwargs={"file_id": self.pk})

    def get_download_url(self) -> str:
        return reverse("spaces:file-download", kwargs={"file_id": self.pk, "filename": self.name})


class FileVersion(models.Model):
    asset = models.ForeignKey(FileAsset, on_delete=models.CASCADE, related_name="versions", verbose_name=_("file"))
    number = models.PositiveIntegerField(_("version number"))
    file = models.FileField(_("uploaded file"), upload_to=file_version_path, storage=private_storage, max_length=500)
    original_name = models.CharField(_("original name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("file type"), max_length=120)
    sha256 = models.CharField(_("SHA-256 checksum"), max_length=64)
    comment = models.CharField(_("comment"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("uploaded by")
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["asset", "number"], name="file_version_number_unique")]
        verbose_name = _("file version")
        verbose_name_plural = _("file versions")

    def __str__(self) -> str:
        return f"{self.original_name} v{self.number}"
