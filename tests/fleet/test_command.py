"""``portless fleet keygen|sign|verify`` as an engineer runs them, in a real git
repository."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from portless.cli import main

FLOW = '{\n  "version": 1,\n  "nodes": []\n}\n'


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c",
                           "user.email=t@example.invalid", *args], check=True,
                          capture_output=True, text=True)
    return done.stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "flows"
    repo.mkdir()
    git(repo, "init", "-q")
    (repo / "valves.json").write_text(FLOW)
    (repo / "notes.txt").write_text("not signed")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "valves")
    (repo / "notes.txt").write_text("changed, and not in the bundle")
    return repo


@pytest.fixture
def key(tmp_path: Path) -> Path:
    assert main(["fleet", "keygen", "-o", str(tmp_path / "signing"), "--comment", "ci"]) == 0
    return tmp_path / "signing"


def test_sign_records_the_commit_and_verify_accepts_it(
        repo: Path, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bundle.json"
    assert main(["fleet", "sign", "--key", str(key), "--version", "3",
                 str(repo / "valves.json"), "-o", str(out)]) == 0
    signed = json.loads(out.read_text())["signed"]
    assert signed["commit"] == git(repo, "rev-parse", "HEAD")
    assert signed["files"][0]["name"] == "valves.json"
    assert signed["files"][0]["content"] == FLOW
    capsys.readouterr()
    assert main(["fleet", "verify", "--trusted", f"{key}.pub", str(out)]) == 0
    assert "verified: version 3, commit " + signed["commit"] in capsys.readouterr().out


@pytest.mark.parametrize("change", ["modified", "staged", "untracked"])
def test_sign_refuses_a_flow_file_that_is_not_as_committed(
        repo: Path, key: Path, tmp_path: Path, change: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    target = repo / ("new.json" if change == "untracked" else "valves.json")
    target.write_text(FLOW.replace("[]", "[ ]"))
    if change == "staged":
        git(repo, "add", "valves.json")
    out = tmp_path / "bundle.json"
    assert main(["fleet", "sign", "--key", str(key), "--version", "3", str(target),
                 "-o", str(out)]) == 1
    assert "not as committed" in capsys.readouterr().err
    assert not out.exists()


def test_sign_outside_a_repository_records_no_commit(
        key: Path, tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir()
    (loose / "a.json").write_text(FLOW)
    assert main(["fleet", "sign", "--key", str(key), "--version", "1", "--rollback",
                 str(loose / "a.json"), "-o", str(tmp_path / "b.json")]) == 0
    signed = json.loads((tmp_path / "b.json").read_text())["signed"]
    assert signed["commit"] is None
    assert signed["rollback"] is True


def test_verify_refuses_a_key_it_does_not_trust(
        repo: Path, key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fleet", "keygen", "-o", str(tmp_path / "other")]) == 0
    out = tmp_path / "bundle.json"
    assert main(["fleet", "sign", "--key", str(key), "--version", "1",
                 str(repo / "valves.json"), "-o", str(out)]) == 0
    capsys.readouterr()
    assert main(["fleet", "verify", "--trusted", str(tmp_path / "other.pub"), str(out)]) == 1
    assert "refused: signed by key" in capsys.readouterr().err


def test_keygen_refuses_to_overwrite_and_exits_2(
        key: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = key.read_bytes()
    assert main(["fleet", "keygen", "-o", str(key)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    assert key.read_bytes() == before


def test_sign_refuses_a_path_traversal_name_it_cannot_express(
        key: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.sh").write_text("#!/bin/sh\n")
    assert main(["fleet", "sign", "--key", str(key), "--version", "1",
                 str(tmp_path / "x.sh"), "-o", str(tmp_path / "b.json")]) == 1
    assert "must be a plain name ending in .json" in capsys.readouterr().err
