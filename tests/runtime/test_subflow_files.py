"""Where subflows come from (runtime/subflow_files.py): the directories found for a flow
file, and a running process reading a changed subflow file again, so that a deploy
restarts the instances of it."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import (
    DeployService,
    Engine,
    FlowInvalid,
    Registry,
    RegistryError,
    SubflowLibrary,
    canonical_text,
    subflow_dirs,
)
from tests.nodetypes import TEST_TYPES
from tests.runtime.test_deploy import running


def subflow(factor: Any = "${factor}") -> dict[str, Any]:
    return {"version": 1, "subflow": {"input": ["double"], "outputs": [[{"node": "double"}]],
                                      "parameters": {"properties": {
                                          "factor": {"type": "number", "default": 2}}}},
            "nodes": [{"id": "double", "type": "test-double", "config": {"factor": factor}}]}


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def rewrite(path: Path, document: Any) -> None:
    """Write, and make sure the file's stamp changes even within one clock tick."""
    before = path.stat().st_mtime_ns
    write(path, document)
    os.utime(path, ns=(before + 1_000_000, before + 1_000_000))


def test_the_directories_of_a_flow_file(tmp_path: Path) -> None:
    (tmp_path / "subflows").mkdir()
    (tmp_path / "lib").mkdir()
    assert subflow_dirs([tmp_path / "a.json"], [tmp_path / "lib"]) == [
        tmp_path / "lib", tmp_path / "subflows"]
    # A subflow file's own directory: subflows there may use each other.
    assert subflow_dirs([tmp_path / "subflows" / "x.json"]) == [tmp_path / "subflows"]
    assert subflow_dirs([tmp_path / "lib" / "a.json"]) == []  # lib/subflows is not there
    with pytest.raises(RegistryError, match=r"--subflows .*nope: not a directory"):
        SubflowLibrary(Registry(), [tmp_path / "nope"])


def test_a_changed_file_is_read_again_and_a_broken_one_keeps_its_type(
        tmp_path: Path) -> None:
    path = write(tmp_path / "double.json", subflow())
    library = SubflowLibrary(Registry(TEST_TYPES), [tmp_path])
    first = library.registry.get("subflow:double")
    assert library.refresh() == []  # nothing changed: nothing read
    rewrite(path, subflow(3))
    assert library.refresh() == [path]
    assert library.registry.get("subflow:double") is not first
    rewrite(path, {"version": 1, "subflow": {"oops": 1}, "nodes": []})
    assert library.refresh() == [path]
    assert library.registry.get("subflow:double") is not None  # what runs stays usable
    assert "subflow:double" in library.registry
    assert library.registry.load_errors[-1].endswith("/subflow/oops: unknown field 'oops'")


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[DeployService]:
    write(tmp_path / "subflows" / "double.json", subflow())
    path = write(tmp_path / "flow.json", {"version": 1, "nodes": [
        {"id": "a", "type": "subflow:double"}, {"id": "b", "type": "test-double"}]})
    library = SubflowLibrary(Registry(TEST_TYPES), subflow_dirs([path]))
    engine = Engine(library.registry, state_dir=tmp_path / "state")
    async with running(DeployService(engine, library.registry, [path],
                                     subflows=library)) as deploys:
        yield deploys


async def test_a_changed_subflow_file_restarts_its_instances(
        service: DeployService, tmp_path: Path) -> None:
    rewrite(tmp_path / "subflows" / "double.json", subflow(5))
    (outcome,) = await service.redeploy_all()  # what --reload does when the file changes
    assert outcome.report.stopped == ("a/double",)
    assert service.engine.nodes["a/double"].config == {"factor": 5}
    assert "b" in outcome.report.unchanged
    assert await service.redeploy_all() == []  # nothing changed since: nothing deployed


async def test_a_subflow_file_made_invalid_changes_nothing_that_runs(
        service: DeployService, tmp_path: Path) -> None:
    running = service.engine.nodes["a/double"]
    rewrite(tmp_path / "subflows" / "double.json", subflow("many"))
    with pytest.raises(FlowInvalid) as caught:
        await service.redeploy_all()
    assert [str(error).removeprefix(f"{tmp_path}/") for error in caught.value.errors] == [
        "flow.json: node a (subflow:double, inner node double): /config/factor: "
        "must be a number"]
    assert service.engine.nodes["a/double"] is running


async def test_a_subflow_deployed_like_a_tab_is_written_and_restarts_its_instances(
        service: DeployService, tmp_path: Path) -> None:
    """What the editor will call when a subflow is edited in it."""
    path = tmp_path / "subflows" / "double.json"
    (outcome,) = await service.deploy_subflow(path, subflow(7))
    assert outcome.report.stopped == ("a/double",)
    assert service.engine.nodes["a/double"].config == {"factor": 7}
    assert path.read_text(encoding="utf-8") == canonical_text(subflow(7))
    assert await service.redeploy_all() == []  # the file read back is what runs


async def test_a_subflow_deploy_that_breaks_a_tab_writes_nothing(
        service: DeployService, tmp_path: Path) -> None:
    path = tmp_path / "subflows" / "double.json"
    before = path.read_text(encoding="utf-8")
    running = service.engine.nodes["a/double"]
    with pytest.raises(FlowInvalid) as caught:
        await service.deploy_subflow(path, subflow("many"))
    assert [str(error).removeprefix(f"{tmp_path}/") for error in caught.value.errors] == [
        "subflows/double.json: node double: /config/factor: must be a number",
        "flow.json: node a (subflow:double, inner node double): /config/factor: "
        "must be a number"]
    assert path.read_text(encoding="utf-8") == before
    assert service.engine.nodes["a/double"] is running
    with pytest.raises(KeyError, match="not a subflow file this process reads"):
        await service.deploy_subflow(tmp_path / "flow.json", subflow())
