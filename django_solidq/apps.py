from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class SolidQueueConfig(AppConfig):
    name = "django_solidq"
    label = "django_solidq"
    verbose_name = "Mission Control"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
        from .metrics import install as install_metrics

        install_metrics()  # job counters, when prometheus-client is installed
        # After every migrate: django-admin-interface's theme set up for Mission Control.
        post_migrate.connect(configure_admin_theme, sender=self)


def configure_admin_theme(**kwargs: Any) -> None:
    from django.apps import apps

    if apps.is_installed("admin_interface"):
        from .admin.theme import configure_theme

        configure_theme(**kwargs)
