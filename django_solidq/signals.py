"""Django signals sent by django_solidq's processes (besides django.tasks' own signals).

``process_started`` / ``process_stopping`` are sent with ``actor``, ``kind`` ("supervisor",
"worker", "dispatcher", "scheduler") and ``name``: connect receivers to run code when a
process boots or stops (Solid Queue's ``on_start`` / ``on_stop`` hooks); filter on ``kind``.

``task_retried`` / ``task_discarded`` / ``task_failed`` are sent (with ``task_result``,
``exception`` and, for retries, ``retry_at``) after a failed attempt's outcome is recorded;
Django's ``task_finished`` is sent for discarded and failed jobs too.
"""

from django.dispatch import Signal

process_started = Signal()
process_stopping = Signal()

PROCESS_SIGNALS = {"on_start": process_started, "on_stop": process_stopping}

task_retried = Signal()
task_discarded = Signal()
task_failed = Signal()
