"""Solid Queue's "Testing with perform_enqueued_jobs": the jobs run at the block's end."""

import pytest

from django_solidq.testing import perform_enqueued_jobs


@pytest.mark.django_db
@pytest.mark.urls("docs.examples.urls")
def test_sends_welcome_email_after_registration(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with perform_enqueued_jobs(), django_capture_on_commit_callbacks(execute=True):
        client.post("/users/", {"username": "john", "email": "user@example.com"})

    assert len(mailoutbox) == 1
    mail = mailoutbox[-1]
    assert "user@example.com" in mail.to
