"""Keep the polling queries out of the logs (Solid Queue's ``silence_polling``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

from django_solidq.conf import get_config

_sql_logger = logging.getLogger("django.db.backends")


@contextmanager
def quiet_polling() -> Iterator[None]:
    if not get_config().silence_polling:
        yield
        return
    previous = _sql_logger.disabled
    _sql_logger.disabled = True
    try:
        yield
    finally:
        _sql_logger.disabled = previous
