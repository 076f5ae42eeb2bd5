"""What every benchmark shares: the options it is run with and the rows it reports."""

from __future__ import annotations

import cProfile
import json
import os
import pstats
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

ROOT = Path(__file__).resolve().parent.parent
"""The project root; benchmarks run their subprocesses from here."""


def cpu_seconds(pid: int | None) -> float:
    """CPU time process ``pid`` has used so far (user and system), from /proc; 0 if gone."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1]
    except OSError:
        return 0.0
    user, system = fields.split()[11:13]
    return (int(user) + int(system)) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Options:
    """How hard to measure: the full run, or a quick smoke run."""

    messages: int = 1_000_000
    """Messages the source emits in each pipeline scenario."""
    startup_runs: int = 5
    """Headless starts to take the median of."""
    idle_seconds: float = 1.0
    """How long a started process sits idle before its RSS is read."""
    quick: bool = False

    def __post_init__(self) -> None:
        if self.messages < 1:
            raise ValueError(f"messages must be at least 1, not {self.messages}")
        if self.startup_runs < 1:
            raise ValueError(f"startup_runs must be at least 1, not {self.startup_runs}")
        if self.idle_seconds < 0:
            raise ValueError(f"idle_seconds must not be negative, not {self.idle_seconds}")


@dataclass(frozen=True)
class Row:
    """One line of the table. ``passed`` is None for a figure that has no target."""

    measurement: str
    result: str
    target: str = "-"
    passed: bool | None = None


Benchmark = Callable[[Options], list[Row]]
"""A benchmark: measure under these options, return the rows to print."""


class BenchError(Exception):
    """A benchmark could not measure (a subprocess failed, a log line never came)."""


def run_json(module: str, args: Sequence[str], timeout: float) -> dict[str, Any]:
    """Run ``python -m module args`` from the project root; parse its stdout as JSON."""
    command = [sys.executable, "-m", module, *args]
    try:
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{' '.join(command[1:])}: no result within {timeout:.0f} s") from None
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["(no output)"]
        raise BenchError(f"{' '.join(command[1:])} exited {done.returncode}: {tail[0]}")
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        raise BenchError(f"{' '.join(command[1:])}: printed no JSON result") from None
    return result


def print_result(prog: str, measure: Callable[[], dict[str, Any]]) -> int:
    """The end of a scenario's ``main``: print what ``measure`` returns as JSON (exit
    status 0), or why it could not measure (1), for ``run_json`` to read."""
    try:
        result = measure()
    except BenchError as exc:
        print(f"{prog}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result))
    return 0


def megabytes(kib: float) -> str:
    return f"{kib / 1024:.1f} MB"


def run_profiled(call: Callable[[], T], lines: int, dump_to: str | None = None) -> T:
    """Run ``call``; with ``lines`` > 0 under cProfile, printing that many of the
    functions with the most own time to stderr (and dumping the stats to ``dump_to``)."""
    if not lines:
        return call()
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        return call()
    finally:
        profiler.disable()
        stats = pstats.Stats(profiler, stream=sys.stderr)
        if dump_to:
            stats.dump_stats(dump_to)
        stats.sort_stats("tottime").print_stats(lines)
