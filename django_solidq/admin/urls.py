"""Mission Control's own pages: the dashboard and the queues page (pause, resume, clear).

Django's admin mounts URLs per registered model, so these live under the job admin's prefix
(``/admin/django_solidq/job/dashboard/``, names ``admin:django_solidq_job_<page>``: viewing
them needs ``view_job``); this module says which pages there are and which view serves each.
Every view is given the model admin it is mounted on and runs behind ``admin_view`` (login,
staff) and the parameter guard."""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path

from . import dashboard, queues

View = Callable[..., HttpResponse]

PAGES: list[tuple[str, View, str]] = [  # (path, view, name after "django_solidq_job_")
    ("dashboard/", dashboard.dashboard_view, "dashboard"),
    ("queues/", queues.queues_view, "queues"),
    ("queues/pause/", queues.pause_view, "queue_pause"),
    ("queues/resume/", queues.resume_view, "queue_resume"),
    ("queues/clear/", queues.clear_view, "queue_clear"),
]


def mission_control_urls(model_admin: admin.ModelAdmin[Any]) -> list[URLPattern]:
    """The pages' URL patterns, each view called as ``view(model_admin, request)``."""
    info = f"{model_admin.opts.app_label}_{model_admin.opts.model_name}"

    def wrap(view: View) -> View:
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            return view(model_admin, request, *args, **kwargs)

        wrapper.model_admin = model_admin  # type: ignore[attr-defined]
        return update_wrapper(model_admin.admin_site.admin_view(wrapper), view)

    return [path(route, wrap(view), name=f"{info}_{name}") for route, view, name in PAGES]
