"""Read a subprocess's output lines as they come, and wait for one with a timeout."""

from __future__ import annotations

import contextlib
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from typing import IO


class Lines:
    """The lines of ``stream``, read by a thread; ``wait`` takes them in order."""

    def __init__(self, stream: IO[str]) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._stream = stream
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def close(self, timeout: float = 20.0) -> None:
        """Once the process has exited: wait for the reader to reach the end, close."""
        self._reader.join(timeout)
        self._stream.close()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self._queue.put(line.rstrip("\n"))
        self._queue.put(None)

    def wait(self, text: str, timeout: float = 20.0) -> str:
        """The next line holding ``text``; fails after ``timeout`` seconds or at the
        end of the output, showing what came."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                line = self._queue.get(timeout=max(left, 0.0))
            except queue.Empty:
                raise AssertionError(f"no line with {text!r} in {timeout:g} s; got:\n"
                                     + "\n".join(self.seen)) from None
            if line is None:
                raise AssertionError(f"output ended without {text!r}; got:\n"
                                     + "\n".join(self.seen))
            self.seen.append(line)
            if text in line:
                return line


def stop(process: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """SIGTERM, as systemd stops the service; SIGKILL only if it did not exit in time."""
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextlib.contextmanager
def running_lines(process: subprocess.Popen[str]) -> Iterator[Lines]:
    """The stderr lines of a ``portless run`` once it says "running"; afterwards it is
    stopped, must say "stopped", and must have logged no traceback."""
    assert process.stderr is not None
    lines = Lines(process.stderr)
    try:
        lines.wait("running")
        yield lines
    finally:
        stop(process)
        try:
            lines.wait("stopped")
        finally:
            lines.close()
    assert not any("Traceback" in line for line in lines.seen)
