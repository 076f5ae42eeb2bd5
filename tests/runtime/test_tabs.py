"""Several flow files in one process (tabs): found, checked as a set, run together,
each deployed, added and deleted as its own file, each with its own state."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from portless.runtime import DeployService, Engine, FlowInvalid, Registry, canonical_text
from portless.runtime.state import StateDirLock, StateDirs, StateLocked
from portless.runtime.tabs import check_tabs, flow_files
from tests.nodetypes import TEST_TYPES

REGISTRY = Registry(TEST_TYPES)


def flow(*nodes: dict[str, Any]) -> dict[str, Any]:
    return {"version": 1, "nodes": list(nodes)}


def node(node_id: str, type_: str = "test-double", config: dict[str, Any] | None = None,
         wires: list[list[str]] | None = None) -> dict[str, Any]:
    return {"id": node_id, "type": type_, "config": config or {}, "wires": wires or []}


CONNECTIONS = flow(node("link", "test-connection"))
USERS = flow(node("user", "test-client", {"connection": "link"}, [["out"]]), node("out"))


def errors_of(documents: dict[Path, dict[str, Any]]) -> list[str]:
    with pytest.raises(FlowInvalid) as invalid:
        check_tabs(documents, REGISTRY)
    return [str(error) for error in invalid.value.errors]


# --- finding and checking ---------------------------------------------------------
def test_a_directory_is_every_json_file_in_it_by_name_each_once(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "notes.txt"):
        (tmp_path / name).write_text("{}")
    assert flow_files([tmp_path, tmp_path / "a.json"]) == [tmp_path / "a.json",
                                                           tmp_path / "b.json"]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FlowInvalid) as invalid:
        flow_files([empty])
    assert str(invalid.value.errors[0]) == \
        f"{empty}: a directory of flows, but it holds no *.json file"


def test_a_connection_in_one_file_is_used_from_another_by_its_id() -> None:
    flows = check_tabs({Path("net.json"): CONNECTIONS, Path("main.json"): USERS}, REGISTRY)
    user = flows[Path("main.json")].spec("user")
    assert user.refs == ("link",)
    assert user.tab == "main.json"


def test_a_node_id_in_two_files_is_an_error_naming_both() -> None:
    assert errors_of({Path("a.json"): flow(node("x")), Path("b.json"): flow(node("x"))}) == [
        "b.json: node x: /id: duplicate id: node 'x' is also in a.json; node ids are "
        "unique across the flow files of a process"]


def test_references_across_files_are_checked_and_wires_stay_in_their_file() -> None:
    errors = errors_of({
        Path("net.json"): flow(node("link", "test-double")),
        Path("main.json"): flow(node("user", "test-client", {"connection": "link"},
                                     [["far"]])),
        Path("other.json"): flow(node("far"))})
    assert errors == [
        "main.json: node user: /wires/0/0: wire to missing node 'far'",
        "main.json: node user: /config/connection: refers to 'link', a test-double, but "
        "must refer to a test-connection"]


def test_a_chain_of_connections_through_two_files_back_to_itself_is_an_error() -> None:
    errors = errors_of({Path("a.json"): flow(node("t1", "test-tunnel", {"via": "t2"})),
                        Path("b.json"): flow(node("t2", "test-tunnel", {"via": "t1"}))})
    assert len(errors) == 1
    assert "a shared connection cannot depend on itself" in errors[0]


# --- running ------------------------------------------------------------------------
@pytest.fixture
async def tabs(tmp_path: Path) -> AsyncIterator[DeployService]:
    (tmp_path / "flows").mkdir()
    (tmp_path / "flows" / "main.json").write_text(json.dumps(USERS))
    (tmp_path / "flows" / "net.json").write_text(json.dumps(CONNECTIONS))
    engine = Engine(REGISTRY)
    states = StateDirs(tmp_path / "state", tmp_path / "flows")
    service = DeployService(engine, REGISTRY, flow_files([tmp_path / "flows"]),
                            states=states)
    service.load()
    service.claim_state()
    await service.start()
    try:
        yield service
    finally:
        await engine.stop()
        states.release_all()


def tab(service: DeployService, name: str) -> Path:
    return next(path for path in service.tabs if path.stem == name)


async def test_a_deploy_of_one_tab_restarts_only_what_changed_in_it(
        tabs: DeployService) -> None:
    link = tabs.engine.nodes["link"]
    changed = flow(node("user", "test-client", {"connection": "link"}, [["out"]]),
                   node("out", config={"factor": 3}))
    outcome = await tabs.deploy(tab(tabs, "main"), changed)
    assert outcome.report.started == ("out",)
    assert tabs.engine.nodes["link"] is link
    assert tab(tabs, "main").read_text() == canonical_text(changed)
    assert json.loads(tab(tabs, "net").read_text()) == CONNECTIONS


async def test_a_changed_connection_restarts_its_users_in_other_tabs(
        tabs: DeployService) -> None:
    outcome = await tabs.deploy(tab(tabs, "net"), flow(node("link", "test-connection",
                                                            {"url": "y"})))
    assert outcome.report.started == ("link", "user")
    assert outcome.report.unchanged == ("out",)


async def test_a_deploy_cannot_drop_a_connection_another_tab_uses(
        tabs: DeployService) -> None:
    with pytest.raises(FlowInvalid) as invalid:
        await tabs.deploy(tab(tabs, "net"), flow())
    assert [str(error) for error in invalid.value.errors] == [
        f"{tab(tabs, 'main')}: node user: /config/connection: refers to missing "
        f"test-connection 'link'"]


async def test_each_tab_keeps_its_nodes_state_in_its_own_locked_directory(
        tabs: DeployService, tmp_path: Path) -> None:
    states = tabs.states
    assert states is not None
    net_state = tabs.engine.tab_state_dirs[str(tab(tabs, "net"))]
    assert tabs.engine.nodes["link"].state_dir == net_state / "link"
    assert tabs.engine.nodes["out"].state_dir.parent == \
        tabs.engine.tab_state_dirs[str(tab(tabs, "main"))]
    with pytest.raises(StateLocked):  # another process running net.json alone
        StateDirLock(net_state).acquire()


async def test_a_tab_is_added_as_a_new_empty_file_and_refused_over_an_existing_one(
        tabs: DeployService) -> None:
    path = tab(tabs, "main").parent / "extra.json"
    await tabs.add_tab(path, "Extra")
    assert json.loads(path.read_text()) == {"version": 1, "name": "Extra", "nodes": []}
    assert path in tabs.tabs
    await tabs.deploy(path, flow(node("more")))
    assert "more" in tabs.engine.nodes
    with pytest.raises(FileExistsError):
        await tabs.add_tab(tab(tabs, "net").parent / "net.json")


async def test_a_tab_is_not_deleted_while_another_uses_its_connection(
        tabs: DeployService) -> None:
    with pytest.raises(FlowInvalid) as invalid:
        await tabs.delete_tab(tab(tabs, "net"))
    net = tab(tabs, "net")
    assert [str(error) for error in invalid.value.errors] == [
        f"{tab(tabs, 'main')}: node user: refers to 'link' in {net}: move the connection "
        f"into another file, or change this node, before deleting {net}"]
    assert net.exists()
    assert "link" in tabs.engine.nodes

    main = tab(tabs, "main")
    outcome = await tabs.delete_tab(main)
    assert outcome.file == "deleted"
    assert set(outcome.report.stopped) == {"user", "out"}
    assert not main.exists()
    assert set(tabs.engine.nodes) == {"link"}
    with pytest.raises(FlowInvalid) as last:
        await tabs.delete_tab(net)
    assert "the only flow file" in str(last.value.errors[0])
