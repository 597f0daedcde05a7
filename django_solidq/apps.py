from django.apps import AppConfig


class SolidQueueConfig(AppConfig):
    name = "django_solidq"
    label = "django_solidq"
    verbose_name = "Solid Queue"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .metrics import install as install_metrics

        install_metrics()  # job counters, when prometheus-client is installed
