"""io-in: read a channel periodically, either simulated or from a file (sysfs, 1-wire, ADC)."""

from __future__ import annotations

import asyncio
import math
import os
import random
from typing import Any

from portless.runtime import Message, Node, make_message

MAX_CHANNEL_BYTES = 4096
"""The most read from a channel file at once: a sysfs attribute is at most a page, and
a file that never ends (/dev/zero) must not fill the memory."""

SIGNALS = ("sine", "square", "ramp", "random-walk", "constant", "counter")


class IoIn(Node):
    type = "io-in"
    category = "input"
    color = "#87a980"
    icon = "gauge"
    inputs = 0
    outputs = 1
    schema = {
        "title": "I/O input",
        "description": (
            "Reads a channel every `interval` seconds and emits `{topic, payload}`. "
            "`source: sim` makes a signal (seeded runs are reproducible); `source: file` "
            "reads a number from a file, as sysfs GPIO, 1-wire and ADC channels look on "
            "Linux (its first 4 KiB, without waiting on a FIFO); text that is no finite "
            "number (`on`, `nan`, `inf`) warns and shows a red status instead. While a node it "
            "feeds has a full queue (an async node's, `when_full: block`) it skips its "
            "readings and counts them in its status. A message injected into the node "
            "(the editor's button) reads once now."),
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "source": {"title": "Source", "enum": ["sim", "file"], "default": "sim",
                       "description": "Where the value comes from."},
            "signal": {"title": "Signal", "enum": list(SIGNALS), "default": "sine",
                       "description": "Simulated waveform; `counter` counts 0, 1, 2, ..."},
            "amplitude": {"title": "Amplitude", "type": "number", "default": 1.0,
                          "description": "Peak deviation from `offset` (sine, square, ramp)."},
            "period": {"title": "Period (s)", "type": "number", "exclusiveMinimum": 0,
                       "default": 10.0, "description": "Length of one cycle of the signal."},
            "offset": {"title": "Offset", "type": "number", "default": 0.0,
                       "description": "Centre value; also the start of random-walk and the "
                                      "value of constant."},
            "step": {"title": "Step", "type": "number", "minimum": 0, "default": 1.0,
                     "description": "Largest change per reading of random-walk."},
            "seed": {"title": "Seed", "type": ["integer", "null"], "default": None,
                     "description": "Seed of random-walk; set it for a reproducible run."},
            "path": {"title": "File path", "type": "string", "default": "", "x-path": "read",
                     "description": "File to read a number from (source `file`)."},
            "interval": {"title": "Interval (s)", "type": "number", "minimum": 0.001,
                         "default": 1.0, "description": "Time between readings."},
            "topic": {"title": "Topic", "type": "string", "default": "",
                      "description": "Topic of the emitted messages."},
            "decimals": {"title": "Decimal places", "type": ["integer", "null"], "minimum": 0,
                         "maximum": 15, "default": None,
                         "description": (
                             "Round each reading to this many decimal places, as a sensor's "
                             "resolution (0: whole numbers); null sends full precision. "
                             "Rounded readings publish short and change only by whole "
                             "steps, which suits report by exception.")},
        },
        "if": {"properties": {"source": {"const": "file"}}},
        "then": {"properties": {"path": {"minLength": 1}}},
    }

    async def start(self) -> None:
        self._tick = 0
        self._random = random.Random(self.config["seed"])
        self._walk = float(self.config["offset"])
        self._read_failing = False
        self._decimals: int | None = self.config["decimals"]
        self.skipped = 0
        """Readings skipped because what the node feeds was saturated."""
        self._skip_shown = -1.0
        """loop.time() the skip count was last shown, or -1 while not skipping."""
        self.spawn(self._run(), "read loop")

    def on_input(self, msg: Message) -> None:
        self._emit()

    async def _run(self) -> None:
        """Read on a fixed schedule (no drift), catching up without bursts after a stall."""
        loop = asyncio.get_running_loop()
        interval = self.config["interval"]
        due = loop.time()
        while True:
            if self.downstream_saturated():
                self._skip(loop.time())
            else:
                if self._skip_shown >= 0:
                    self._skip_shown = -1.0
                    self.status()
                self._emit()
            due += interval
            delay = due - loop.time()
            if delay < -interval:  # fell far behind (a suspended device): re-anchor
                due = loop.time()
                delay = 0
            await asyncio.sleep(max(delay, 0))

    def _skip(self, now: float) -> None:
        """Hold off instead of growing a queue: count the reading, show the count (at
        once when a streak starts, then at most once a second, as it can be 1,000/s)."""
        self.skipped += 1
        if self._skip_shown < 0 or now - self._skip_shown >= 1.0:
            self._skip_shown = now
            self.status("yellow", f"downstream busy: skipped {self.skipped:,} readings",
                        "ring")

    def _emit(self) -> None:
        value = self._read_file() if self.config["source"] == "file" else self._simulate()
        self._tick += 1
        if value is not None:
            if self._decimals is not None and _is_finite(value):
                value = round(value, self._decimals) if self._decimals else round(value)
            self.send(make_message(value, self.config["topic"]))

    def _simulate(self) -> float | int:
        config: dict[str, Any] = self.config
        signal, tick = config["signal"], self._tick
        if signal == "counter":
            return int(tick)
        if signal == "random-walk":
            step = float(config["step"])
            self._walk += self._random.uniform(-step, step)
            return self._walk
        if signal == "constant":
            return float(config["offset"])
        amplitude = float(config["amplitude"])
        phase = (tick * config["interval"] / config["period"]) % 1.0
        if signal == "sine":
            shape = math.sin(2 * math.pi * phase)
        elif signal == "square":
            shape = 1.0 if phase < 0.5 else -1.0
        else:  # ramp: from offset - amplitude up to offset + amplitude
            shape = 2 * phase - 1
        return float(config["offset"]) + amplitude * shape

    def _read_file(self) -> float | int | None:
        path = self.config["path"]
        try:
            text = _read_start(path).strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            return self._read_failed(f"cannot read {path}: {reason}", f"cannot read: {reason}")
        value = _parse_number(text)
        if value is None:
            # the sentence first: a status is cut short, and a sample of NULs is long
            return self._read_failed(f"cannot parse {path}: not a number: {text[:40]!r}",
                                     f"not a number: {text[:40]!r}")
        if self._read_failing:
            self._read_failing = False
            self.status()
        return value

    def _read_failed(self, problem: str, short: str) -> float | int | None:
        """Warn once per failure streak; the status shows the latest problem, briefly."""
        if not self._read_failing:
            self.warn(problem)
        self._read_failing = True
        self.status("red", short[:80], "ring")
        return None


def _parse_number(text: str) -> float | int | None:
    """The number a channel file holds, or None. float() accepts nan and inf, but they
    are no reading and JSON cannot carry them, so they are "not a number" too."""
    try:
        value: float | int = int(text) if text.lstrip("+-").isdigit() else float(text)
    except ValueError:
        return None
    return value if _is_finite(value) else None


def _is_finite(value: float | int) -> bool:
    """math.isfinite, which raises on an int too large for a float (a whole number is finite)."""
    return isinstance(value, int) or math.isfinite(value)


def _read_start(path: str) -> str:
    """The first MAX_CHANNEL_BYTES of a channel file, opened without blocking: a FIFO
    with no writer reads as empty instead of stopping the event loop (and the flow)."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        return os.read(descriptor, MAX_CHANNEL_BYTES).decode("utf-8")
    finally:
        os.close(descriptor)
