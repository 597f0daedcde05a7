"""Mission Control: the queue in the Django admin.

Registers Job (jobs by status, a job's page, retry / discard / run now; the dashboard and the
queues page live under its URLs), Process (workers) and RecurringTask. Every page is
read-only; state changes only through the named actions, each behind its own permission.
"""

from .jobs import JobAdmin
from .processes import ProcessAdmin
from .recurring import RecurringTaskAdmin

__all__ = ["JobAdmin", "ProcessAdmin", "RecurringTaskAdmin"]
