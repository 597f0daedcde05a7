"""Pidfile: one supervisor per pidfile; a stale one (its process is dead) is taken over."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType


class PidfileTaken(Exception):
    pass


class Pidfile:
    def __init__(self, path: str | None) -> None:
        self.path = Path(path) if path else None

    def __enter__(self) -> Pidfile:
        if self.path is None:
            return self
        running = self._running_pid()
        if running is not None:
            raise PidfileTaken(
                f"Another runjobs (pid {running}) is running with pidfile {self.path}. "
                "Stop it first, or use another --pidfile."
            )
        self.path.write_text(f"{os.getpid()}\n")
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.path is not None and self._owned():
            self.path.unlink(missing_ok=True)

    def _running_pid(self) -> int | None:
        try:
            pid = int(self.path.read_text().strip()) if self.path else 0
        except (FileNotFoundError, ValueError):
            return None
        if pid <= 0 or pid == os.getpid():
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            return pid
        return pid

    def _owned(self) -> bool:
        try:
            return self.path is not None and int(self.path.read_text().strip()) == os.getpid()
        except (FileNotFoundError, ValueError):
            return False
