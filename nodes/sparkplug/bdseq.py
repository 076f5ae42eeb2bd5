"""The birth/death sequence number (bdSeq), kept across restarts in the node's state
directory: one more on every CONNECT, 255 wraps to 0, the first ever is 0."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from portless.runtime.atomic import atomic_write


class BdSeq:
    """The bdSeq of the latest CONNECT; ``next()`` moves on and writes it down first,
    so a crash after the CONNECT cannot bring the same number back."""

    def __init__(self, path: Path, on_problem: Callable[[str], None]) -> None:
        self._path = path
        self.current: int | None = None
        """The bdSeq of the latest CONNECT (None before the first of this process)."""
        self._last = self._read(on_problem)

    def _read(self, on_problem: Callable[[str], None]) -> int | None:
        try:
            last = json.loads(self._path.read_text())["bdSeq"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            on_problem(f"cannot read the saved bdSeq in {self._path} ({exc}); starting at 0")
            return None
        if not isinstance(last, int) or isinstance(last, bool) or not 0 <= last <= 255:
            on_problem(f"the saved bdSeq in {self._path} is not 0 to 255; starting at 0")
            return None
        return last

    def next(self) -> int:
        """The bdSeq for a new CONNECT, saved before it is used."""
        value = 0 if self._last is None else (self._last + 1) % 256
        atomic_write(self._path, json.dumps({"bdSeq": value}).encode())
        self._last = self.current = value
        return value
