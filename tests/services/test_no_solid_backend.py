"""django_solidq installed before TASKS points at its backend: a warning, not a wall."""

from __future__ import annotations

import pytest
from django.core import checks
from django.core.management import CommandError, call_command

DJANGO_IMMEDIATE = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.mark.django_db
def test_without_a_solid_backend_the_checks_warn_and_say_how_to_fix_it(settings):
    settings.TASKS = DJANGO_IMMEDIATE

    messages = [m for m in checks.run_checks() if m.id.startswith("django_solidq.")]

    assert [(m.id, m.level) for m in messages] == [("django_solidq.W001", checks.WARNING)]
    assert "'django_solidq.backend.SolidQueueBackend'" in messages[0].hint
    call_command("migrate", "--check", verbosity=0)  # not stopped by a system check error


@pytest.mark.django_db
def test_without_a_solid_backend_runjobs_refuses_with_the_fix(settings):
    settings.TASKS = DJANGO_IMMEDIATE

    with pytest.raises(CommandError, match=r"No SolidQueueBackend is configured in TASKS\. Point"):
        call_command("runjobs", "--check", skip_checks=True)
