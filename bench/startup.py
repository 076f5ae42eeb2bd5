"""Headless start-up time and idle memory of the demo flow, as a user would start it.

``python -m portless run flows/demo.json --no-editor`` is spawned fresh each run; the
clock runs from spawn until the "running" log line on stderr. After a short idle the
process's VmRSS is read from /proc, then SIGTERM must stop it with exit status 0.
Python's bytecode cache is on (an installed package has it) and filled by one unmeasured
start first, even where PYTHONDONTWRITEBYTECODE is set: else each run would compile
every module, a cost no device pays after its first start.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from .core import ROOT, BenchError, Options, Row, megabytes
from .memory import rss_kib

DEMO_FLOW = ROOT / "flows" / "demo.json"
TARGET_START = 0.5
"""Seconds from spawn to running."""
TARGET_IDLE_RSS_KIB = 40 * 1024
RUNNING = re.compile(r"\bportless: running\b")
"""The CLI's log line once every node has started."""
TIMEOUT = 30.0
CACHED = {name: value for name, value in os.environ.items()
          if name != "PYTHONDONTWRITEBYTECODE"}
"""The environment of each start: this one, with the bytecode cache on."""


@dataclass(frozen=True)
class StartRun:
    seconds: float
    idle_rss_kib: int
    exit_code: int
    error_lines: int


async def _read_lines(stream: asyncio.StreamReader, lines: list[str]) -> None:
    while line := await stream.readline():
        lines.append(line.decode("utf-8", "replace").rstrip("\n"))


async def start_once(flow: Path, idle_seconds: float) -> StartRun:
    """Start the flow headless once; time it, weigh it, stop it."""
    with tempfile.TemporaryDirectory(prefix="portless-bench-") as state_dir:
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "portless", "run", str(flow), "--no-editor",
            "--state-dir", state_dir, cwd=ROOT, env=CACHED, stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
        if process.stderr is None:  # cannot happen with stderr=PIPE; narrows the type
            raise BenchError("no stderr pipe to the portless process")
        lines: list[str] = []
        try:
            try:
                async with asyncio.timeout(TIMEOUT):
                    while not lines or not RUNNING.search(lines[-1]):
                        line = await process.stderr.readline()
                        if not line:
                            code = await process.wait()
                            last = lines[-1] if lines else "(no output)"
                            raise BenchError(
                                f"portless exited {code} before running: {last}")
                        lines.append(line.decode("utf-8", "replace").rstrip("\n"))
            except TimeoutError:
                raise BenchError(f"no 'running' line within {TIMEOUT:.0f} s") from None
            seconds = time.perf_counter() - started
            # Keep reading stderr so a chatty flow can never block on a full pipe.
            reader = asyncio.create_task(_read_lines(process.stderr, lines))
            await asyncio.sleep(idle_seconds)
            rss = rss_kib(process.pid)
            process.send_signal(signal.SIGTERM)
            try:
                async with asyncio.timeout(TIMEOUT):
                    code = await process.wait()
                    await reader
            except TimeoutError:
                raise BenchError(f"portless did not exit within {TIMEOUT:.0f} s "
                                 "of SIGTERM") from None
        finally:
            if process.returncode is None:
                process.kill()
                await process.wait()
    errors = sum(1 for line in lines if " ERROR " in line)
    return StartRun(seconds, rss, code, errors)


async def bare_interpreter() -> float:
    """Seconds to start and stop a bare interpreter: the floor under any start-up."""
    started = time.perf_counter()
    process = await asyncio.create_subprocess_exec(sys.executable, "-c", "pass")
    await process.wait()
    return time.perf_counter() - started


def _spread(values: list[float], unit: str, digits: int) -> str:
    median = statistics.median(values)
    if len(values) == 1:
        return f"{median:.{digits}f}{unit}"
    return (f"{median:.{digits}f}{unit} (median of {len(values)}; "
            f"{min(values):.{digits}f}-{max(values):.{digits}f})")


async def measure(options: Options) -> list[Row]:
    await start_once(DEMO_FLOW, 0)  # fills the bytecode cache
    runs = [await start_once(DEMO_FLOW, options.idle_seconds)
            for _ in range(options.startup_runs)]
    floor = statistics.median([await bare_interpreter() for _ in range(3)])
    start = statistics.median(run.seconds for run in runs)
    rss = statistics.median(run.idle_rss_kib for run in runs)
    clean = sum(1 for run in runs if run.exit_code == 0)
    errors = sum(run.error_lines for run in runs)
    return [
        Row("headless start-up, demo flow (spawn to 'running')",
            _spread([run.seconds for run in runs], " s", 3),
            f"<= {TARGET_START} s", start <= TARGET_START),
        Row("  of which: bare interpreter start and exit", f"{floor:.3f} s"),
        Row(f"idle RSS, headless demo, {options.idle_seconds:g} s after start",
            _spread([run.idle_rss_kib / 1024 for run in runs], " MB", 1),
            f"<= {megabytes(TARGET_IDLE_RSS_KIB)}", rss <= TARGET_IDLE_RSS_KIB),
        Row("exit status after SIGTERM", f"0 in {clean} of {len(runs)} runs"
            + (f"; {errors} ERROR log lines" if errors else ""),
            "0, no ERROR lines", clean == len(runs) and not errors),
    ]


def benchmark(options: Options) -> list[Row]:
    return asyncio.run(measure(options))
