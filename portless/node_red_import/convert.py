"""An export's nodes into portless flow documents: one per tab, one per subflow (under
subflows/), the shared connections in connections.json; then checked as portless checks
them, and whatever it refuses replaced by a note on the canvas (see checked.py)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from portless.runtime.config import config_references

from .graph import flattened_wires, installed, portless_ids, slug, unique
from .refused import reason
from .report import Entry, Report
from .source import Mapped, NotConvertible, Source
from .subflows import declaration, parameter
from .table import MAPPINGS

CONNECTIONS = "connections.json"
SUBFLOWS = "subflows"
CONFIG_TYPES = {"mqtt-broker", "tls-config", "http proxy", "websocket-listener",
                "websocket-client", "global-config"}
"""Node-RED config nodes: no wires and no place on the canvas."""
FOLDED = {"tls-config": "tls", "http proxy": "proxy"}
"""Config nodes taken into the node that names them (by this key), not written."""
_PLACEHOLDER_CONFIG_LEFT_OUT = {"id", "type", "z", "g", "x", "y", "wires", "credentials",
                                "d", "name", "info"}
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass
class Conversion:
    """The flow files an export becomes (path relative to the output directory ->
    document) and the report of what was done."""

    files: dict[str, dict[str, Any]]
    report: Report


def convert(nodes: Sequence[Mapping[str, Any]], source: str = "<export>") -> Conversion:
    """Convert an export's nodes (as ``read_export`` gives them: shape checked)."""
    converter = _Converter(nodes, source)
    converter.run()
    from .checked import settle  # the portless check of what was made

    settle(converter)
    return converter.conversion()


class _Converter:
    def __init__(self, nodes: Sequence[Mapping[str, Any]], source: str) -> None:
        self.nodes = list(nodes)
        self.raw = {str(node["id"]): node for node in self.nodes}
        self.report = Report(source)
        self.ids = portless_ids(self.raw)
        junctions = {i for i, node in self.raw.items() if node["type"] == "junction"}
        self.wires = flattened_wires(self.raw, junctions)
        self.files: dict[str, dict[str, Any]] = {}
        self.file_of_id: dict[str, str] = {}
        """portless id -> the file its entry is in."""
        self.placeholders: set[str] = set()
        self.origin: dict[str, Mapping[str, Any]] = {}
        """portless id -> the Node-RED node it came from."""
        self.disabled_tabs: set[str] = set()
        self.folded: set[str] = set()
        """The ids of the tls-config and http proxy nodes a converted node took in."""
        self._name_files()

    # --- where each node goes -----------------------------------------------------------
    def _name_files(self) -> None:
        taken = {PurePosixPath(CONNECTIONS).stem}
        self.tab_files: dict[str, str] = {}
        for node in self.nodes:
            if node["type"] == "tab":
                stem = unique(slug(str(node.get("label") or ""), "tab-" + slug(
                    str(node["id"]), "flow")), taken)
                self.tab_files[str(node["id"])] = f"{stem}.json"
                if node.get("disabled") is True:
                    self.disabled_tabs.add(str(node["id"]))
                document: dict[str, Any] = {"version": 1, "nodes": []}
                if node.get("label"):
                    document["name"] = str(node["label"])
                self.files[f"{stem}.json"] = document
        stem = unique(slug(PurePosixPath(self.report.source).stem, "flow"), taken)
        self.default_file = f"{stem}.json"
        """Where nodes of no tab in the export go (an export of a selection)."""
        taken_subflows: set[str] = set()
        self.subflow_files: dict[str, str] = {}
        for node in self.nodes:
            if node["type"] == "subflow":
                stem = unique(slug(str(node.get("name") or ""), "subflow"), taken_subflows)
                self.subflow_files[str(node["id"])] = f"{SUBFLOWS}/{stem}.json"
                self.files[f"{SUBFLOWS}/{stem}.json"] = {
                    "version": 1, "name": str(node.get("name") or stem), "subflow": {},
                    "nodes": []}

    def _file_for(self, node: Mapping[str, Any]) -> str:
        tab = str(node.get("z") or "")
        if tab in self.tab_files:
            return self.tab_files[tab]
        if tab in self.subflow_files:
            return self.subflow_files[tab]
        self.files.setdefault(self.default_file, {"version": 1, "nodes": []})
        return self.default_file

    # --- conversion ---------------------------------------------------------------------
    def run(self) -> None:
        for node in self.nodes:
            kind = node["type"]
            if kind in ("tab", "subflow"):
                self._structure_notes(node)
            elif kind in ("group", "junction"):
                self.report.flattened[kind] += 1
            elif kind in CONFIG_TYPES or ("wires" not in node and "x" not in node):
                self._config_node(node)
            else:
                self._flow_node(node)
        for node_id, node in self.raw.items():
            if node["type"] not in FOLDED:
                continue
            if node_id in self.folded:
                self.report.converted[str(node["type"])] += 1
            else:
                self.refuse(node, "used by no converted node; portless keeps these "
                                  "settings in the node that uses them")
        self._finish_wires()
        for sf_id, path in self.subflow_files.items():
            source = Source(self.raw[sf_id])
            declared = declaration(source, self.raw[sf_id], self._inner)
            declared["parameters"]["properties"].update(self._connection_parameters(path))
            self.files[path]["subflow"] = declared
            self._remember(self.raw[sf_id], source.notes)

    def _connection_parameters(self, path: str) -> dict[str, Any]:
        """A subflow's inner nodes using a connection of the flow (an mqtt-broker outside
        it, shared by every instance as in Node-RED) name it through a parameter marked
        x-ref, which is how a portless subflow uses the flow's connections; its default is
        the connection the Node-RED flow used."""
        parameters: dict[str, Any] = {}
        for entry in self.files[path]["nodes"]:
            cls = installed().get(entry["type"])
            if cls is None or entry["id"] in self.placeholders:
                continue
            for pointer, wanted, target in list(config_references(cls.schema,
                                                                  entry["config"])):
                if self.file_of_id.get(target) != CONNECTIONS:
                    continue
                name = re.sub(r"[^A-Za-z0-9_]", "_", f"{wanted}_{target}")
                parameters[name] = {"title": f"{wanted} (imported: {target})",
                                    "type": "string", "x-ref": wanted, "default": target}
                _set(entry["config"], pointer, "${" + name + "}")
        return parameters

    def _structure_notes(self, node: Mapping[str, Any]) -> None:
        if node["type"] == "tab" and node.get("env"):
            self.report.approximated.append(self._entry(
                node, "the tab's environment variables are not converted: set them in "
                      "the environment"))
        if node["type"] == "tab" and node.get("disabled") is True:
            self.report.approximated.append(self._entry(
                node, "the tab is disabled: its nodes are written disabled"))

    def _config_node(self, node: Mapping[str, Any]) -> None:
        if node["type"] in FOLDED:
            return  # folded into the node that uses it
        if node["type"] != "mqtt-broker":
            self.refuse(node, reason(node["type"]))
            return
        source = self._source(node)
        try:
            mapped = MAPPINGS["mqtt-broker"](source)
        except NotConvertible as exc:
            self.refuse(node, str(exc))
            return
        entry = self._entry_of(node, mapped)
        self.files.setdefault(CONNECTIONS, {"version": 1, "name": "Connections",
                                            "nodes": []})["nodes"].append(entry)
        self.file_of_id[entry["id"]] = CONNECTIONS
        self._converted(node, source.notes, mapped)

    def _flow_node(self, node: Mapping[str, Any]) -> None:
        kind = str(node["type"])
        file = self._file_for(node)
        source = self._source(node, in_subflow=file.startswith(SUBFLOWS + "/"))
        try:
            if kind.startswith("subflow:"):
                mapped = self._instance(source)
            elif kind in MAPPINGS:
                mapped = MAPPINGS[kind](source)
            else:
                raise NotConvertible(reason(kind))
        except NotConvertible as exc:
            self._place(file, self.placeholder(node, str(exc)))
            return
        entry = self._entry_of(node, mapped)
        entry["wires"] = [[self.ids[target] for target in port]
                          for port in self.wires.get(str(node["id"]), [])]
        self._place(file, entry)
        self._converted(node, source.notes, mapped)

    def _instance(self, source: Source) -> Mapped:
        subflow = source.type.removeprefix("subflow:")
        if subflow not in self.subflow_files:
            raise NotConvertible("its subflow's definition is not in the export")
        config = {}
        for entry in source.items("env"):
            name, schema = parameter(source, entry)
            config[name] = schema["default"]
        return Mapped("subflow:" + PurePosixPath(self.subflow_files[subflow]).stem, config)

    def _source(self, node: Mapping[str, Any], in_subflow: bool = False) -> Source:
        return Source(node, ids=lambda node_id: self.ids.get(node_id) or node_id,
                      in_subflow=in_subflow, lookup=self.raw.get)

    def _entry_of(self, node: Mapping[str, Any], mapped: Mapped) -> dict[str, Any]:
        entry: dict[str, Any] = {"id": self.ids[str(node["id"])], "type": mapped.type}
        if node.get("name"):
            entry["name"] = str(node["name"])
        if self._disabled(node) or mapped.kept_disabled or mapped.disabled:
            entry["disabled"] = True
        entry["config"] = mapped.config
        for key in ("x", "y"):
            if key in node:
                entry[key] = node[key]
        self.origin[entry["id"]] = node
        return entry

    def _disabled(self, node: Mapping[str, Any]) -> bool:
        return node.get("d") is True or str(node.get("z")) in self.disabled_tabs

    def _place(self, file: str, entry: dict[str, Any]) -> None:
        self.files[file]["nodes"].append(entry)
        self.file_of_id[entry["id"]] = file

    def _converted(self, node: Mapping[str, Any], notes: list[str], mapped: Mapped) -> None:
        self.folded.update(str(node[key]) for key in FOLDED.values() if node.get(key))
        if mapped.kept_disabled:
            self.report.kept_disabled.append(self._entry(node, mapped.kept_disabled))
        else:
            self.report.converted[str(node["type"])] += 1
        self._remember(node, notes)

    def _remember(self, node: Mapping[str, Any], notes: list[str]) -> None:
        self.report.approximated += [self._entry(node, note) for note in notes]

    def _entry(self, node: Mapping[str, Any], text: str) -> Entry:
        return Entry(str(node["id"]), str(node["type"]),
                     str(node.get("name") or node.get("label") or ""), text)

    def refuse(self, node: Mapping[str, Any], why: str) -> None:
        self.report.refused.append(self._entry(node, why))

    def placeholder(self, node: Mapping[str, Any], why: str) -> dict[str, Any]:
        """A comment where a node could not be converted: what it was, why, and its
        Node-RED settings (credentials never), so nothing vanishes from the canvas."""
        self.refuse(node, why)
        settings = {key: value for key, value in node.items()
                    if key not in _PLACEHOLDER_CONFIG_LEFT_OUT}
        name = f"not converted: {node['type']}" + (f" '{node['name']}'" if node.get("name")
                                                    else "")
        text = (f"Node-RED's {node['type']} node {node['id']} was not converted: {why}."
                + (" Its wires were dropped." if any(self.wires.get(str(node["id"]), []))
                   else "")
                + "\n\nIts Node-RED settings:\n\n```json\n"
                + json.dumps(settings, indent=2, ensure_ascii=False) + "\n```\n")
        entry: dict[str, Any] = {"id": self.ids[str(node["id"])], "type": "comment",
                                 "name": name, "config": {"text": text}}
        for key in ("x", "y"):
            if key in node:
                entry[key] = node[key]
        self.placeholders.add(entry["id"])
        self.origin[entry["id"]] = node
        return entry

    def _finish_wires(self) -> None:
        """Wires only between converted nodes of one file; no empty ports at the end."""
        for file, document in self.files.items():
            for entry in document["nodes"]:
                if "wires" not in entry:
                    continue
                ports = [[target for target in port if target not in self.placeholders
                          and self.file_of_id.get(target) == file]
                         for port in entry["wires"]]
                while ports and not ports[-1]:
                    ports.pop()
                entry["wires"] = ports
                if not ports:
                    del entry["wires"]

    def _inner(self, node_id: str, as_input: bool) -> str | None:
        """The portless id of a converted inner node (one with an input when
        ``as_input``: a subflow's input feeds it), else None."""
        found = self.ids.get(node_id)
        if found is None or found in self.placeholders or found not in self.file_of_id:
            return None
        kind = next(entry["type"] for entry in self.files[self.file_of_id[found]]["nodes"]
                    if entry["id"] == found)
        cls = installed().get(kind)
        if as_input and cls is not None and cls.inputs == 0:
            return None
        return found

    def conversion(self) -> Conversion:
        files = {path: document for path, document in self.files.items()
                 if document["nodes"] or "subflow" in document}
        self.report.files = sorted(files)
        self.report.environment = sorted({name for document in files.values()
                                          for name in _ENV.findall(json.dumps(document))
                                          if not _is_parameter(name, files)})
        return Conversion(files, self.report)


def _set(config: dict[str, Any], pointer: str, value: Any) -> None:
    """Set the value a JSON pointer (as config_references gives it) names."""
    *parents, last = pointer.split("/")[1:]
    holder: Any = config
    for part in parents:
        holder = holder[int(part)] if isinstance(holder, list) else holder[part]
    holder[int(last) if isinstance(holder, list) else last] = value


def _is_parameter(name: str, files: Mapping[str, Mapping[str, Any]]) -> bool:
    """Is ``${name}`` a subflow parameter (filled in by the instance) somewhere?"""
    return any(name in document.get("subflow", {}).get("parameters", {}).get("properties", {})
               for document in files.values())
