"""Solid Queue's "Basic Job Test", for pytest-django (``user`` and ``mailoutbox`` fixtures)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User

from django_solidq.testing import assert_enqueued, captured_jobs, perform_now
from docs.examples.jobs import send_welcome_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def user():
    return User.objects.create_user("ada", "ada@example.com")


# perform ----------------------------------------------------------------------------------
def test_sends_welcome_email(user, mailoutbox):
    perform_now(send_welcome_email, user.pk)

    assert len(mailoutbox) == 1


def test_sends_email_to_correct_user(user, mailoutbox):
    perform_now(send_welcome_email, user.pk)

    mail = mailoutbox[-1]
    assert user.email in mail.to
    assert re.search("welcome", mail.subject, re.I)


# enqueuing --------------------------------------------------------------------------------
def test_enqueues_job(user):
    with captured_jobs() as jobs:
        send_welcome_email.enqueue(user.pk)

    assert_enqueued(send_welcome_email, args=[user.pk], jobs=jobs)


def test_enqueues_on_correct_queue(user):
    send_welcome_email.enqueue(user.pk)

    assert_enqueued(queue="mailers")


def test_schedules_delayed_job(user):
    send_welcome_email.using(run_after=timedelta(hours=1)).enqueue(user.pk)

    assert_enqueued(send_welcome_email, run_after=timedelta(hours=1), args=[user.pk])
