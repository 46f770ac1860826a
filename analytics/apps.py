from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class BitOr:
    """PostgreSQL's ``bit_or`` aggregate for SQLite, which has none: the metrics fold members' month bits with it."""

    def __init__(self) -> None:
        self.value: int | None = None

    def step(self, value) -> None:
        if value is not None:
            self.value = (self.value or 0) | int(value)

    def finalize(self) -> int | None:
        return self.value


def add_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor == "sqlite":
        connection.connection.create_aggregate("bit_or", 1, BitOr)


class AnalyticsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "analytics"
    verbose_name = _("Analytics")

    def ready(self) -> None:
        connection_created.connect(add_sqlite_functions, dispatch_uid="analytics_sqlite_functions")
