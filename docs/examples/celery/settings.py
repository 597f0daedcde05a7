"""Celery beat's schedule as SOLIDQ["RECURRING"] (docs/from-celery.md)."""

# --8<-- [start:beat]
# CELERY_BEAT_SCHEDULE = {
#     "cleanup": {"task": "shop.tasks.cleanup", "schedule": crontab(minute=0, hour=3)},
#     "report": {
#         "task": "shop.tasks.send_report",
#         "schedule": crontab(minute=30, hour=7, day_of_week="mon-fri"),
#         "args": ("daily",),
#     },
#     "poll": {"task": "shop.tasks.poll", "schedule": 30.0},
# }
SOLIDQ = {
    "RECURRING": {
        "cleanup": {"task": "docs.examples.celery.tasks.cleanup", "schedule": "0 3 * * *"},
        "report": {
            "task": "docs.examples.celery.tasks.send_report",
            "schedule": "every weekday at 7:30am",
            "args": ["daily"],
        },
        "poll": {"task": "docs.examples.celery.tasks.poll", "schedule": "every 30 seconds"},
    },
}
# --8<-- [end:beat]
