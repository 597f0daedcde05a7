"""Solid Queue's "Testing Retries": ``perform_now`` applies retry_on and discard_on."""

from datetime import timedelta
from unittest.mock import Mock

import pytest
from django.tasks import TaskResultStatus

from django_solidq.testing import (
    assert_enqueued,
    assert_no_enqueued,
    perform_enqueued_jobs,
    perform_now,
)
from docs.examples.jobs import process_payment
from docs.examples.services import InvalidCardError, PaymentGatewayError, payment_gateway

pytestmark = pytest.mark.django_db


def test_retries_on_payment_gateway_error(monkeypatch):
    monkeypatch.setattr(payment_gateway, "charge", Mock(side_effect=PaymentGatewayError))

    with pytest.raises(PaymentGatewayError):
        process_payment.call(42)  # the function itself, no rules: it raises

    result = perform_now(process_payment, 42)  # as a worker: retry_on catches the error
    assert result.status == TaskResultStatus.READY  # and schedules a retry
    assert_enqueued(process_payment, args=[42])


def test_discards_on_invalid_card_error(monkeypatch):
    monkeypatch.setattr(payment_gateway, "charge", Mock(side_effect=InvalidCardError))

    result = perform_now(process_payment, 42)  # does not raise

    assert result.status == TaskResultStatus.FAILED
    assert_no_enqueued(process_payment)  # discarded, not retried


def test_retries_run_when_due(monkeypatch):
    monkeypatch.setattr(payment_gateway, "charge", Mock(side_effect=PaymentGatewayError))
    result = process_payment.enqueue(42)

    perform_enqueued_jobs()  # the first attempt; its retry is due in about 3 seconds
    perform_enqueued_jobs(at=timedelta(minutes=10))  # every attempt due within 10 minutes

    final = process_payment.get_result(result.id)
    assert final.status == TaskResultStatus.FAILED
    assert final.attempts == 5
    assert_no_enqueued(process_payment)
