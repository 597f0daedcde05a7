"""Tasks the tests enqueue. Module level, as Django requires."""

from __future__ import annotations

import contextvars
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.tasks import TaskContext, task


class Boom(Exception):
    pass


@task
def add(a: int, b: int) -> int:
    return a + b


@task
def noop() -> None:
    return None


@task
def echo(*args: Any, **kwargs: Any) -> dict[str, Any]:
    return {"args": list(args), "kwargs": kwargs}


@task
def fail(message: str = "boom") -> None:
    raise Boom(message)


@task
async def async_add(a: int, b: int) -> int:
    return a + b


@task(takes_context=True)
def attempt_number(context: TaskContext) -> int:
    return context.attempt


@task(queue_name="other", priority=10)
def on_other_queue() -> str:
    return "other"


@task
def record(path: str, label: str, sleep: float = 0.0) -> str:
    """Append ``label`` (and the pid) to a file; the tests read the file to see what ran."""
    with open(path, "a") as log:
        log.write(f"start {label} {os.getpid()}\n")
    if sleep:
        time.sleep(sleep)
    with open(path, "a") as log:
        log.write(f"end {label} {os.getpid()}\n")
    return label


@task
def sleep_then_mark(path: str, seconds: float) -> None:
    Path(path).write_text("started\n")
    time.sleep(seconds)
    with open(path, "a") as f:
        f.write("finished\n")


@task
def exit_worker(path: str, times: int) -> str:
    """Kill the worker process running it (``os._exit``) the first ``times`` attempts."""
    marker = Path(path)
    attempts = int(marker.read_text()) if marker.exists() else 0
    marker.write_text(str(attempts + 1))
    if attempts < times:
        os._exit(1)
    return "survived"


class Flaky(Exception):
    pass


class Fatal(Exception):
    pass


class Gateway(Exception):
    pass


class Deadlock(Exception):
    pass


COUNTER_FILE_KWARG = "counter"


def _bump(counter: str) -> int:
    path = Path(counter)
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


from django_solidq import retry_on  # noqa: E402


@task(retry_on=[retry_on(Flaky, wait=0, attempts=3)])
def always_flaky(counter: str) -> None:
    _bump(counter)
    raise Flaky("still flaky")


@task(retry_on=[retry_on(Flaky, wait=0, attempts=3)])
def flaky_twice(counter: str) -> str:
    if _bump(counter) <= 2:
        raise Flaky("not yet")
    return "ok"


@task(
    retry_on=[retry_on(Gateway, wait=0, attempts=2), retry_on(Deadlock, wait=0, attempts=3)],
    discard_on=[Fatal],
)
def scripted(counter: str, script: list[str]) -> str:
    """Raise the exception named at position n of ``script`` on the n-th run."""
    n = _bump(counter)
    errors = {"gateway": Gateway, "deadlock": Deadlock, "fatal": Fatal}
    if n <= len(script):
        raise errors[script[n - 1]](f"run {n}")
    return "done"


@task(retry_on=[retry_on(Flaky, wait=0, attempts="unlimited")])
def flaky_many(counter: str, failures: int) -> int:
    n = _bump(counter)
    if n <= failures:
        raise Flaky(f"run {n}")
    return n


EXHAUSTED: list[str] = []


def remember_exhausted(result, exc) -> None:
    EXHAUSTED.append(f"{result.id}:{type(exc).__name__}")


@task(retry_on=[retry_on(Flaky, wait=0, attempts=2, on_exhausted=remember_exhausted)])
def flaky_with_callback(counter: str) -> None:
    _bump(counter)
    raise Flaky("again")


@task(retry_on=[retry_on(Flaky, wait=0, attempts=2, queue="retries", priority=-10)])
def flaky_moves(counter: str) -> str:
    if _bump(counter) == 1:
        raise Flaky("move me")
    return "moved"


@task(retry_on=[retry_on(Flaky, wait=60, jitter=0, attempts=2)])
def flaky_later() -> None:
    raise Flaky("later")


def queue_for(account: str, **kwargs: Any) -> str:
    return "vip" if account.startswith("vip") else "default"


@task(queue_as=queue_for)
def account_report(account: str) -> str:
    return account


from django_solidq.exceptions import JobTimeout  # noqa: E402


@task(timeout=0.5, retry_on=[retry_on(JobTimeout, wait=0, attempts=2)])
def slow_in_python(counter: str, seconds: float) -> str:
    """Python code between short sleeps: JobTimeout interrupts it at its deadline."""
    n = _bump(counter)
    deadline = time.monotonic() + (seconds if n == 1 else 0)
    while time.monotonic() < deadline:
        time.sleep(0.01)
    return f"run {n}"


@task(timeout=0.5)
def stuck_in_c(seconds: float) -> None:
    """One blocking C call: only replacing the worker process ends it."""
    time.sleep(seconds)


CALLS: list[str] = []


def before_hook(result) -> None:
    CALLS.append("before")


def after_hook(result, value) -> None:
    CALLS.append(f"after:{value}")


def around_hook(result, proceed):
    CALLS.append("around-in")
    value = proceed()
    CALLS.append("around-out")
    return value


def tracing_middleware(perform):
    def middleware(result):
        CALLS.append(f"middleware-in:{result.task.name}")
        try:
            return perform(result)
        finally:
            CALLS.append("middleware-out")

    return middleware


def raising_hook(result) -> None:
    raise RuntimeError("hook failed")


@task(before=[before_hook], after=[after_hook], around=[around_hook])
def hooked(x: int) -> int:
    CALLS.append("task")
    return x * 2


@task(before=[raising_hook])
def hooked_badly() -> None:
    CALLS.append("never")


from django_solidq import limits_concurrency  # noqa: E402


@task(concurrency=limits_concurrency(key=lambda path, label, **kw: "sequence", to=1))
def in_sequence(path: str, label: str, fail: bool = False, sleep: float = 0.05) -> str:
    with open(path, "a") as log:
        log.write(f"start {label}\n")
    time.sleep(sleep)
    with open(path, "a") as log:
        log.write(f"end {label}\n")
    if fail:
        raise Boom(label)
    return label


@task(concurrency=limits_concurrency(key="trio", to=3))
def three_at_a_time(path: str, label: str, sleep: float = 0.3) -> str:
    return record.call(path, label, sleep)


@task(concurrency=limits_concurrency(key=lambda account, **kw: account, on_conflict="discard"))
def once_per_account(account: str) -> str:
    return account


@task(
    concurrency=limits_concurrency(key=lambda n, **kw: "flaky-seq"),
    retry_on=[retry_on(Flaky, wait=0, attempts=2)],
)
def limited_flaky(n: int) -> int:
    raise Flaky(str(n))


@task(concurrency=limits_concurrency(key=lambda user, **kw: user, group="accounts"))
def per_user(user: int) -> int:
    return user


from django_solidq import unique  # noqa: E402


@task(unique=unique(key=lambda report, **kw: report))
def build_report(report: str) -> str:
    return report


@task(unique=unique(key=lambda report, **kw: report, on_duplicate="drop"))
def build_report_once(report: str) -> str:
    return report


from django_solidq import ProcessExitError  # noqa: E402


@task(retry_on=[retry_on(ProcessExitError, wait=0, attempts=2)])
def exit_worker_with_rule(path: str) -> None:
    marker = Path(path)
    marker.write_text(str(int(marker.read_text()) + 1 if marker.exists() else 1))
    os._exit(1)


@task
def query_database(sleep: float = 0.0) -> int:
    """Uses the database, as most jobs do (tests of stale connections)."""
    from django.contrib.auth.models import User

    if sleep:
        time.sleep(sleep)
    return User.objects.count()


@task
def logs_inside(message: str) -> str:
    """Logs through its own logger: the job log's filter adds the job's id to the record."""
    logging.getLogger("tests.app.inside").warning(message)
    return message


# Async tasks run on a worker's event loop (runtime/async_pool.py). Module state: the tests
# run the worker in their own process and read it.
import asyncio  # noqa: E402

ASYNC_IN_FLIGHT = {"now": 0, "max": 0}


@task
async def async_gate(expected: int, patience: float = 20.0) -> int:
    """Wait until ``expected`` of these run at once (or ``patience`` passes): a test of
    concurrency by what the jobs saw, not by timing. Returns the most seen at once."""
    ASYNC_IN_FLIGHT["now"] += 1
    ASYNC_IN_FLIGHT["max"] = max(ASYNC_IN_FLIGHT["max"], ASYNC_IN_FLIGHT["now"])
    try:
        deadline = asyncio.get_running_loop().time() + patience
        while ASYNC_IN_FLIGHT["max"] < expected and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.01)
        return ASYNC_IN_FLIGHT["max"]
    finally:
        ASYNC_IN_FLIGHT["now"] -= 1


@task(retry_on=[retry_on(Flaky, wait=0, attempts=3)])
async def async_flaky_twice(counter: str) -> str:
    await asyncio.sleep(0)
    if _bump(counter) <= 2:
        raise Flaky("not yet")
    return "ok"


@task
async def async_fail(message: str = "boom") -> None:
    await asyncio.sleep(0)
    raise Boom(message)


@task(timeout=0.3)
async def async_too_slow() -> None:
    await asyncio.sleep(30)


@task(before=[before_hook], after=[after_hook], around=[around_hook])
async def async_hooked() -> str:
    CALLS.append("async-task")
    return "hooked"


def failing_before_hook(result) -> None:
    raise Boom("refused before the call")


def thread_recording_hook(result, value=None) -> None:
    """A before/after hook that notes the thread it ran in and whether it may use the ORM
    there (it queries: Django refuses a query on an event loop's thread)."""
    from django_solidq.models import Job

    CALLS.append(f"{threading.current_thread().name}:{Job.objects.filter(pk=result.id).count()}")


@task(before=[before_hook, thread_recording_hook], after=[after_hook, thread_recording_hook])
async def async_before_after() -> str:
    logging.getLogger("tests.app.inside").warning("inside the coroutine")
    CALLS.append("async-task")
    return "stepped"


@task(before=[failing_before_hook])
async def async_refused() -> None:
    CALLS.append("async-task")


@task
async def async_returns_a_set() -> set[int]:
    return {1, 2}


HOOK_VAR: contextvars.ContextVar[str] = contextvars.ContextVar("hook_var", default="unset")


def sets_var_before(result) -> None:
    HOOK_VAR.set(f"set-by-{result.id}")


def reads_var_after(result, value) -> None:
    CALLS.append(HOOK_VAR.get())


@task(before=[sets_var_before], after=[reads_var_after])
async def async_var_hooks() -> None:
    """What a ``before`` hook sets in its context (a ``translation.activate``, say), its
    ``after`` hook sees, job by job."""
    await asyncio.sleep(0.01)


@task
async def async_exits() -> None:
    await asyncio.sleep(0)
    sys.exit(3)


@task
async def async_child_exits() -> str:
    """Starts a task of its own that calls ``sys.exit``: asyncio stops the loop with it."""

    async def child() -> None:
        sys.exit(4)

    asyncio.get_running_loop().create_task(child())
    await asyncio.sleep(0.05)
    return "parent done"
