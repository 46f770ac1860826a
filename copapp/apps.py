from django.apps import AppConfig


class CopappConfig(AppConfig):
    name = "copapp"
    verbose_name = "copapp"

    def ready(self) -> None:
        from copapp import orm_speedups

        orm_speedups.install()
