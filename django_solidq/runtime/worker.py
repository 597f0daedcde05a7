"""Worker: claims as many ready jobs as it has room for and performs them: sync tasks in its
threads, ``async def`` tasks on its event loop (``AsyncPool``). While a backlog waits, it
claims a few sync jobs ahead of its busy threads (``Waiting``)."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from django_solidq import hooks
from django_solidq.conf import WorkerConfig, get_config, queue_database
from django_solidq.models import ClaimedExecution, Job, ReadyExecution
from django_solidq.runtime.async_pool import AsyncPool
from django_solidq.runtime.execution import Recorder, perform_in_thread, runs_async
from django_solidq.runtime.finisher import Finisher
from django_solidq.runtime.liveness import close_dead_connections
from django_solidq.runtime.notifier import Listener
from django_solidq.runtime.polling import quiet_polling
from django_solidq.runtime.pool import Pool, Work
from django_solidq.runtime.process import Registered
from django_solidq.runtime.timeouts import Watchdog
from django_solidq.runtime.waiting import Waiting

logger = logging.getLogger("django_solidq.worker")
COALESCE_SECONDS = 0.002


class Worker(Registered):
    kind = "worker"

    def __init__(self, config: WorkerConfig, waiting_block: Any = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.config = config
        # Jobs claimed ahead; ``waiting_block`` is the memory the supervisor reads them (and
        # the last claim handed out) from if this process dies (none in thread mode).
        self.waiting = Waiting(config.prefetch_limit, waiting_block)
        self.pool = Pool(config.threads, on_idle=self.wake, feed=self._next_waiting)
        self.async_pool = AsyncPool(config.async_concurrency, on_idle=self.wake)
        # What the last claim that found jobs brought: claim for the room of those kinds
        # (threads for sync jobs, the event loop for async ones), so that a queue of async
        # jobs is not claimed for idle threads only to be given back.
        self._sync_seen, self._async_seen = True, False
        # How many jobs to keep waiting (the run loop's last estimate), and ``pool.completed``
        # when waiting jobs last went back unstarted: no claiming ahead until a thread frees.
        self._target = 0
        self._expired_at: int | None = None
        self.recorder = Finisher(self.name) if get_config().batch_finishes else Recorder(self.name)
        self.listener: Listener | None = None
        self.watchdog = Watchdog(get_config().timeout_grace, self._note_timed_out)
        # Held while claiming until the claimed jobs are in the recorder's hand, so that
        # ``release_stranded`` never takes a claim that is on its way to a thread.
        self._claiming = threading.Lock()

    def metadata(self) -> dict[str, Any]:
        return {
            "queues": list(self.config.queues),
            "threads": self.config.threads,
            "polling_interval": self.config.polling_interval,
            "async_concurrency": self.config.async_concurrency,
        }

    def start(self, parent_pid: int | None = None) -> None:
        self.register(parent_pid)
        if Listener.supported(queue_database()):
            self.listener = Listener(queue_database(), self.wake)
            self.listener.start()

    def run(self) -> None:
        """Poll until stopped. Claim for idle threads (and, once async jobs come, free room
        on the event loop); while claims come back full, also for ``prefetch`` jobs ahead."""
        backlog = False
        while self.keep_running():
            self._start_waiting()
            self._give_back_expired()
            room = self.room
            ahead = self._ahead() if backlog else 0
            if backlog and not ahead and 0 < room < self.min_batch:
                # Jobs are waiting and most slots are busy: give a few more a moment to free
                # up, so that one claim serves several of them.
                time.sleep(COALESCE_SECONDS)
                room = self.room
            want = room + ahead
            if want:
                claimed = self._claim(want)
                backlog = claimed == want
                if backlog:
                    continue  # there may be more: claim again at once
            self.sleep(self._idle_for(self.room))  # threads may have freed during a claim

    def _idle_for(self, room: int) -> float | None:
        """How long the run loop may sleep: until woken when every slot is busy (a thread
        that ends a job wakes it), else a polling interval — and no later than the oldest
        waiting job's ``prefetch_wait``."""
        timeout = None if room == 0 else self.config.polling_interval
        age = self.waiting.oldest_age()
        if age is not None:
            left = max(0.0, self.config.prefetch_wait - age) + COALESCE_SECONDS
            timeout = left if timeout is None else min(timeout, left)
        return timeout

    def _ahead(self) -> int:
        """How many sync jobs to claim beyond idle threads: enough to keep ``_target``
        waiting, refilled once half of them are gone; none after waiting jobs went back
        unstarted, until a thread frees."""
        if not self._for_threads or self.waiting.capacity == 0:
            return 0
        if self._expired_at is not None:
            if self.pool.completed <= self._expired_at:
                return 0
            self._expired_at = None
        self._target = self._expected_starts()
        waiting = len(self.waiting)
        if waiting > self._target // 2:
            return 0
        return min(self._target - waiting, self.waiting.space)

    def _expected_starts(self) -> int:
        """The jobs the threads are expected to start within half of ``prefetch_wait``, at
        their recent average duration (at most ``prefetch``)."""
        duration = self.pool.average_duration
        if duration <= 0:
            return self.waiting.capacity
        starts = self.config.prefetch_wait / 2 * self.config.threads / duration
        return min(self.waiting.capacity, int(starts))

    def _next_waiting(self) -> Work | None:
        """For a thread that ended a job: the oldest waiting job (the run loop is woken to
        claim more once half of them are gone)."""
        job = self.waiting.take()
        if job is None:
            return None
        if len(self.waiting) <= self._target // 2:
            self.wake()
        return perform_in_thread, (job, self.recorder, self.watchdog)

    def _start_waiting(self) -> None:
        """Waiting jobs for threads that went idle while the jobs were put there."""
        while self.pool.idle > 0:
            job = self.waiting.take()
            if job is None:
                return
            self.pool.post(perform_in_thread, job, self.recorder, self.watchdog)

    def _give_back_expired(self) -> None:
        jobs = self.waiting.expired(self.config.prefetch_wait)
        if jobs:
            self._expired_at = self.pool.completed
            self._give_back(jobs)
            logger.debug("%s: %d job(s) waited past prefetch_wait", self.name, len(jobs))

    def _give_back(self, jobs: list[Job]) -> None:
        if not jobs:
            return
        try:
            self._release(jobs)
        finally:
            self.waiting.forget(jobs)

    @property
    def _for_threads(self) -> bool:
        """Claim for the threads too: the last claim brought sync jobs (or no async ones)."""
        return self._sync_seen or not self._async_seen

    @property
    def room(self) -> int:
        """Free slots for the kinds of jobs the last claim brought: idle threads for sync
        jobs, free room on the event loop for async ones."""
        threads = self.pool.idle if self._for_threads else 0
        return threads + (self.async_pool.idle if self._async_seen else 0)

    @property
    def min_batch(self) -> int:
        threads = self.config.threads if self._for_threads else 0
        return max(1, (threads + (self.async_pool.size if self._async_seen else 0)) // 2)

    def _claim(self, limit: int) -> int:
        jobs = self._take(limit)
        if jobs is None:
            # The claim may have committed even so (its reply lost with the connection):
            # give back whatever it took.
            self._release_stranded("worker poll")
            self.sleep(self.config.polling_interval)
            return 0
        threads, surplus = self.pool.idle, []
        kinds = {runs_async(job.task_path) for job in jobs}
        for job in jobs:
            if runs_async(job.task_path):
                if self.async_pool.idle > 0:
                    self.waiting.hand(job)
                    self.async_pool.post(job, self.recorder)
                    continue
            elif threads > 0:
                threads -= 1
                self.waiting.hand(job)
                self.pool.post(perform_in_thread, job, self.recorder, self.watchdog)
                continue
            elif self.waiting.put(job):
                continue
            surplus.append(job)
        if kinds:
            self._sync_seen, self._async_seen = False in kinds, True in kinds
        if surplus:
            self._release(surplus)
        return len(jobs)

    def _release(self, jobs: list[Job]) -> None:
        """Give back, untouched, claimed jobs there is no room for (sync jobs claimed for the
        event loop's room, waiting jobs no thread started in time): they never started, so
        no attempt is counted."""
        # On an error the heartbeat's release_stranded gives them back.
        with hooks.reported("worker: releasing claims it has no room for"):
            claims = [job.claimed.pk for job in jobs if job.claimed is not None]
            ClaimedExecution.objects.filter(id__in=claims).release_all()
        self.recorder.settle(jobs)

    def _take(self, limit: int) -> list[Job] | None:
        """Claim up to ``limit`` jobs into the recorder's hand; None if the claim failed."""
        with self._claiming:
            with hooks.reported("worker poll"), quiet_polling():
                close_dead_connections()
                jobs = ReadyExecution.objects.claim(
                    self.config.queues, limit, self.process.id if self.process else None
                )
                self.recorder.hold(jobs)
                return jobs
            return None

    def release_stranded(self) -> int:
        """Give back to ready, untouched, the claims in this process's name that none of its
        threads is running or about to run — a claim whose commit reply was lost. They never
        started, so no attempt is counted."""
        if self.process is None:
            return 0
        with self._claiming:
            held = self.recorder.held()
            released = self.process.claims().exclude(job_id__in=held).release_all()
        if released:
            logger.warning("%s: released %d stranded claim(s) to ready", self.name, released)
        return released

    def _release_stranded(self, where: str) -> None:
        with hooks.reported(f"{where}: releasing stranded claims"):
            self.release_stranded()

    def _beat(self) -> None:
        close_dead_connections()
        super()._beat()
        if not self.stopping.is_set():  # stopping: the supervisor settles what is left
            self._release_stranded("worker heartbeat")

    def _note_timed_out(self, job_ids: list[str]) -> None:
        """Before a hard timeout ends this process: tell the supervisor which jobs were stuck."""
        if self.process is not None:
            self.process.note_timed_out(job_ids)

    def drain(self) -> bool:
        """Stop listening and wait for in-flight jobs; True if they all finished in time."""
        if self.listener is not None:
            self.listener.stop()
        self._give_back(self.waiting.close())
        finished = self._wait_idle(get_config().shutdown_timeout)
        self.pool.shutdown()
        self.async_pool.shutdown()
        if isinstance(self.recorder, Finisher):
            self.recorder.stop(timeout=get_config().shutdown_timeout)
        return finished

    def _wait_idle(self, timeout: float) -> bool:
        """Wait on the self-pipe (a finishing job wakes it) rather than on the pool's lock, so
        that a QUIT is acted on at once. The slice bounds a wake-up taken by the run loop's
        thread (thread mode)."""
        deadline = time.monotonic() + timeout
        while self.pool.busy or self.async_pool.busy:
            self.act_on_signals()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sleep(min(remaining, self.config.polling_interval))
        return True
