"""Settings snippets: Solid Queue's ``config/queue.yml`` and ``database.yml`` as Django settings.
Each constant is what you would assign in ``settings.py``."""

from __future__ import annotations

INSTALLED_APPS = [
    "admin_interface",  # the admin theme django_solidq uses, before django.contrib.admin
    "colorfield",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_solidq",
    # ... your apps
]

# Django's Tasks setting: django_solidq is the backend of the "default" alias.
TASKS = {
    "default": {
        "BACKEND": "django_solidq.backend.SolidQueueBackend",
        "QUEUES": [],  # [] accepts any queue name
    },
}

# config/queue.yml, production:
SOLIDQ_PRODUCTION = {
    "DISPATCHERS": [{"polling_interval": 1, "batch_size": 500}],
    "WORKERS": [{"queues": ["*"], "threads": 5, "processes": 3, "polling_interval": 0.1}],
}

# config/queue.yml, development:
SOLIDQ_DEVELOPMENT = {
    "DISPATCHERS": [{"polling_interval": 1}],
    "WORKERS": [{"queues": ["*"], "threads": 3, "processes": 1, "polling_interval": 1}],
}

# config.solid_queue.connects_to: the queue tables in a database of their own.
DATABASES = {
    "default": {"ENGINE": "django.db.backends.postgresql", "NAME": "myapp_production"},
    "queue": {"ENGINE": "django.db.backends.postgresql", "NAME": "myapp_queue_production"},
}
DATABASE_ROUTERS = ["django_solidq.routers.QueueRouter"]
SOLIDQ_SEPARATE_DATABASE = {**SOLIDQ_PRODUCTION, "DATABASE": "queue"}

# Monitoring: middleware around every job, first outermost (Active Job's around_perform in
# ApplicationJob).
SOLIDQ_WITH_MIDDLEWARE = {
    **SOLIDQ_PRODUCTION,
    "MIDDLEWARE": [
        "docs.examples.middleware.track_metrics",
        "docs.examples.middleware.track_errors",
    ],
}

# config/recurring.yml: one entry per recurring task, "task" (a dotted path) instead of "class".
SOLIDQ_RECURRING = {
    **SOLIDQ_PRODUCTION,
    "RECURRING": {
        "cleanup_old_records": {
            "task": "docs.examples.jobs.cleanup",
            "schedule": "every day at 2am",
        },
        "send_daily_digest": {
            "task": "docs.examples.jobs.send_digest",
            "schedule": "every day at 8am",
            "args": ["daily"],
        },
        "process_payments": {
            "task": "docs.examples.jobs.charge_pending_payments",
            "schedule": "every 15 minutes",
        },
        "generate_reports": {
            "task": "docs.examples.jobs.generate_report",
            "schedule": "every monday at 9am",
            "args": ["weekly"],
            "queue": "reports",
        },
        "clear_sessions": {
            "command": "clearsessions",  # a management command instead of a task
            "schedule": "every day at 3am",
        },
    },
}
