"""A flow's state directory: one per flow file, held by one process at a time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portless.runtime.state import StateDirLock, StateLocked, flow_state_dir


def test_two_flow_files_never_share_a_state_directory(tmp_path: Path) -> None:
    # Both flows may name their broker node "plant-broker": the directory above it differs.
    demo, production = tmp_path / "flows" / "demo.json", tmp_path / "examples" / "valve.json"
    copy = tmp_path / "copy" / "demo.json"
    dirs = {flow_state_dir(tmp_path / "state", path) for path in (demo, production, copy)}
    assert len(dirs) == 3
    assert all(path.parent == tmp_path / "state" for path in dirs)


def test_the_same_file_by_another_name_has_the_same_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    flow = tmp_path / "flows" / "demo.json"
    flow.parent.mkdir()
    flow.write_text("{}")
    monkeypatch.chdir(tmp_path)
    assert flow_state_dir("s", "flows/demo.json") == flow_state_dir("s", flow) \
        == flow_state_dir("s", tmp_path / "flows" / ".." / "flows" / "demo.json")
    assert flow_state_dir("s", flow).name.startswith("demo-")


def test_a_strange_file_name_makes_a_plain_directory_name(tmp_path: Path) -> None:
    name = flow_state_dir(tmp_path, tmp_path / "my flow\n\x1b[31m.json").name
    assert name.isprintable()
    assert " " not in name
    assert "\n" not in name


HOLD = """
import sys, time
from portless.runtime.state import StateDirLock
lock = StateDirLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.read()
"""


@pytest.mark.slow  # a second Python process holds the lock
def test_a_second_process_is_refused_with_the_holders_pid(tmp_path: Path) -> None:
    state = tmp_path / "state"
    with subprocess.Popen([sys.executable, "-c", HOLD, str(state)], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as holder:
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline() == "held\n"
            with pytest.raises(StateLocked) as refused:
                StateDirLock(state).acquire()
            assert f"PID {holder.pid}" in str(refused.value)
            assert str(state) in str(refused.value)
        finally:
            holder.kill()
    # The kernel drops the lock with the process, however it died: no stale lock.
    with StateDirLock(state):
        assert (state / "lock").read_text() == f"{os.getpid()}\n"
