"""Mission Control: the queue in the Django admin.

Registers Job (jobs by status, a job's page, retry / discard / run now; the dashboard and the
queues page live under its URLs), Process (workers) and RecurringTask. Jobs and processes are
read-only: state changes only through the named actions, each behind its own permission.
Dynamic recurring tasks can be added, edited and removed (the model's standard permissions);
static ones are read-only.
"""

from .jobs import JobAdmin
from .processes import ProcessAdmin
from .recurring import RecurringTaskAdmin

__all__ = ["JobAdmin", "ProcessAdmin", "RecurringTaskAdmin"]
