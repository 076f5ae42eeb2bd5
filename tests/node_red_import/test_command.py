"""``portless import-node-red``: the report on stdout, the exit status (0 everything
converted, 1 files written with something not converted, 2 nothing written), files never
overwritten unless asked, and nothing half-written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portless.cli import main
from tests.node_red_import.convert_helpers import FIXTURES

COMPLETE = [{"id": "t", "type": "tab", "label": "Main"},
            {"id": "a", "type": "inject", "z": "t", "props": [{"p": "payload", "v": "1",
                                                             "vt": "num"}], "wires": [["b"]]},
            {"id": "b", "type": "debug", "z": "t", "wires": []}]


def export(tmp_path: Path, nodes: Any, name: str = "flows.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(nodes), encoding="utf-8")
    return path


def test_everything_converted_exits_0_into_the_export_s_own_directory(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import-node-red", str(export(tmp_path, COMPLETE))]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flows.json: 2 node(s) converted, everything\n")
    assert f"files: {tmp_path}/flows/main.json" in out
    assert main(["validate", str(tmp_path / "flows" / "main.json")]) == 0
    assert main(["fmt", "--check", str(tmp_path / "flows" / "main.json")]) == 0


def test_something_not_converted_exits_1_with_the_files_written(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_dir = tmp_path / "out"
    code = main(["import-node-red", str(FIXTURES / "every-option.json"), "-o", str(out_dir)])
    assert code == 1
    out = capsys.readouterr().out
    assert "not converted (1):\n  http in 'REST' (web): it would open a listening port" in out
    assert "kept disabled (1):\n  function 'JavaScript' (js)" in out
    assert main(["validate", "--tabs", "--skip-env", str(out_dir)]) == 0


@pytest.mark.parametrize("content", ["not json", "[{\"id\": \"a\", \"type\": \"x\", "
                                                  "\"wires\": [[\"gone\"]]}]"])
def test_an_export_that_cannot_be_read_exits_2_and_writes_nothing(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str) -> None:
    path = tmp_path / "flows.json"
    path.write_text(content, encoding="utf-8")
    assert main(["import-node-red", str(path), "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: ")
    assert not (tmp_path / "out").exists()


def test_existing_files_are_not_overwritten_unless_forced(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = export(tmp_path, COMPLETE)
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "main.json").write_text("mine", encoding="utf-8")
    assert main(["import-node-red", str(path)]) == 2
    assert "main.json: exists already; nothing was written (give --force to overwrite)" in \
        capsys.readouterr().err
    assert (tmp_path / "flows" / "main.json").read_text() == "mine"
    assert main(["import-node-red", str(path), "--force"]) == 0
    assert json.loads((tmp_path / "flows" / "main.json").read_text())["name"] == "Main"


def test_a_failed_write_removes_what_it_wrote(tmp_path: Path) -> None:
    """The second file cannot be written (a directory has its name, which the atomic
    rename cannot replace, even as root): the first one written is removed again."""
    nodes = [*COMPLETE, {"id": "t2", "type": "tab", "label": "Zed"},
             {"id": "c", "type": "comment", "z": "t2", "wires": []}]
    path = export(tmp_path, nodes)
    out = tmp_path / "flows"
    (out / "zed.json").mkdir(parents=True)
    (out / "zed.json" / "keep").write_text("x")
    assert main(["import-node-red", str(path), "--force"]) == 2
    assert sorted(p.name for p in out.iterdir()) == ["zed.json"]  # main.json removed
