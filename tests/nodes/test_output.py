"""output: drive a file channel (atomically or directly), the log, or a simulated channel;
a value that cannot be written warns and shows status, never crashes."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path
from typing import Any

import pytest

from portless.nodes import output
from portless.testing import FlowHarness, run_node


@pytest.mark.parametrize(("payload", "written"), [
    (42, "42\n"),
    (3.5, "3.5\n"),
    (True, "1\n"),
    (False, "0\n"),
    ("open", "open\n"),
    ({"setpoint": 5}, '{"setpoint":5}\n'),
])
@pytest.mark.parametrize("write_mode", ["atomic", "direct"])
def test_file_target_writes_the_value_as_text(
        tmp_path: Path, payload: Any, written: str, write_mode: str) -> None:
    channel = tmp_path / "setpoint"
    run = run_node("output", {"target": "file", "path": str(channel), "write_mode": write_mode},
                   [{"payload": "stale"}, {"payload": payload}])
    assert channel.read_text() == written
    assert run.warnings == []
    assert list(tmp_path.iterdir()) == [channel]


def test_unwritable_file_warns_and_shows_status(tmp_path: Path) -> None:
    path = tmp_path / "no-such-dir" / "value"
    run = run_node("output", {"target": "file", "path": str(path)},
                   [{"payload": 1}, {"payload": 2}])
    assert len(run.warnings) == 2
    assert run.warnings[0].startswith(f"cannot write {path}")
    assert run.statuses[-1]["fill"] == "red"
    assert run.errors == []


def test_a_fifo_without_reader_is_a_warning_not_a_stuck_writer(tmp_path: Path) -> None:
    """Written directly, a FIFO nobody reads blocked the writer thread in open() for
    ever: the node never stopped and the process never exited after "stopped"."""
    fifo = tmp_path / "channel"
    os.mkfifo(fifo)
    run = run_node("output", {"target": "file", "path": str(fifo), "write_mode": "direct"},
                   [{"payload": 1}])
    assert run.warnings == [f"cannot write {fifo}: No such device or address"]
    assert run.statuses[-1]["fill"] == "red"


def test_missing_property_warns_and_writes_nothing(tmp_path: Path) -> None:
    channel = tmp_path / "value"
    run = run_node("output", {"target": "file", "path": str(channel), "property": "level"},
                   [{"payload": 1}])
    assert not channel.exists()
    assert run.warnings == ["msg.level is missing; nothing written"]


def test_sim_target_keeps_the_value_and_shows_it() -> None:
    run = run_node("output", {}, [{"payload": 1}, {"payload": {"valve": "open"}}])
    assert run.statuses[-1] == {"fill": "blue", "shape": "dot", "text": '{"valve":"open"}'}


def test_log_target_logs_the_value(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO")
    run_node("output", {"target": "log", "property": "payload.level"},
             [{"payload": {"level": 7}}])
    assert "node node-under-test: output 7" in caplog.text


class SlowDisk:
    """Stands in for a slow disk, which cannot be made here: each atomic write waits
    until ``gate`` opens (or 5 s pass), then writes for real. Records, per write, the
    thread it ran on, whether the gate opened in time, and the bytes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.writes: list[tuple[int, bool, bytes]] = []
        real = output.atomic_write

        def write(path: str, data: bytes) -> None:
            self.entered.set()
            opened = self.gate.wait(5)
            self.gate.set()  # a write stuck on the loop thread waits once, not each time
            self.writes.append((threading.get_ident(), opened, data))
            real(path, data)

        monkeypatch.setattr(output, "atomic_write", write)


def file_output(path: Path) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "out", "type": "output", "config": {"target": "file", "path": str(path)}}]}


async def until_written(h: FlowHarness) -> None:
    """Until the output node has nothing waiting or being written."""
    async with asyncio.timeout(10):
        while h.engine.nodes["out"].pending:
            await h.changed()


async def test_a_file_write_runs_off_the_event_loop_which_keeps_running_meanwhile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = SlowDisk(monkeypatch)
    channel = tmp_path / "setpoint"
    async with FlowHarness(file_output(channel)) as h:
        # Only the event loop can open the gate: a write on the loop's thread would
        # wait the full 5 s for a timer that cannot fire, and say so.
        asyncio.get_running_loop().call_later(0.05, disk.gate.set)
        h.inject("out", {"payload": 42})
        await until_written(h)
    ((thread, opened, data),) = disk.writes
    assert thread != threading.get_ident()
    assert opened
    assert data == b"42\n"
    assert channel.read_text() == "42\n"


async def test_file_writes_land_in_order_and_a_backlog_skips_the_oldest_never_the_newest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    disk = SlowDisk(monkeypatch)
    channel = tmp_path / "setpoint"
    backlog = output.WAITING_WRITES + 50
    async with FlowHarness(file_output(channel)) as h:
        h.inject("out", {"payload": 0})
        assert await asyncio.to_thread(disk.entered.wait, 5)  # value 0 is on its way
        for value in range(1, backlog + 1):
            h.inject("out", {"payload": value})
        disk.gate.set()
        await until_written(h)
        warnings = [e.data["text"] for e in h.events if e.kind == "warning"]
    assert [int(data) for _, _, data in disk.writes] == [0, *range(51, backlog + 1)]
    assert channel.read_text() == f"{backlog}\n"
    assert warnings == ["the file is slower than the flow: 50 older value(s) skipped, "
                        "the newest are written"]


def test_values_still_waiting_are_written_when_the_node_stops(tmp_path: Path) -> None:
    channel = tmp_path / "setpoint"
    run = run_node("output", {"target": "file", "path": str(channel)},
                   [{"payload": value} for value in range(20)])
    assert channel.read_text() == "19\n"
    assert run.statuses[-1] == {"fill": "green", "shape": "dot", "text": "19"}
