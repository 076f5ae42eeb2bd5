"""output: drive a file channel (atomically or directly), the log, or a simulated channel;
a value that cannot be written warns and shows status, never crashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from portless.testing import run_node


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
