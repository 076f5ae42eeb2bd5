"""`portless run --reload`: a `git pull` that changes the flow file deploys it; one
that breaks it is reported, file, node and field, and what runs goes on."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.lines import Lines, running_lines

pytestmark = pytest.mark.slow  # runs portless and git as subprocesses


def flow(interval: float, factor: Any = 1.0) -> dict[str, Any]:
    return {"version": 1, "nodes": [
        {"id": "tick", "type": "io-in",
         "config": {"signal": "constant", "amplitude": factor, "interval": interval},
         "wires": [["show"]]},
        {"id": "show", "type": "debug", "config": {}}]}


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=30,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@x",
                        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@x"})


def commit(repo: Path, document: dict[str, Any], message: str) -> None:
    (repo / "flow.json").write_text(json.dumps(document, indent=2))
    git(repo, "commit", "-qam", message)


@pytest.fixture
def upstream(tmp_path: Path) -> Path:
    repo = tmp_path / "upstream"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "flow.json").write_text(json.dumps(flow(3600), indent=2))
    git(repo, "add", "flow.json")
    git(repo, "commit", "-qm", "first")
    return repo


@pytest.fixture
def device(tmp_path: Path, upstream: Path) -> Iterator[tuple[Path, Lines]]:
    """A clone of upstream run with --reload; yields the clone and the run's log."""
    clone = tmp_path / "device"
    git(tmp_path, "clone", "-q", str(upstream), str(clone))
    process = subprocess.Popen(
        [sys.executable, "-m", "portless", "run", str(clone / "flow.json"), "--no-editor",
         "--reload", "--state-dir", str(tmp_path / "state")],
        stderr=subprocess.PIPE, text=True)
    with running_lines(process) as lines:
        yield clone, lines


def test_a_git_pull_that_changes_the_flow_is_deployed(
        upstream: Path, device: tuple[Path, Lines]) -> None:
    clone, lines = device
    commit(upstream, flow(3600, 2.0), "amplitude 2")
    git(clone, "pull", "-q")
    line = lines.wait("deployed")
    assert line.endswith(f"{clone / 'flow.json'}: deployed "
                         f"(1 stopped, 1 started, 0 failed, 1 unchanged)")


def test_an_invalid_pull_is_reported_and_what_runs_goes_on(
        upstream: Path, device: tuple[Path, Lines]) -> None:
    clone, lines = device
    path = clone / "flow.json"
    commit(upstream, flow(3600, "loud"), "a typo")
    git(clone, "pull", "-q")
    lines.wait(f"{path} changed on disk but is not a valid flow, so what runs is unchanged")
    error = lines.wait(f"{path}: node tick: /config/amplitude: ")
    assert "number" in error
    # The fix deploys against the flow that ran all along: only tick changes.
    commit(upstream, flow(3600, 3.0), "fix the typo")
    git(clone, "pull", "-q")
    assert lines.wait("deployed").endswith("(1 stopped, 1 started, 0 failed, 1 unchanged)")
