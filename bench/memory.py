"""Reading a process's memory: current (VmRSS) and peak (VmHWM) resident set size.

Peak RSS comes from /proc, not ``getrusage().ru_maxrss``: Linux keeps ru_maxrss across
fork and exec, so a child started by a large parent reports the parent's peak.
"""

from __future__ import annotations

import re
import resource
from pathlib import Path

from .core import BenchError


def status_kib(pid: int | str, field: str) -> int:
    """A ``kB`` field of /proc/PID/status, such as VmRSS or VmHWM, in KiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError as exc:
        raise BenchError(f"cannot read the memory of process {pid}: {exc}") from None
    match = re.search(rf"^{field}:\s+(\d+) kB$", status, re.MULTILINE)
    if match is None:
        raise BenchError(f"/proc/{pid}/status has no {field} line")
    return int(match.group(1))


def rss_kib(pid: int) -> int:
    """Resident set size of a live process now, in KiB."""
    return status_kib(pid, "VmRSS")


def own_peak_rss_kib() -> int:
    """This process's peak resident set size since exec, in KiB."""
    try:
        return status_kib("self", "VmHWM")
    except BenchError:  # no /proc (not Linux): the best figure there is
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
