"""The editor's tabs API: every flow file of the process, read and deployed by name
with its own ETag, added and deleted as files, behind the same guard as every route."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from quart.typing import TestClientProtocol as Client

from portless.editor.app import create_app
from portless.editor.flows import FlowService
from portless.editor.stream import Hub
from portless.runtime import DeployService, Engine, EventBus, Registry, canonical_text
from tests.editor.conftest import BEARER, HOST, ORIGIN, PORT, TOKEN
from tests.editor.test_security import signed_in

NETWORK: dict[str, Any] = {"version": 1, "name": "Network", "nodes": [
    {"id": "plant", "type": "mqtt-broker",
     "config": {"host": "127.0.0.1", "port": 1, "password": "s3cret-pw",
                "reconnect_min_delay": 60}}]}
VALVE: dict[str, Any] = {"version": 1, "name": "Valve", "nodes": [
    {"id": "rate", "type": "io-in", "config": {"interval": 3600}, "wires": [["publish"]]},
    {"id": "publish", "type": "mqtt-out", "config": {"broker": "plant", "topic": "v/rate"}}]}
SPARE: dict[str, Any] = {"version": 1, "nodes": [{"id": "show", "type": "debug"}]}


@dataclass
class Tabs:
    client: Client
    engine: Engine
    directory: Path


@pytest.fixture
async def tabs(tmp_path: Path) -> AsyncIterator[Tabs]:
    directory = tmp_path / "flows"
    directory.mkdir()
    for name, document in (("network", NETWORK), ("spare", SPARE), ("valve", VALVE)):
        (directory / f"{name}.json").write_text(json.dumps(document, indent=2))
    registry = Registry.discover()
    engine = Engine(registry, events=EventBus(), state_dir=tmp_path / "state")
    deploys = DeployService(engine, registry, sorted(directory.glob("*.json")))
    deploys.load()
    await deploys.start()
    hub = Hub(engine.events)
    app = create_app(FlowService(deploys.tabs[0], engine, registry, None, deploys), hub,
                     port=PORT, token=TOKEN)
    try:
        yield Tabs(app.test_client(), engine, directory)
    finally:
        hub.shutdown()
        await engine.stop()


async def etag_of(tabs: Tabs, name: str) -> str:
    response = await tabs.client.get(f"/api/tabs/{name}", headers=BEARER)
    assert response.status_code == 200
    return str(response.headers["ETag"])


async def test_the_tabs_are_listed_in_order_with_their_labels_and_etags(tabs: Tabs) -> None:
    listed = (await (await tabs.client.get("/api/tabs", headers=BEARER)).get_json())["tabs"]
    assert [(tab["name"], tab["label"]) for tab in listed] == [
        ("network", "Network"), ("spare", ""), ("valve", "Valve")]
    assert listed[2]["file"] == str(tabs.directory / "valve.json")
    assert listed[2]["etag"] == await etag_of(tabs, "valve")


async def test_the_listing_names_each_tabs_connections(tabs: Tabs) -> None:
    """What the page needs to accept a reference into another tab (valve -> plant)."""
    listed = (await (await tabs.client.get("/api/tabs", headers=BEARER)).get_json())["tabs"]
    assert [tab["connections"] for tab in listed] == [
        [{"id": "plant", "type": "mqtt-broker"}], [], []]


async def test_a_tab_is_read_masked_and_deployed_alone(tabs: Tabs) -> None:
    response = await tabs.client.get("/api/tabs/network", headers=BEARER)
    assert "s3cret-pw" not in await response.get_data(as_text=True)
    etag = await etag_of(tabs, "valve")
    changed = json.loads(json.dumps(VALVE))
    changed["nodes"][0]["config"]["interval"] = 60
    deployed = await tabs.client.put("/api/tabs/valve", json=changed,
                                     headers={**BEARER, "If-Match": etag})
    assert deployed.status_code == 200
    report = await deployed.get_json()
    assert report["started"] == ["rate"]
    assert sorted(report["unchanged"]) == ["plant", "publish", "show"]
    assert (tabs.directory / "valve.json").read_text() == canonical_text(changed)
    assert json.loads((tabs.directory / "network.json").read_text()) == NETWORK
    assert report["etag"] == await etag_of(tabs, "valve")
    # The ETag is the file's: the old one no longer fits, the other tabs' never did.
    stale = await tabs.client.put("/api/tabs/valve", json=changed,
                                  headers={**BEARER, "If-Match": etag})
    assert stale.status_code == 412


async def test_a_tab_is_renamed_by_deploying_its_label(tabs: Tabs) -> None:
    renamed = {**SPARE, "name": "Debugging"}
    response = await tabs.client.put("/api/tabs/spare", json=renamed, headers={
        **BEARER, "If-Match": await etag_of(tabs, "spare")})
    assert (await response.get_json())["stopped"] == []  # nothing that runs changed
    listed = (await (await tabs.client.get("/api/tabs", headers=BEARER)).get_json())["tabs"]
    assert listed[1]["label"] == "Debugging"


async def test_a_tab_is_added_as_a_new_file_beside_the_others(tabs: Tabs) -> None:
    response = await tabs.client.post("/api/tabs", json={"name": "pumps", "label": "Pumps"},
                                      headers=BEARER)
    assert response.status_code == 201
    assert (await response.get_json())["file"] == str(tabs.directory / "pumps.json")
    assert json.loads((tabs.directory / "pumps.json").read_text()) == {
        "version": 1, "name": "Pumps", "nodes": []}
    added = {"version": 1, "name": "Pumps", "nodes": [
        {"id": "pump", "type": "mqtt-out", "config": {"broker": "plant", "topic": "p"}}]}
    deployed = await tabs.client.put("/api/tabs/pumps", json=added, headers={
        **BEARER, "If-Match": await etag_of(tabs, "pumps")})
    assert (await deployed.get_json())["started"] == ["pump"]  # the connection is shared
    again = await tabs.client.post("/api/tabs", json={"name": "pumps"}, headers=BEARER)
    assert again.status_code == 409


@pytest.mark.parametrize("name", ["../evil", ".hidden", "a/b", "", "x" * 65, 7])
async def test_a_new_tab_name_is_a_plain_file_name(tabs: Tabs, name: Any) -> None:
    response = await tabs.client.post("/api/tabs", json={"name": name}, headers=BEARER)
    assert response.status_code == 400
    assert "becomes the file NAME.json" in (await response.get_json())["error"]
    assert sorted(path.name for path in tabs.directory.iterdir()) == [
        "network.json", "spare.json", "valve.json"]


async def test_a_tab_is_deleted_with_its_file_and_nodes_but_not_the_first(tabs: Tabs) -> None:
    spare = tabs.directory / "spare.json"
    response = await tabs.client.delete("/api/tabs/spare", headers=BEARER)
    assert response.status_code == 428
    response = await tabs.client.delete("/api/tabs/spare", headers={
        **BEARER, "If-Match": await etag_of(tabs, "spare")})
    assert await response.get_json() == {"deleted": "spare", "stopped": ["show"]}
    assert not spare.exists()
    assert "show" not in tabs.engine.nodes
    first = await tabs.client.delete("/api/tabs/network", headers={
        **BEARER, "If-Match": await etag_of(tabs, "network")})
    assert first.status_code == 409
    assert "is the first tab" in (await first.get_json())["error"]


async def test_deleting_a_tab_others_refer_into_says_which_node(tabs: Tabs) -> None:
    # valve.json uses network.json's broker; make network not the first tab first.
    (tabs.directory / "network.json").rename(tabs.directory / "z-network.json")
    registry = Registry.discover()
    await tabs.engine.stop()
    files = sorted(tabs.directory.glob("*.json"))
    deploys = DeployService(tabs.engine, registry, files)
    deploys.load()
    await deploys.start()
    app = create_app(FlowService(files[0], tabs.engine, registry, None, deploys),
                     Hub(tabs.engine.events), port=PORT, token=TOKEN)
    client = app.test_client()
    etag = (await client.get("/api/tabs/z-network", headers=BEARER)).headers["ETag"]
    response = await client.delete("/api/tabs/z-network",
                                   headers={**BEARER, "If-Match": etag})
    assert response.status_code == 409
    valve, network = tabs.directory / "valve.json", tabs.directory / "z-network.json"
    assert (await response.get_json())["errors"] == [
        f"{valve}: node publish: refers to 'plant' in {network}: move the connection into "
        f"another file, or change this node, before deleting {network}"]
    assert network.exists()


async def test_the_tabs_api_is_behind_the_guard(tabs: Tabs) -> None:
    assert (await tabs.client.get("/api/tabs", headers={"Host": HOST})).status_code == 401
    cookie = await signed_in(tabs)  # type: ignore[arg-type]  (it needs only .client)
    foreign = await tabs.client.post("/api/tabs", json={"name": "x"}, headers={
        "Host": HOST, "Cookie": cookie, "Origin": "http://evil.example"})
    assert foreign.status_code == 403
    same = await tabs.client.post("/api/tabs", json={"name": "x"}, headers={
        "Host": HOST, "Cookie": cookie, "Origin": ORIGIN})
    assert same.status_code == 201


async def test_a_tab_is_validated_against_the_others(tabs: Tabs) -> None:
    clash = {"version": 1, "nodes": [{"id": "rate", "type": "debug"}]}
    response = await tabs.client.post("/api/tabs/spare/validate", json=clash, headers=BEARER)
    assert (await response.get_json())["errors"] == [
        f"{tabs.directory / 'spare.json'}: node rate: /id: duplicate id: node 'rate' is also "
        f"in {tabs.directory / 'valve.json'}; node ids are unique across the flow files of "
        f"a process"]
    fine = await tabs.client.post("/api/tabs/spare/validate", json=SPARE, headers=BEARER)
    assert (await fine.get_json())["errors"] == []
