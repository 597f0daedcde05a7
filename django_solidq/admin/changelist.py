"""The job list's counting: capped, and on the execution table alone where it holds exactly
the list's jobs; the running jobs' workers named after the page is cut."""

from __future__ import annotations

from typing import Any

from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest

from django_solidq.models import Job, Process

from .helpers import EXECUTIONS


class JobChangeList(ChangeList):
    """The job list; the running jobs' workers are named after the page is cut (one query for
    the page's few process ids, instead of a subquery that every count would carry)."""

    def get_results(self, request: HttpRequest) -> None:
        super().get_results(request)
        # Never more than a page: with "show all" off, Django takes the whole queryset when
        # the count fits one page, and a count is a cap or an equivalent, never the rows.
        self.result_list = list(self.result_list[: self.list_per_page])
        process_ids = {job.claimed.process_id for job in self.result_list if job.claimed}
        if process_ids:
            names = dict(Process.objects.filter(id__in=process_ids).values_list("id", "name"))
            for job in self.result_list:
                if job.claimed is not None:
                    job.worker_name = names.get(job.claimed.process_id)


# Rows that hold exactly the jobs of a list filtered by status (plus these filters, on columns
# the execution table copies from its job): counted on that table alone, without the join.
COUNTED_FILTERS: dict[str, str] = {"queue": "queue_name"}
FAILED_FILTERS: dict[str, str] = {
    **COUNTED_FILTERS,
    "task": "task_path",
    "exception": "exception_class",
}
LIST_PARAMETERS = {"p", "o", "status"}


def counted_rows(request: HttpRequest) -> QuerySet[Any] | None:
    """For a list filtered by an execution status (and maybe its queue, or a failure's
    exception class) and nothing else: the execution rows to count instead of the jobs."""
    status = request.GET.get("status", "")
    if status not in EXECUTIONS or status == "claimed":
        return None
    model = Job._meta.get_field(EXECUTIONS[status]).related_model
    filters = FAILED_FILTERS if status == "failed" else COUNTED_FILTERS
    if set(request.GET) - LIST_PARAMETERS - set(filters):
        return None
    rows = model._default_manager.all()  # type: ignore[union-attr]
    # An empty value is no filter, for the list filters as here (the last value counts).
    return rows.filter(
        **{column: request.GET[key] for key, column in filters.items() if request.GET.get(key)}
    )
