"""Celery tasks, rewritten as django_solidq tasks (docs/from-celery.md)."""

from __future__ import annotations

from datetime import timedelta

from django.tasks import TaskContext, TaskResultStatus, task

from django_solidq import enqueue_all, polynomially_longer, retry_on


class GatewayError(Exception):
    """A flaky outside service: worth retrying."""


class Gateway:
    """A stand-in for an HTTP client; tests make it fail."""

    def fetch(self, url: str) -> str:
        return f"<html>{url}</html>"


gateway = Gateway()


# --8<-- [start:basic]
@task
def add(x: int, y: int) -> int:
    return x + y


@task(queue_name="emails", priority=10)
def send_email(to: str, subject: str) -> str:
    return f"sent {subject!r} to {to}"


# --8<-- [end:basic]


# --8<-- [start:bind]
@task(takes_context=True)
def fetch_page(context: TaskContext, url: str) -> dict[str, object]:
    # Celery's self.request.id and self.request.retries (+ 1):
    return {"job": context.task_result.id, "attempt": context.attempt}


# --8<-- [end:bind]


# --8<-- [start:retries]
@task(
    retry_on=[
        # autoretry_for=(GatewayError,), retry_backoff=True, max_retries=5:
        # 6 attempts in all (the first and 5 retries), waiting longer each time.
        retry_on(GatewayError, wait=polynomially_longer, attempts=6),
        # default_retry_delay=30 for timeouts, retried 3 times.
        retry_on(TimeoutError, wait=timedelta(seconds=30), attempts=4),
    ],
)
def crawl(url: str) -> int:
    return len(gateway.fetch(url))


# --8<-- [end:retries]


# --8<-- [start:periodic]
@task
def cleanup() -> int:
    return 0  # delete what is stale


@task
def send_report(kind: str) -> str:
    return f"{kind} report sent"


@task
def poll() -> None: ...


# --8<-- [end:periodic]


# --8<-- [start:chain]
@task
def download(url: str) -> str:
    page = gateway.fetch(url)
    extract_links.enqueue(url, len(page))  # chain: the next step, enqueued by this one
    return page


@task
def extract_links(url: str, size: int) -> int:
    return size // 10


# --8<-- [end:chain]


# --8<-- [start:chord]
class PartsPending(Exception):
    """The callback ran before every part had finished: it is retried a little later."""


@task
def resize(image_id: int) -> int:
    return image_id * 2


@task(retry_on=[retry_on(PartsPending, wait=timedelta(seconds=5), attempts="unlimited")])
def publish_album(part_ids: list[str]) -> int:
    parts = [resize.get_result(part_id) for part_id in part_ids]
    if any(not part.is_finished for part in parts):
        raise PartsPending  # try again in 5 seconds
    if any(part.status != TaskResultStatus.SUCCESSFUL for part in parts):
        raise RuntimeError("a part failed")
    return sum(part.return_value for part in parts)


def resize_album(image_ids: list[int]) -> str:
    """chord(group(resize.s(i) for i in image_ids), publish_album.s())"""
    parts = enqueue_all([resize.bind(image_id) for image_id in image_ids])
    return publish_album.enqueue([part.id for part in parts]).id


# --8<-- [end:chord]
