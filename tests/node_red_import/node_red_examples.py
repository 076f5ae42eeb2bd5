"""The example flows Node-RED ships with its core nodes, read from a clone of Node-RED's
repository (never copied into this one): $PORTLESS_NODE_RED_REPO, else the mirror the
helpers' machines keep at /work/.mirror/node-red+node-red/repo (a bare clone). Tests
that need them skip, saying why, where neither is there."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from pathlib import Path

import pytest

MIRROR = Path("/work/.mirror/node-red+node-red/repo")
EXAMPLES = "packages/node_modules/@node-red/nodes/examples/"


def _git_dir() -> Path | None:
    given = os.environ.get("PORTLESS_NODE_RED_REPO")
    for candidate in ([Path(given)] if given else []) + [MIRROR]:
        if (candidate / "HEAD").exists() or (candidate / ".git").exists():
            return candidate / ".git" if (candidate / ".git").exists() else candidate
    return None


def _git(*args: str) -> str:
    git_dir = _git_dir()
    assert git_dir is not None
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], check=True,
                          capture_output=True, text=True, timeout=60).stdout


@functools.cache
def example_paths() -> list[str]:
    """The example files (paths inside Node-RED's repository), or a skip."""
    if shutil.which("git") is None or _git_dir() is None:
        pytest.skip("Node-RED's repository is not here (set PORTLESS_NODE_RED_REPO to a "
                    "clone of github.com/node-red/node-red): its example flows are read "
                    "from it, not copied into portless")
    listed = _git("ls-tree", "-r", "--name-only", "HEAD", EXAMPLES).splitlines()
    return [path for path in listed if not path.endswith((".md", ".png"))]


def example_text(path: str) -> str:
    return _git("show", f"HEAD:{path}")
