"""The deploy service: check, write atomically, deploy what changed, report; roll back
when a deploy's nodes fail to start; deploy a file changed on disk (--reload)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import (
    DeployService,
    Engine,
    FlowInvalid,
    Gate,
    Registry,
    canonical_text,
)
from tests.nodetypes import TEST_TYPES

REGISTRY = Registry(TEST_TYPES)


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


def node(node_id: str, type_: str = "test-double", config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config or {}, "wires": wires or []}


FIRST = flow(node("a", wires=[["b"]]), node("b"), node("dev", "test-device"))


@contextlib.asynccontextmanager
async def running(deploys: DeployService) -> AsyncIterator[DeployService]:
    """A deploy service with its tabs loaded and started; stopped at the end."""
    deploys.load()
    await deploys.start()
    try:
        yield deploys
    finally:
        await deploys.engine.stop()


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[DeployService]:
    path = tmp_path / "flow.json"
    path.write_text(json.dumps(FIRST))
    engine = Engine(REGISTRY, state_dir=tmp_path / "state")
    async with running(DeployService(engine, REGISTRY, [path])) as deploys:
        yield deploys


def tab(service: DeployService) -> Path:
    return service.tabs[0]


async def test_a_deploy_writes_the_canonical_file_and_restarts_only_what_changed(
        service: DeployService) -> None:
    kept = service.engine.nodes["a"]
    new = flow(node("a", wires=[["b"]]), node("b", config={"factor": 3}),
               node("dev", "test-device"), node("c"))
    outcome = await service.deploy(tab(service), new)
    assert outcome.file == "written"
    assert outcome.rollback is None
    assert outcome.report.stopped == ("b",)
    assert outcome.report.started == ("b", "c")
    assert set(outcome.report.unchanged) == {"a", "dev"}
    assert service.engine.nodes["a"] is kept
    assert tab(service).read_text() == canonical_text(new)


async def test_an_invalid_deploy_writes_nothing_and_changes_nothing(
        service: DeployService) -> None:
    before = tab(service).read_text()
    running = service.engine.flow
    with pytest.raises(FlowInvalid) as invalid:
        await service.deploy(tab(service), flow(node("a", wires=[["ghost"]])))
    assert [str(e) for e in invalid.value.errors] == [
        f"{tab(service)}: node a: /wires/0/0: wire to missing node 'ghost'"]
    assert tab(service).read_text() == before
    assert service.engine.flow is running


async def test_a_gate_refuses_a_deploy_before_anything_is_written(
        service: DeployService) -> None:
    before = tab(service).read_text()

    def refuse(document: dict[str, Any]) -> None:
        raise PermissionError("not today")

    with pytest.raises(PermissionError):
        await service.deploy(tab(service), flow(node("a")), Gate(before_check=refuse))
    assert tab(service).read_text() == before


async def test_a_node_failing_to_start_rolls_back_to_the_flow_before_and_its_file(
        service: DeployService) -> None:
    running = service.engine.flow
    kept = service.engine.nodes["dev"]
    broken = flow(node("a", wires=[["b"]]), node("b", config={"factor": 5}),
                  node("dev", "test-device", {"device": "missing"}))
    outcome = await service.deploy(tab(service), broken)
    assert outcome.report.failed == {"dev": "OSError: no such device"}
    assert outcome.caused == {"dev": "OSError: no such device"}
    assert outcome.rollback is not None
    assert outcome.rollback.failed == {}
    assert outcome.file == "restored"
    assert "rolled back to the flow that ran before" in outcome.sentence()
    assert service.engine.flow is running
    assert service.engine.nodes["b"].config["factor"] == 2
    assert service.engine.nodes["dev"] is not kept  # it was stopped for the deploy
    assert json.loads(tab(service).read_text()) == FIRST
    assert service.engine.failed == {}


async def test_without_rollback_the_failed_node_stays_failed_and_the_file_new(
        service: DeployService) -> None:
    service.rollback = False
    broken = flow(node("a"), node("dev", "test-device", {"device": "missing"}))
    outcome = await service.deploy(tab(service), broken)
    assert outcome.rollback is None
    assert outcome.file == "written"
    assert service.engine.failed == {"dev": "OSError: no such device"}
    assert tab(service).read_text() == canonical_text(broken)


async def test_a_node_that_failed_before_and_still_fails_causes_no_rollback(
        service: DeployService) -> None:
    service.rollback = False
    await service.deploy(tab(service), flow(node("a"), node("dev", "test-device",
                                                             {"device": "missing"})))
    service.rollback = True
    again = flow(node("a", config={"factor": 7}),
                 node("dev", "test-device", {"device": "missing"}))
    outcome = await service.deploy(tab(service), again)
    assert outcome.rollback is None
    assert outcome.report.failed == {"dev": "OSError: no such device"}
    assert service.engine.nodes["a"].config["factor"] == 7


async def test_a_reload_deploys_what_the_file_holds_now(service: DeployService) -> None:
    assert await service.reload(tab(service)) is None  # nothing changed since the start
    changed = flow(node("a", config={"factor": 10}))
    tab(service).write_text(json.dumps(changed))
    outcome = await service.reload(tab(service))
    assert outcome is not None
    assert outcome.file == "read"
    assert set(outcome.report.stopped) == {"a", "b", "dev"}
    assert service.engine.nodes["a"].config["factor"] == 10
    assert tab(service).read_text() == json.dumps(changed)  # a reload never writes


async def test_a_reload_of_an_invalid_file_changes_nothing_that_runs(
        service: DeployService) -> None:
    running = service.engine.flow
    tab(service).write_text(json.dumps(flow(node("a", config={"factor": "x"}))))
    with pytest.raises(FlowInvalid) as invalid:
        await service.reload(tab(service))
    assert str(invalid.value.errors[0]).startswith(f"{tab(service)}: node a: /config/factor: ")
    assert service.engine.flow is running
    assert await service.reload(tab(service)) is None  # reported once, not at every poll


async def test_a_reload_whose_nodes_fail_rolls_back_and_leaves_the_file(
        service: DeployService) -> None:
    text = json.dumps(flow(node("dev", "test-device", {"device": "missing"})))
    tab(service).write_text(text)
    outcome = await service.reload(tab(service))
    assert outcome is not None
    assert outcome.file == "kept"
    assert "the file on disk is not what runs" in outcome.sentence()
    assert set(service.engine.nodes) == {"a", "b", "dev"}
    assert tab(service).read_text() == text  # git's file: not rewritten under it


async def test_deploys_run_one_at_a_time(service: DeployService) -> None:
    documents = [flow(node("a", config={"factor": factor})) for factor in range(3, 8)]
    outcomes = await asyncio.gather(*(service.deploy(tab(service), document)
                                      for document in documents))
    assert [outcome.report.started for outcome in outcomes] == [("a",)] * 5
    assert service.engine.nodes["a"].config["factor"] == 7
    assert json.loads(tab(service).read_text()) == documents[-1]


async def test_the_watch_logs_an_invalid_change_by_file_node_and_field(
        service: DeployService) -> None:
    running = service.engine.flow
    errors: list[str] = []
    logged = asyncio.Event()

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())
            if "ghost" in errors[-1]:
                logged.set()

    handler = Collect(logging.ERROR)
    logging.getLogger("portless.deploy").addHandler(handler)
    watch = asyncio.create_task(service.watch())
    try:
        tab(service).write_text(json.dumps(flow(node("a", wires=[["ghost"]]))))
        await asyncio.wait_for(logged.wait(), 5)
    finally:
        watch.cancel()
        logging.getLogger("portless.deploy").removeHandler(handler)
    assert errors == [
        f"{tab(service)} changed on disk but is not a valid flow, so what runs is "
        f"unchanged (1 error(s) below)",
        f"{tab(service)}: node a: /wires/0/0: wire to missing node 'ghost'"]
    assert service.engine.flow is running
