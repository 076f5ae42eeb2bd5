"""The converted files checked as ``portless validate --tabs`` checks them, until they
pass: what the check refuses is mended where that keeps the node (a wire from a port the
node lacks, a link to a node not in the export, a node using a disabled connection is
disabled too) and otherwise replaced by a note on the canvas, reported as not
converted. So the files written always validate."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from portless.runtime import FlowError, FlowInvalid, check_flow
from portless.runtime.subflow_files import with_subflow
from portless.runtime.tabs import check_tabs

from .convert import SUBFLOWS
from .graph import installed

if TYPE_CHECKING:
    from .convert import _Converter

ROUNDS = 100
"""A mend can reveal another problem (a placeholder leaves a wire to nowhere); each
round mends all that the check found, and a flow settles within a few."""
_DECLARED = re.compile(r"^/subflow/(input)/(\d+)$|^/subflow/(outputs)/(\d+)/(\d+)(/\w+)?$")


def settle(converter: _Converter) -> None:
    """Check and mend until the files are valid."""
    for _ in range(ROUNDS):
        errors = _errors(converter)
        if not errors:
            return
        mended: set[tuple[str, str | None]] = set()
        for error in errors:  # one per node a round: a mend moves the places after it
            if (error.file, error.node_id) not in mended:
                mended.add((error.file, error.node_id))
                _mend(converter, error)
    raise RuntimeError("the importer could not make valid flow files: "
                       + "; ".join(map(str, _errors(converter))))


def _errors(converter: _Converter) -> list[FlowError]:
    registry = installed().copy()
    subflows = {path: document for path, document in converter.files.items()
                if path.startswith(SUBFLOWS + "/")}
    errors: list[FlowError] = []
    for path, document in subflows.items():
        try:
            registry = with_subflow(registry, Path(path), document)
        except FlowInvalid as exc:
            errors += exc.errors
    for path, document in subflows.items():
        errors += _check(lambda document=document, path=path: check_flow(
            document, registry, path, resolve_env=False))
    if errors:  # an instance's errors follow from its subflow's: mend that first
        return errors
    tabs = {Path(path): document for path, document in converter.files.items()
            if path not in subflows}
    return _check(lambda: check_tabs(tabs, registry, resolve_env=False))


def _check(run: Any) -> list[FlowError]:
    try:
        run()
    except FlowInvalid as exc:
        return list(exc.errors)
    return []


def _mend(converter: _Converter, error: FlowError) -> None:
    document = converter.files.get(error.file)
    if document is None:
        raise RuntimeError(f"the importer made an invalid file: {error}")
    if error.node_id is None:
        _mend_declaration(document, error)
        return
    entry = next((node for node in document["nodes"] if node["id"] == error.node_id), None)
    if entry is None or entry["id"] in converter.placeholders:
        raise RuntimeError(f"the importer made an invalid file: {error}")
    node = converter.origin[entry["id"]]
    wire = re.match(r"^/wires/(\d+)(?:/(\d+))?$", error.pointer)
    link = re.match(r"^/config/links/(\d+)$", error.pointer)
    if wire and not error.inner:
        port = int(wire[1])
        if wire[2] is None:
            del entry["wires"][port:]
        else:
            entry["wires"][port][int(wire[2])] = None
        entry["wires"] = [[t for t in each if t is not None] for each in entry["wires"]]
        while entry["wires"] and not entry["wires"][-1]:
            entry["wires"].pop()
        if not entry["wires"]:
            del entry["wires"]
        converter.report.approximated.append(converter._entry(
            node, f"a wire was dropped: {error.message}"))
    elif link and entry["type"] == "link-out" and not error.inner:
        entry["config"]["links"][int(link[1])] = None
        entry["config"]["links"] = [each for each in entry["config"]["links"] if each]
        converter.report.approximated.append(converter._entry(
            node, f"a link was dropped: {error.message}"))
    elif "which is disabled" in error.message and not entry.get("disabled"):
        entry["disabled"] = True
        converter.report.approximated.append(converter._entry(
            node, f"written disabled: it {error.message.split(';')[0]}"))
    else:
        _replace(converter, document, entry, node, error)


def _replace(converter: _Converter, document: dict[str, Any], entry: dict[str, Any],
             node: Any, error: FlowError) -> None:
    """Put a placeholder note where the node was, and cut the wires into it."""
    kind = str(node["type"])
    converted = converter.report.converted
    if converted[kind] > 1:
        converted[kind] -= 1
    else:
        converted.pop(kind, None)
    converter.report.kept_disabled = [e for e in converter.report.kept_disabled
                                      if e.node_id != node["id"]]
    where = f" ({error.inner})" if error.inner else ""
    pointer = f"{error.pointer}: " if error.pointer else ""
    replacement = converter.placeholder(node, f"portless refused what it became{where}: "
                                              f"{pointer}{error.message}")
    document["nodes"][document["nodes"].index(entry)] = replacement
    for other in document["nodes"]:
        if "wires" in other:
            other["wires"] = [[t for t in port if t != entry["id"]] for port in other["wires"]]


def _mend_declaration(document: dict[str, Any], error: FlowError) -> None:
    """A subflow's input or output naming an inner node that cannot take it: left out."""
    found = _DECLARED.match(error.pointer)
    declared = document.get("subflow", {})
    if not found:
        raise RuntimeError(f"the importer made an invalid subflow: {error}")
    if found[1]:
        declared["input"][int(found[2])] = None
        declared["input"] = [each for each in declared["input"] if each is not None]
    else:
        port = declared["outputs"][int(found[4])]
        port[int(found[5])] = None
        declared["outputs"][int(found[4])] = [each for each in port if each is not None]
