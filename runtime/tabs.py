"""Several flow files in one process, each a tab: checked as a set, run as one flow.

Node ids are unique across the files of a process (a duplicate names both files), so
the engine's deploy, which diffs by id, restarts only what changed in any tab. A node
refers to a shared connection in another file by its id, as within one file (Node-RED's
config nodes are global the same way); wires stay inside their file.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .config import config_references
from .errors import FlowError, FlowInvalid
from .flow import Flow, check_flow, read_flow
from .references import reference_cycle_errors, reference_problem
from .registry import Registry
from .subflow import readable_entry


def flow_files(paths: Sequence[str | Path]) -> list[Path]:
    """The flow files named: a file as it is, a directory as every ``*.json`` in it
    (sorted by name); each file once. Raises FlowInvalid for a directory with none."""
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(child for child in path.glob("*.json") if child.is_file())
            if not found:
                raise FlowInvalid([FlowError(str(path), "a directory of flows, but it "
                                                        "holds no *.json file")])
            files.extend(found)
        else:
            files.append(path)
    resolved: dict[Path, Path] = {}
    for file in files:
        resolved.setdefault(file.resolve(), file)
    return list(resolved.values())


def load_tabs(files: Sequence[Path], registry: Registry, resolve_env: bool = True
              ) -> dict[Path, Flow]:
    """Read and check flow files as the tabs of one process; raises FlowInvalid with
    the errors of every file."""
    documents: dict[Path, dict[str, Any]] = {}
    errors: list[FlowError] = []
    for file in files:
        try:
            documents[file] = read_flow(file)
        except FlowInvalid as exc:
            errors.extend(exc.errors)
    try:
        flows = check_tabs(documents, registry, resolve_env)
    except FlowInvalid as exc:
        errors.extend(exc.errors)
    if errors:
        raise FlowInvalid(errors)
    return flows


def check_tabs(documents: Mapping[Path, dict[str, Any]], registry: Registry,
               resolve_env: bool = True, others: Mapping[Path, Flow] | None = None
               ) -> dict[Path, Flow]:
    """Check each document as a tab of one process; ``others`` are the tabs that run
    and are not being changed. Raises FlowInvalid with every error of every file."""
    others = {tab: flow for tab, flow in (others or {}).items() if tab not in documents}
    # The running tabs first, so that a duplicate id is the changed file's error.
    entries: dict[Path, list[dict[str, Any]]] = {
        tab: flow.document["nodes"] for tab, flow in others.items()}
    entries.update({
        tab: [entry for entry in document.get("nodes", []) if readable_entry(entry)]
        if isinstance(document.get("nodes"), list) else []
        for tab, document in documents.items()})
    errors = _duplicate_ids(entries)
    flows: dict[Path, Flow] = {}
    for tab, document in documents.items():
        shared = {entry["id"]: entry for other, listed in entries.items() if other != tab
                  for entry in listed}
        try:
            flows[tab] = check_flow(document, registry, str(tab), resolve_env=resolve_env,
                                    shared=shared)
        except FlowInvalid as exc:
            errors.extend(exc.errors)
    errors.extend(_broken_references(others, entries, registry))
    if not errors and len(entries) > 1:  # a chain of connections through several files
        errors = reference_cycle_errors(
            [spec for flow in [*flows.values(), *others.values()] for spec in flow.nodes],
            registry)
    if errors:
        raise FlowInvalid(list(dict.fromkeys(errors)))
    return flows


def _duplicate_ids(entries: Mapping[Path, list[dict[str, Any]]]) -> list[FlowError]:
    """A node id written in two files: an error in the later one naming the first."""
    first: dict[str, Path] = {}
    errors = []
    for tab, listed in entries.items():
        for entry in listed:
            seen = first.setdefault(entry["id"], tab)
            if seen != tab:
                errors.append(FlowError(str(tab), f"duplicate id: node '{entry['id']}' is "
                                                  f"also in {seen}; node ids are unique "
                                                  f"across the flow files of a process",
                                        entry["id"], "/id"))
    return errors


def _broken_references(others: Mapping[Path, Flow],
                       entries: Mapping[Path, list[dict[str, Any]]], registry: Registry
                       ) -> list[FlowError]:
    """The references from unchanged tabs into changed ones that no longer hold: a
    deploy of one file cannot take away a connection that another file uses."""
    types = {entry["id"]: entry["type"] for listed in entries.values() for entry in listed}
    errors = []
    for tab, flow in others.items():
        own = {spec.id for spec in flow.nodes}
        for spec in flow.nodes:
            cls = registry.get(spec.type)
            if cls is None or not spec.refs or own.issuperset(spec.refs):
                continue
            for pointer, wanted, target in config_references(cls.schema, spec.config):
                problem = reference_problem(wanted, target, types.get(target))
                if problem:
                    errors.append(FlowError(str(tab), problem, spec.id, f"/config{pointer}"))
    return errors


def run_together(flows: Sequence[Flow]) -> Flow:
    """One flow of several tabs, as the engine runs it (one tab: that tab's flow)."""
    if len(flows) == 1:
        return flows[0]
    return Flow(", ".join(flow.file for flow in flows),
                {"version": 1, "nodes": [entry for flow in flows
                                         for entry in flow.document["nodes"]]},
                tuple(spec for flow in flows for spec in flow.nodes),
                tuple(instance for flow in flows for instance in flow.instances),
                context_stores={tab: store for flow in flows
                                for tab, store in flow.context_stores.items()})


def referring_nodes(tab: Path, flows: Mapping[Path, Flow]) -> list[tuple[Path, str, str]]:
    """(file, node id, connection id) of each node in another tab that refers to a
    shared connection written in ``tab``: that tab cannot go while they remain."""
    own = {spec.id for spec in flows[tab].nodes}
    return [(other, spec.id, ref) for other, flow in flows.items() if other != tab
            for spec in flow.nodes for ref in spec.refs if ref in own]
