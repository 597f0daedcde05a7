"""The same tests in Django's own ``TestCase`` (no pytest needed)."""

from django.contrib.auth.models import User
from django.core import mail
from django.tasks import TaskResultStatus
from django.test import TestCase, override_settings

from django_solidq.testing import (
    assert_enqueued,
    assert_performed,
    perform_enqueued_jobs,
    perform_now,
)
from docs.examples.jobs import send_welcome_email


@override_settings(ROOT_URLCONF="docs.examples.urls")
class RegistrationTests(TestCase):
    def test_sends_welcome_email_after_registration(self):
        with perform_enqueued_jobs(), self.captureOnCommitCallbacks(execute=True):
            self.client.post("/users/", {"username": "john", "email": "user@example.com"})

        self.assertEqual(len(mail.outbox), 1)
        self.assertIn("user@example.com", mail.outbox[-1].to)
        assert_performed(send_welcome_email, count=1)

    def test_enqueues_the_welcome_email_on_the_mailers_queue(self):
        user = User.objects.create_user("ada", "ada@example.com")

        send_welcome_email.enqueue(user.pk)

        assert_enqueued(send_welcome_email, args=[user.pk], queue="mailers")
        self.assertEqual(
            perform_now(send_welcome_email, user.pk).status, TaskResultStatus.SUCCESSFUL
        )


# --8<-- [start:immediate]
IMMEDIATE = {"default": {"BACKEND": "django_solidq.testing.ImmediateBackend", "QUEUES": []}}


@override_settings(TASKS=IMMEDIATE)
class ImmediateBackendTests(TestCase):
    def test_jobs_run_as_they_are_enqueued(self):
        user = User.objects.create_user("ada", "ada@example.com")

        result = send_welcome_email.enqueue(user.pk)

        self.assertEqual(result.status, TaskResultStatus.SUCCESSFUL)
        self.assertEqual(len(mail.outbox), 1)


# --8<-- [end:immediate]
