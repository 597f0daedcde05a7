"""Stop signals that cannot deadlock, and the self-pipe every main loop sleeps on.

Python runs a signal handler in the main thread between two bytecodes, possibly while that
thread holds a lock: inside ``Event.set`` or ``Event.wait``, a logging handler, a queue, or a
first handler that a second signal interrupted. A handler that takes such a lock waits for
itself forever; that is how a doubled TERM (process group + supervisor) used to hang a worker
until its supervisor killed it. So the handlers here take no lock and log nothing: they note
the signal in a flag and write a byte to the process's self-pipe (``os.write``). The main loop
sleeps in ``select`` on that pipe instead of ``Event.wait``, notices the flag, and does the stop
work (logging, setting Events for other threads) as ordinary code.
"""

from __future__ import annotations

import multiprocessing.connection
import os
import signal
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)

# Exit statuses a child reports to its supervisor.
EXIT_CLEAN = 0  # stopped and deregistered itself
EXIT_ABANDONED = 3  # shutdown timeout passed with jobs still running: supervisor releases them


class Waker:
    """A self-pipe: ``wake()``, from any thread or a signal handler, ends ``wait()``.

    A wake-up is never lost: one sent while nobody waits makes the next ``wait`` return at once.
    The caller of ``wait`` checks what it waits for after every return (a loop), so a
    ``wake`` while one is still pending writes nothing: a busy loop's job threads would
    otherwise write a byte per job, each ``os.write`` giving up the GIL and queueing for it
    again.
    """

    def __init__(self) -> None:
        self._read, self.write_fd = os.pipe()
        os.set_blocking(self._read, False)
        os.set_blocking(self.write_fd, False)
        # A byte is in the pipe (or about to be) that no wait has drained yet. Set by wake()
        # before it writes; cleared by wait() only after draining, so a wake that skipped its
        # write came before the waiter's return, and the waiter's next check sees its cause.
        self._pending = False

    def wake(self) -> None:
        if self._pending:
            return
        self._pending = True
        try:
            os.write(self.write_fd, b"\0")
        except BlockingIOError:  # the pipe is full: a wake-up is pending anyway
            pass

    def wait(self, timeout: float | None, also: Sequence[Any] = ()) -> list[Any]:
        """Sleep until woken, one of ``also`` (fds, process sentinels) is ready, or
        ``timeout`` seconds pass; the ready objects."""
        ready = multiprocessing.connection.wait([self._read, *also], timeout)
        if self._read in ready:
            try:
                self._drain()
            finally:  # even if a signal handler raised mid-drain: else no wake writes again
                self._pending = False
        return ready

    def _drain(self) -> None:
        try:
            while os.read(self._read, 4096):
                pass
        except BlockingIOError:
            pass


class StopSignals:
    """The stop signals this process received: TERM and INT ask for a graceful stop, QUIT for
    an immediate one. Only the handlers write these fields; the main loop reads them."""

    def __init__(self, waker: Waker) -> None:
        self.waker = waker
        self.graceful = 0  # the first TERM or INT received (0: none yet)
        self.immediate = False  # a QUIT was received

    def install(self) -> StopSignals:
        """Take over TERM, INT and QUIT (main thread only)."""
        # A signal delivered to another thread, or while the main thread sleeps in C, still
        # ends the loop's select: the interpreter writes the signal's number to this fd.
        signal.set_wakeup_fd(self.waker.write_fd, warn_on_full_buffer=False)
        for sig in STOP_SIGNALS:
            signal.signal(sig, self._note)
        return self

    def _note(self, signum: int, frame: object) -> None:
        # Attribute stores and one os.write: no lock, no logging (see the module docstring).
        if signum == signal.SIGQUIT:
            self.immediate = True
        elif not self.graceful:
            self.graceful = signum
        self.waker.wake()

    @property
    def received(self) -> str:
        """Which stop was asked for, for the log."""
        return "SIGQUIT" if self.immediate else signal.Signals(self.graceful).name


@contextmanager
def stop_signals_held() -> Iterator[None]:
    """Hold stop signals back in this thread, and in a child spawned meanwhile until it calls
    ``accept_stop_signals`` (its handlers in place): a child must not die of a TERM that
    arrives while it boots. Held-back signals are delivered when released, not lost."""
    from multiprocessing import resource_tracker

    # Starting the tracker unblocks TERM and INT in this thread: have it started first.
    resource_tracker.ensure_running()
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def accept_stop_signals() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def ignore_stop_signals() -> None:
    """Once stopped: a late signal must not kill the interpreter while it exits (at exit,
    Python resets its handlers to the default, which ends the process with that signal)."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_IGN)
