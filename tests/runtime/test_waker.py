"""The self-pipe every main loop sleeps on: a wake-up is never lost, and wakes that come while
one is pending write nothing more (a busy worker's job threads would write one per job)."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading
import time

from django_solidq.runtime.stopping import Waker


def pipe_bytes(waker: Waker) -> int:
    """How many bytes the pipe holds (read without draining: FIONREAD)."""
    raw = fcntl.ioctl(waker._read, termios.FIONREAD, b"\0\0\0\0")
    return int(struct.unpack("i", raw)[0])


def test_a_wake_before_the_wait_ends_it_at_once():
    waker = Waker()
    waker.wake()
    began = time.monotonic()
    assert waker.wait(10) == [waker._read]
    assert time.monotonic() - began < 5
    assert waker.wait(0.01) == []  # drained: nothing pending any more


def test_wakes_while_one_is_pending_write_nothing_more():
    waker = Waker()
    for _ in range(50):
        waker.wake()
    assert pipe_bytes(waker) == 1
    waker.wait(0)
    assert pipe_bytes(waker) == 0
    waker.wake()  # after the wait drained: written again
    assert pipe_bytes(waker) == 1


def test_no_wake_is_lost_between_waits_from_many_threads():
    """A sleeper that waits for a counter to reach a number, woken by threads that each add
    one and wake it: it always gets there, never sleeping through its last wake."""
    waker = Waker()
    lock = threading.Lock()
    count = 0
    total = 800

    def add() -> None:
        nonlocal count
        for _ in range(total // 4):
            time.sleep(0.0002)  # spread over many of the sleeper's waits
            with lock:
                count += 1
            waker.wake()

    threads = [threading.Thread(target=add) for _ in range(4)]
    for thread in threads:
        thread.start()
    while True:
        with lock:
            if count == total:
                break
        # Every add wakes the sleeper after counting: until the count is reached, a wait
        # always ends by a wake. One that runs out its timeout slept through a wake-up.
        assert waker.wait(2), "a wake-up was lost: slept 2 s with adds outstanding"
    for thread in threads:
        thread.join()


def test_a_signal_wake_is_not_lost_when_a_wake_is_pending():
    """The wakeup fd the stop signals use writes past the pending flag: the pipe has a byte."""
    waker = Waker()
    waker.wake()
    os.write(waker.write_fd, b"\x0f")  # what signal.set_wakeup_fd writes on a signal
    assert waker.wait(0) == [waker._read]
    assert pipe_bytes(waker) == 0
