"""The persistent context store (runtime/context_sqlite.py): a commit that fails is kept
and retried, a file that is no database is an error naming it, and in a real `portless
run` what was committed survives SIGKILL, for a flow's node context and global context."""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from portless.runtime.context_sqlite import PersistentStore, StoreError
from portless.runtime.state import flow_state_dir
from portless.testing import FlowHarness
from tests.e2e.test_mqtt_faults import ROOT, poll_until

COUNTER_NODE = '''
"""Counts its starts in node and global context."""

from portless.runtime import Node


class StartCounter(Node):
    type = "test-start-counter"
    inputs = 0
    outputs = 0

    async def start(self):
        for context in (self.node_context, self.global_context):
            context.set("starts", context.get("starts", 0) + 1)
'''


def committed(state_dir: Path) -> dict[tuple[str, str], str]:
    """What another process has committed to the store (WAL: readers see each commit)."""
    path = state_dir / "context.sqlite"
    if not path.exists():
        return {}
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        try:
            return {(scope, key): value for scope, key, value in
                    db.execute("SELECT scope, key, value FROM context")}
        except sqlite3.OperationalError:  # the table is not made yet
            return {}


def run(flow: Path, state: Path, nodes_dir: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "portless", "run", str(flow), "--no-editor",
             "--state-dir", str(state), "--nodes-dir", str(nodes_dir),
             "--context-store", "persistent", "--context-flush", "0.05"],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)


async def test_a_failed_commit_is_kept_and_retried_and_the_writer_goes_on(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    store = PersistentStore(tmp_path / "context.sqlite", flush_interval=3600)
    store.open()
    store.start()
    try:
        assert store._db is not None
        pages = store._db.execute("PRAGMA page_count").fetchone()[0]
        store._db.execute(f"PRAGMA max_page_count={pages}")  # the disk is full
        store.put("node:a", "big", json.dumps("x" * 100_000))
        with pytest.raises(StoreError, match="cannot write: database or disk is full"):
            await store.flush()
        assert "context store" in caplog.text
        assert "1 value(s) wait and are retried" in caplog.text
        store._db.execute("PRAGMA max_page_count=1000000")  # room again
        store.put("node:a", "small", "1")
        await store.flush()
        assert set(committed(tmp_path)) == {("node:a", "big"), ("node:a", "small")}
    finally:
        await store.close()


async def test_a_context_store_that_is_no_database_is_an_error_naming_it(
        tmp_path: Path) -> None:
    (tmp_path / "context.sqlite").write_bytes(b"not a database, only text" * 100)
    harness = FlowHarness({"version": 1, "context": {"store": "persistent"}, "nodes": []},
                          state_dir=tmp_path)
    with pytest.raises(OSError, match=r"cannot open the persistent context store "
                                      r".*context.sqlite: file is not a database"):
        await harness.__aenter__()


@pytest.mark.slow  # runs portless as a child process
async def test_committed_context_survives_sigkill(tmp_path: Path) -> None:
    nodes_dir = tmp_path / "nodes"
    nodes_dir.mkdir()
    (nodes_dir / "start_counter.py").write_text(textwrap.dedent(COUNTER_NODE))
    flow = tmp_path / "flow.json"
    flow.write_text(json.dumps({"version": 1, "context": {"store": "persistent"},
                                "nodes": [{"id": "counter", "type": "test-start-counter"}]}))
    state, log = tmp_path / "state", tmp_path / "portless.log"
    state_dir = flow_state_dir(state, flow)

    for starts in (1, 2):
        process = run(flow, state, nodes_dir, log)
        try:
            wanted = {("node:counter", "starts"): str(starts), ("global", "starts"): str(starts)}
            await poll_until(lambda wanted=wanted: committed(state_dir) == wanted, 15,
                             f"{wanted} committed", lambda process=process: _alive(process, log))
            process.send_signal(signal.SIGKILL)  # no stop, no final flush
            assert process.wait(15) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _alive(process: subprocess.Popen[bytes], log: Path) -> None:
    if process.poll() is not None:
        raise AssertionError(f"portless exited with {process.returncode}:\n"
                             f"{log.read_text(errors='replace')}")
