"""The self-pipe every main loop sleeps on: a wake-up is never lost, and wakes that come while
one is pending write nothing more (a busy worker's job threads would write one per job)."""

from __future__ import annotations

import fcntl
import os
import struct
import termios
import threading
import time

import pytest

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
    one and wake it, one add per thread for each of the sleeper's turns (so that the wakes
    meet the sleeper at every point of its wait): it always gets there, never sleeping
    through its last wake."""
    waker = Waker()
    turned = threading.Condition()
    count = turns = 0
    adders, total = 4, 800

    def add() -> None:
        nonlocal count
        for seen in range(total // adders):
            with turned:  # the sleeper's turn `seen` (bounded: the assertion below ends it)
                turned.wait_for(lambda seen=seen: turns >= seen, timeout=5)
                count += 1
            waker.wake()

    threads = [threading.Thread(target=add) for _ in range(adders)]
    for thread in threads:
        thread.start()
    while True:
        with turned:
            if count == total:
                break
        # Every add wakes the sleeper after counting: until the count is reached, a wait
        # always ends by a wake. One that runs out its timeout slept through a wake-up.
        assert waker.wait(2), "a wake-up was lost: slept 2 s with adds outstanding"
        with turned:
            turns += 1
            turned.notify_all()
    for thread in threads:
        thread.join()


def test_bytes_from_the_signal_wakeup_fd_are_drained_with_a_pending_wake():
    """``signal.set_wakeup_fd`` writes to the same pipe past the pending flag: one wait takes
    both, and the next wake writes again."""
    waker = Waker()
    waker.wake()
    os.write(waker.write_fd, b"\x0f")  # what the interpreter writes on a signal
    assert waker.wait(0) == [waker._read]
    assert pipe_bytes(waker) == 0
    waker.wake()
    assert pipe_bytes(waker) == 1


def test_an_exception_while_draining_does_not_leave_wakes_switched_off(monkeypatch):
    """A signal handler may raise in the middle of the drain (KeyboardInterrupt): the pending
    flag is cleared anyway, or every later wake would skip its write and the loop sleep on."""
    waker = Waker()
    waker.wake()

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(waker, "_drain", interrupted)
    with pytest.raises(KeyboardInterrupt):
        waker.wait(0)
    monkeypatch.undo()
    waker._drain()  # the byte the interrupted drain left
    waker.wake()
    assert pipe_bytes(waker) == 1, "the wake after an interrupted drain wrote nothing"
    assert waker.wait(5) == [waker._read]
