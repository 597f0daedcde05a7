"""Bad configuration and bad arguments get clear errors with stable IDs."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError

from django_solidq.checks import check_settings
from django_solidq.exceptions import ArgumentNotSerializable
from django_solidq.models import Job
from tests.app import tasks


def ids(settings_value) -> list[str]:
    from django.test import override_settings

    with override_settings(SOLIDQ=settings_value):
        return [message.id for message in check_settings()]


def messages(settings_value) -> str:
    from django.test import override_settings

    with override_settings(SOLIDQ=settings_value):
        return "\n".join(f"{m.msg} {m.hint}" for m in check_settings())


def test_the_test_settings_are_valid():
    assert check_settings() == []


def test_solidq_must_be_a_dict():
    assert ids(["WORKERS"]) == ["django_solidq.E001"]


def test_an_unknown_top_level_key_is_named():
    assert ids({"WORKER": []}) == ["django_solidq.E002"]
    assert "Unknown key 'WORKER' in SOLIDQ" in messages({"WORKER": []})


def test_an_unknown_worker_key_is_named_with_the_allowed_ones():
    config = {"WORKERS": [{"queue": ["default"]}]}
    assert ids(config) == ["django_solidq.E004"]
    text = messages(config)
    assert "Unknown key 'queue' in SOLIDQ['WORKERS'][0]" in text
    assert "polling_interval, prefetch, prefetch_wait, processes, queues, threads" in text


def test_negative_threads_are_an_error_that_says_the_fix():
    config = {"WORKERS": [{"threads": -2}]}
    assert ids(config) == ["django_solidq.E005"]
    assert "SOLIDQ['WORKERS'][0]['threads'] must be a positive whole number, got -2" in messages(
        config
    )


def test_prefetch_may_be_zero_or_none_but_not_negative_and_its_wait_must_be_positive():
    assert ids({"WORKERS": [{"prefetch": 0}]}) == []
    assert ids({"WORKERS": [{"prefetch": None}]}) == []
    assert ids({"WORKERS": [{"prefetch": 512}]}) == []
    config = {"WORKERS": [{"prefetch": -1, "prefetch_wait": 0}]}
    assert ids(config) == ["django_solidq.E005", "django_solidq.E005"]
    text = messages(config)
    assert "SOLIDQ['WORKERS'][0]['prefetch'] must be a whole number of 0 or more, got -1" in text
    assert "Set 'prefetch' to 0 or more (at most 512) or None." in text
    assert ids({"WORKERS": [{"prefetch": 513}]}) == ["django_solidq.E005"]
    assert "SOLIDQ['WORKERS'][0]['prefetch_wait'] must be a positive number of seconds" in text


@pytest.mark.parametrize(
    "worker",
    [{"queues": []}, {"queues": [""]}, {"processes": 0}, {"polling_interval": 0}, {"threads": 1.5}],
)
def test_bad_worker_values(worker):
    assert ids({"WORKERS": [worker]}) == ["django_solidq.E005"]


def test_bad_dispatcher_entries():
    assert ids({"DISPATCHERS": [{"batch": 5}]}) == ["django_solidq.E006"]
    assert ids({"DISPATCHERS": [{"batch_size": 0}]}) == ["django_solidq.E007"]
    assert ids({"DISPATCHERS": "fast"}) == ["django_solidq.E003"]


def test_bad_scalars_and_database():
    assert ids({"SHUTDOWN_TIMEOUT": -1}) == ["django_solidq.E008"]
    assert ids({"PRESERVE_FINISHED_JOBS": "yes"}) == ["django_solidq.E008"]
    assert ids({"DATABASE": "elsewhere"}) == ["django_solidq.E009"]


@pytest.mark.django_db
def test_manage_py_check_and_runjobs_refuse_a_bad_setting():
    from django.test import override_settings

    with override_settings(SOLIDQ={"WORKERS": [{"threads": -1}]}):
        with pytest.raises(SystemCheckError, match=r"django_solidq\.E005"):
            call_command("check")
        with pytest.raises((CommandError, SystemCheckError), match="threads"):
            call_command("runjobs", "--check")


def test_runjobs_check_describes_what_would_run(capsys):
    call_command("runjobs", "--check")
    out = capsys.readouterr().out
    assert "Configuration OK" in out
    assert "worker (3 threads, queues *" in out
    assert "dispatcher (batch 100" in out


def test_backend_check_rejects_options(settings):
    from django.tasks import task_backends

    settings.TASKS = {
        "default": {
            "BACKEND": "django_solidq.backend.SolidQueueBackend",
            "QUEUES": [],
            "OPTIONS": {"polling": 1},
        }
    }
    errors = task_backends["default"].check()
    assert [e.id for e in errors] == ["django_solidq.E012"]
    assert "'polling'" in errors[0].msg


@pytest.mark.django_db
def test_a_non_json_argument_is_named_and_nothing_is_stored():
    with pytest.raises(ArgumentNotSerializable, match=r"Argument #1 .* of tests.app.tasks.add"):
        tasks.add.enqueue(1, {1, 2})
    with pytest.raises(
        ArgumentNotSerializable, match=r"Argument 'when' of tests\.app\.tasks\.echo"
    ):
        tasks.echo.enqueue(when=object())
    with pytest.raises(ArgumentNotSerializable, match="non-string dict keys"):
        tasks.echo.enqueue({1: "a"})
    assert not Job.objects.exists()
