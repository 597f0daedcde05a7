"""Where the receivers are connected. An app's ``apps.py``; this one is not installed."""

from __future__ import annotations

from django.apps import AppConfig
from django.db.models.signals import post_save


class ExamplesConfig(AppConfig):
    name = "docs.examples"

    def ready(self) -> None:
        from django.contrib.auth.models import User

        from django_solidq.signals import task_failed

        from .receivers import report_dead_job, welcome_new_user

        post_save.connect(welcome_new_user, sender=User, dispatch_uid="welcome_new_user")
        task_failed.connect(report_dead_job, dispatch_uid="report_dead_job")
