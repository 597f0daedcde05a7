"""The lines docs/quickstart.md adds at the end of ``mysite/settings.py``.

Not a settings module on its own: it extends the names ``startproject`` defined above it.
"""

# ruff: noqa: F821
# --8<-- [start:settings]
INSTALLED_APPS += ["django_solidq", "shop"]

# Django's Tasks setting: django_solidq stores every enqueued task in the database.
TASKS = {
    "default": {
        "BACKEND": "django_solidq.backend.SolidQueueBackend",
        "QUEUES": [],  # [] allows any queue name
    },
}

# SQLite only: let the web server and the workers share the database file.
DATABASES["default"]["OPTIONS"] = {
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}
# --8<-- [end:settings]
